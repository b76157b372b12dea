// Test helper: pickles written opcode by opcode, and raw float storages, for hand-made torch.save archives
// (tests/unit/io/zip_writer.h puts them in a zip): state dicts in the layout PyTorch writes, and malicious or
// damaged ones, without Python.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

namespace rave::test {

// Opcode by opcode, the way Python's pickle (protocol 2) writes them.
struct Pickle {
  std::string bytes = "\x80\x02";
  Pickle& op(const std::string& code) { return bytes += code, *this; }
  Pickle& global(const std::string& module, const std::string& name) { return op("c" + module + "\n" + name + "\n"); }
  Pickle& text(const std::string& s) {
    bytes += 'X';
    for (int i = 0; i < 4; ++i) bytes.push_back(char((s.size() >> (8 * i)) & 0xff));
    return op(s);
  }
  Pickle& small_int(int v) { return op(std::string("K") + char(v)); }
  // Any int64, as LONG1 with 8 bytes (two's complement, little-endian).
  Pickle& integer(int64_t v) {
    if (v >= 0 && v < 256) return small_int(int(v));
    op("\x8a\x08");
    for (int i = 0; i < 8; ++i) bytes.push_back(char((uint64_t(v) >> (8 * i)) & 0xff));
    return *this;
  }
  Pickle& ordered_dict() { return global("collections", "OrderedDict").op(")R"); }
  // _rebuild_tensor_v2(('storage', FloatStorage, key, 'cuda:0', numel), offset, size, stride, False, OrderedDict())
  Pickle& tensor(const std::string& key, int64_t numel, int64_t offset, std::vector<int64_t> size,
                 std::vector<int64_t> stride) {
    global("torch._utils", "_rebuild_tensor_v2").op("((").text("storage").global("torch", "FloatStorage");
    text(key).text("cuda:0").integer(numel).op("tQ").integer(offset).op("(");
    for (int64_t s : size) integer(s);
    op("t(");
    for (int64_t s : stride) integer(s);
    return op("t\x89").ordered_dict().op("tR");
  }
  std::string stop() const { return bytes + "."; }
};

// The bytes of a float32 storage holding `values`.
inline std::string floats(std::vector<float> values) {
  std::string out(values.size() * sizeof(float), '\0');
  std::memcpy(out.data(), values.data(), out.size());
  return out;
}

}  // namespace rave::test

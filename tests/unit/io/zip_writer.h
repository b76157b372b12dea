// Test helper: writes small zip archives with stored entries laid out like torch.save's (data aligned to 64
// bytes through a padding extra field), so tests can build checkpoints in the newer layout, hand-made
// pickles (malicious ones included) and damaged files without Python.
#pragma once

#include <zlib.h>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace rave::test {

class ZipWriter {
 public:
  void add(std::string name, std::string data) { entries_.emplace_back(std::move(name), std::move(data)); }

  std::string bytes() const {
    std::string out, directory;
    for (const auto& [name, data] : entries_) {
      const uint32_t crc = uint32_t(crc32(0L, reinterpret_cast<const Bytef*>(data.data()), uInt(data.size())));
      const size_t header_offset = out.size();
      // PyTorch pads the local header with an extra field ("FB") so that the data starts at a multiple of 64.
      const size_t unpadded = out.size() + 30 + name.size() + 4;
      const size_t padding = (64 - unpadded % 64) % 64;
      std::string extra = "FB";
      put(extra, padding, 2);
      extra.append(padding, 'Z');
      put(out, 0x04034b50, 4);
      put(out, 20, 2);
      put(out, 0, 2);  // flags
      put(out, 0, 2);  // stored
      put(out, 0, 4);  // time, date
      put(out, crc, 4);
      put(out, data.size(), 4);
      put(out, data.size(), 4);
      put(out, name.size(), 2);
      put(out, extra.size(), 2);
      out += name + extra + data;

      put(directory, 0x02014b50, 4);
      put(directory, 20, 2);
      put(directory, 20, 2);
      put(directory, 0, 2);
      put(directory, 0, 2);
      put(directory, 0, 4);
      put(directory, crc, 4);
      put(directory, data.size(), 4);
      put(directory, data.size(), 4);
      put(directory, name.size(), 2);
      put(directory, 0, 2);   // extra
      put(directory, 0, 2);   // comment
      put(directory, 0, 2);   // disk
      put(directory, 0, 2);   // internal attributes
      put(directory, 0, 4);   // external attributes
      put(directory, header_offset, 4);
      directory += name;
    }
    const size_t directory_offset = out.size();
    out += directory;
    put(out, 0x06054b50, 4);
    put(out, 0, 4);  // disk numbers
    put(out, entries_.size(), 2);
    put(out, entries_.size(), 2);
    put(out, directory.size(), 4);
    put(out, directory_offset, 4);
    put(out, 0, 2);  // comment
    return out;
  }

 private:
  static void put(std::string& out, uint64_t value, int width) {
    for (int i = 0; i < width; ++i) out.push_back(char((value >> (8 * i)) & 0xff));
  }

  std::vector<std::pair<std::string, std::string>> entries_;
};

}  // namespace rave::test

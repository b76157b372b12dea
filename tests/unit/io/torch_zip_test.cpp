// Import of PyTorch zip checkpoints: the published enhancer files, the newer zip layout, and hand-written
// pickles that a state-dict reader must refuse (code references, non-tensor objects, damaged data).
#include "io/torch_zip.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cstring>
#include <fstream>

#include "core/error.h"
#include "io/zip.h"
#include "tests/support/test_support.h"
#include "tests/unit/io/pickle_writer.h"
#include "tests/unit/io/zip_writer.h"

namespace rave::io {
namespace {

using test::floats;
using test::Pickle;

void write_file(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary).write(bytes.data(), std::streamsize(bytes.size()));
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

// A torch.save archive holding `pickle` and storage data/0 = [1, 2, 3, 4, 5, 6].
std::string archive(const std::string& pickle, const std::string& storage = floats({1, 2, 3, 4, 5, 6})) {
  test::ZipWriter zip;
  zip.add("archive/data.pkl", pickle);
  zip.add("archive/data/0", storage);
  zip.add("archive/version", "3\n");
  return zip.bytes();
}

// Expects read_torch_state_dict to throw an IoError whose message contains `message`.
void expect_refused(const std::string& bytes, const std::string& message) {
  test::ScratchDir dir;
  const std::string path = (dir / "bad.pth").string();
  write_file(path, bytes);
  try {
    read_torch_state_dict(path);
    ADD_FAILURE() << "accepted; expected an error containing: " << message;
  } catch (const IoError& e) {
    EXPECT_NE(std::string(e.what()).find(message), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << "error does not name the file: " << e.what();
  }
}

void expect_pickle_refused(const std::string& pickle, const std::string& message) {
  expect_refused(archive(pickle), message);
}

TEST(TorchZip, HandWrittenStateDictWithStridesAndOffsets) {
  test::ScratchDir dir;
  const std::string path = (dir / "ok.pth").string();
  // "t" is the transposed 2x2 view starting at element 1; "v" a vector sharing the same storage.
  write_file(path, archive(Pickle().ordered_dict().op("(").text("t").tensor("0", 6, 1, {2, 2}, {1, 2})
                                .text("v").tensor("0", 6, 0, {6}, {1}).op("u").stop()));
  const NamedTensors tensors = read_torch_state_dict(path);
  ASSERT_EQ(tensors.size(), 2u);
  EXPECT_EQ(tensors[0].first, "t");
  EXPECT_TRUE(torch::equal(tensors[0].second, torch::tensor({{2.f, 4.f}, {3.f, 5.f}})));
  EXPECT_TRUE(tensors[0].second.is_contiguous());
  EXPECT_TRUE(torch::equal(tensors[1].second, torch::tensor({1.f, 2.f, 3.f, 4.f, 5.f, 6.f})));
  EXPECT_TRUE(tensors[1].second.device().is_cpu());  // saved as cuda:0
}

TEST(TorchZip, RefusesCodeAndNonTensorObjects) {
  // The classic exploit: os.system("...") through REDUCE.
  expect_pickle_refused(Pickle().global("os", "system").text("touch /tmp/pwned").op("\x85R").stop(), "'os.system'");
  // Protocol-4 spelling of a global.
  expect_pickle_refused(Pickle().text("builtins").text("eval").op("\x93").text("1").op("\x85R").stop(),
                        "'builtins.eval'");
  expect_pickle_refused(Pickle().ordered_dict().text("w").global("torch", "load").op("s").stop(), "'torch.load'");
  // Non-tensor values, and something that is not a dict at all.
  expect_pickle_refused(Pickle().ordered_dict().text("epoch").small_int(3).op("s").stop(), "entry 'epoch' is a int");
  expect_pickle_refused(Pickle().op("}").text("nested").op("}s").stop(), "entry 'nested' is a dict");
  expect_pickle_refused(Pickle().op("]").stop(), "holds a list, not a state dict");
  // An opcode outside the accepted set (INST builds arbitrary class instances).
  expect_pickle_refused(Pickle().op("ios\nsystem\n").stop(), "unsupported pickle opcode 0x69");
  // BUILD on a tensor would call __setstate__ in Python.
  expect_pickle_refused(Pickle().ordered_dict().text("t").tensor("0", 6, 0, {6}, {1}).op("}b").op("s").stop(),
                 "BUILD on a tensor");
}

// 200,000 lists, each appended to the one below it: a 400 KB pickle nested 200,000 deep. Refused (it is not a
// dict), and tearing it down must not overflow the stack.
TEST(TorchZip, RefusesDeeplyNestedContainersWithoutCrashing) {
  constexpr int kDepth = 200000;
  Pickle deep;
  deep.bytes += std::string(kDepth, ']') + std::string(kDepth - 1, 'a');
  expect_pickle_refused(deep.stop(), "holds a list, not a state dict");
  // The same depth of tuples inside a dict value.
  Pickle tuples;
  tuples.op("}").text("deep").op(")");
  for (int i = 0; i < kDepth; ++i) tuples.op("\x85");
  expect_pickle_refused(tuples.op("s").stop(), "entry 'deep' is a tuple");
}

TEST(TorchZip, RefusesInconsistentTensors) {
  // A view reaching past the end of its storage must not read foreign memory.
  expect_pickle_refused(Pickle().ordered_dict().text("t").tensor("0", 6, 4, {3}, {1}).op("s").stop(),
                 "beyond the end of its storage");
  // The pickle claims 6 floats; the entry holds 5.
  expect_refused(archive(Pickle().ordered_dict().text("t").tensor("0", 6, 0, {6}, {1}).op("s").stop(),
                         floats({1, 2, 3, 4, 5})),
                 "storage 'archive/data/0' holds 20 bytes, expected 6 elements of 4 bytes");
  expect_pickle_refused(Pickle().ordered_dict().text("t").tensor("1", 6, 0, {6}, {1}).op("s").stop(),
                 "missing zip entry 'archive/data/1'");
  expect_pickle_refused(Pickle().ordered_dict().text("t").op("h\x07s").stop(), "memo 7 unset");
  expect_pickle_refused(Pickle().ordered_dict().text("t").bytes, "truncated pickle");
}

// Sizes and strides whose products overflow int64 or exceed the storage: an IoError naming the file and the tensor,
// never a wrapped index, an allocation of exabytes or an internal error.
TEST(TorchZip, RefusesOverflowingSizesAndStrides) {
  constexpr int64_t kHuge = int64_t(1) << 62;
  const auto dict_of = [](int64_t numel, int64_t offset, std::vector<int64_t> size, std::vector<int64_t> stride) {
    return Pickle().ordered_dict().text("t").tensor("0", numel, offset, size, stride).op("s").stop();
  };
  // 2^62 floats are 2^64 bytes: the byte count wraps to 0, which an empty entry matched.
  expect_refused(archive(dict_of(kHuge, 0, {1}, {1}), ""),
                 "storage 'archive/data/0' holds 0 bytes, expected 4611686018427387904 elements of 4 bytes");
  expect_pickle_refused(dict_of(-1, 0, {1}, {1}), "storage '0' of negative size -1");
  // (3 - 1) * 2^62 wraps to a negative index that passed the bounds check.
  expect_pickle_refused(dict_of(6, 0, {3}, {kHuge}), "tensor 't' reaches beyond the end of its storage '0'");
  expect_pickle_refused(dict_of(6, kHuge, {2}, {1}), "tensor 't' reaches beyond the end of its storage");
  // Empty, yet its other sizes multiply past int64.
  expect_pickle_refused(dict_of(6, 0, {0, int64_t(1) << 40, int64_t(1) << 40}, {1, 1, 1}),
                        "tensor 't' has too many elements");
  // Zero strides make 2^40 elements of one: a copy of 4 TiB.
  expect_pickle_refused(dict_of(6, 0, {int64_t(1) << 20, int64_t(1) << 20}, {0, 0}),
                        "tensor 't' has 1099511627776 elements, more than its storage '0' holds (6)");
  // Empty tensors of sane sizes stay accepted.
  test::ScratchDir dir;
  const std::string path = (dir / "empty.pth").string();
  write_file(path, archive(dict_of(6, 0, {0, 3}, {3, 1})));
  const NamedTensors tensors = read_torch_state_dict(path);
  ASSERT_EQ(tensors.size(), 1u);
  EXPECT_EQ(tensors[0].second.sizes(), torch::IntArrayRef({0, 3}));
}

// A list that contains itself through the memo: refused, and released (the fuzz targets run with LeakSanitizer).
TEST(TorchZip, RefusesSelfContainingList) {
  // EMPTY_LIST, MEMOIZE (as 0), BINGET 0, APPEND.
  expect_pickle_refused(Pickle().op("]\x94h").op(std::string(1, '\0')).op("a").stop(), "holds a list, not a state dict");
}

TEST(TorchZip, RefusesDamagedArchives) {
  expect_refused("not a zip at all, just some text that is long enough", "not a zip archive");
  test::ZipWriter no_pickle;
  no_pickle.add("model/constants.pkl", "x");
  expect_refused(no_pickle.bytes(), "no <name>/data.pkl");
  // Pickle opcodes written raw (without a zip around them) are not a checkpoint either.
  expect_refused(Pickle().ordered_dict().stop(), "not a zip archive");
  std::string good = archive(Pickle().ordered_dict().text("v").tensor("0", 6, 0, {6}, {1}).op("s").stop());
  std::string flipped = good;
  flipped[good.find(floats({1, 2, 3, 4, 5, 6}))] ^= 0x40;
  expect_refused(flipped, "CRC-32 mismatch in zip entry 'archive/data/0'");
  expect_refused(good.substr(0, good.size() / 2), "not a zip archive");
}

void expect_published_layout(const NamedTensors& tensors) {
  ASSERT_EQ(tensors.size(), 30u);
  // File order = storage order (ALGORITHMS §2.6).
  EXPECT_EQ(tensors[0].first, "module.cond1.weight");
  EXPECT_EQ(tensors[3].first, "module.cond_add1.bias");
  EXPECT_EQ(tensors[20].first, "module.PPM1.features.0.1.weight");
  EXPECT_EQ(tensors[29].first, "module.PPM1.fuse.1.weight");
  EXPECT_EQ(tensors[0].second.sizes(), torch::IntArrayRef({32, 3, 3, 3}));
  EXPECT_EQ(tensors[12].second.sizes(), torch::IntArrayRef({64, 64, 3, 3}));
  int64_t total = 0;
  for (const auto& [name, tensor] : tensors) {
    EXPECT_EQ(tensor.scalar_type(), torch::kFloat32) << name;
    EXPECT_TRUE(tensor.device().is_cpu()) << name;
    total += tensor.numel();
  }
  EXPECT_EQ(total, 278790);
}

TEST(TorchZip, PublishedCheckpoints) {
  RAVE_REQUIRE_FIXTURES();
  for (const char* name : {"rave_paired.pth", "rave_unpaired.pth", "clip_lit_paired.pth", "clip_lit_latent_paired.pth",
                           "enhancement_model.pth"}) {
    SCOPED_TRACE(name);
    expect_published_layout(read_torch_state_dict(test::fixture("enhancer", name)));
  }
  // The raw bytes of storage 0 are the first tensor's values.
  ZipArchive zip(test::fixture("enhancer", "rave_paired.pth"));
  const std::string raw = zip.read("best_model_round2/data/0");
  const auto first = read_torch_state_dict(test::fixture("enhancer", "rave_paired.pth"))[0].second;
  ASSERT_EQ(raw.size(), size_t(first.numel()) * 4);
  EXPECT_EQ(std::memcmp(raw.data(), first.data_ptr(), raw.size()), 0);
}

// The newer writer (rave_unpaired_shifted.pth in the RAVE release) adds `byteorder` and
// `.data/serialization_id` records; the same pickle and storages must read the same.
TEST(TorchZip, NewerZipLayout) {
  RAVE_REQUIRE_FIXTURES();
  ZipArchive published(test::fixture("enhancer", "rave_unpaired.pth"));
  test::ZipWriter newer;
  for (const std::string& name : published.names()) {
    const std::string relative = name.substr(name.find('/') + 1);
    newer.add("best_model_round2/" + relative, published.read(name));
    if (relative == "data.pkl") newer.add("best_model_round2/byteorder", "little");
  }
  newer.add("best_model_round2/.data/serialization_id", "1234567890123456789012345678901234567890");
  test::ScratchDir dir;
  const std::string path = (dir / "newer.pth").string();
  write_file(path, newer.bytes());
  const NamedTensors expected = read_torch_state_dict(test::fixture("enhancer", "rave_unpaired.pth"));
  const NamedTensors tensors = read_torch_state_dict(path);
  expect_published_layout(tensors);
  for (size_t i = 0; i < tensors.size(); ++i) EXPECT_TRUE(torch::equal(tensors[i].second, expected[i].second));

  test::ZipWriter big_endian;
  big_endian.add("archive/data.pkl", Pickle().ordered_dict().stop());
  big_endian.add("archive/byteorder", "big");
  expect_refused(big_endian.bytes(), "big-endian");
}

TEST(TorchZip, TruncatedPublishedFile) {
  RAVE_REQUIRE_FIXTURES();
  const std::string bytes = read_file(test::fixture("enhancer", "enhancement_model.pth"));
  expect_refused(bytes.substr(0, bytes.size() - 100), "");
}

TEST(TorchZip, DataParallelPrefixIsStrippedOnlyWherePresent) {
  NamedTensors tensors = {{"module.a.weight", torch::zeros({1})}, {"b.bias", torch::zeros({1})}};
  tensors = strip_data_parallel_prefix(tensors, "x.pth");
  EXPECT_EQ(tensors[0].first, "a.weight");
  EXPECT_EQ(tensors[1].first, "b.bias");
  EXPECT_THROW(strip_data_parallel_prefix({{"module.a", torch::zeros({1})}, {"a", torch::zeros({1})}}, "x.pth"),
               IoError);
}

}  // namespace
}  // namespace rave::io

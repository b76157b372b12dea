#include "io/h5.h"

#include <gtest/gtest.h>

#include <fstream>
#include <iterator>

#include "dist/error.h"
#include "tests/support/test_support.h"

namespace rave::io::h5 {
namespace {

TEST(H5, TensorsRoundTripWithTheirDtypes) {
  test::ScratchDir dir;
  const auto path = (dir / "t.h5").string();
  const auto f32 = torch::arange(12, torch::kFloat32).reshape({3, 4}) / 7;
  const auto f64 = torch::tensor({1.0 / 3, 2.0}, torch::kFloat64);
  const auto i64 = torch::tensor(int64_t(1) << 40);
  const auto u8 = torch::tensor({0, 255, 7}, torch::kUInt8);
  {
    File file = File::create(path);
    file.write("a/b/weights", f32);
    WriteOptions compressed;
    compressed.checksum = false;
    compressed.deflate = 4;
    file.write("double", f64, compressed);
    file.write("scalar", i64);
    file.write("bytes", u8);
    file.write("empty", torch::zeros({0, 3}));
    file.close();
  }
  const File file = File::open(path);
  EXPECT_TRUE(torch::equal(file.read("a/b/weights"), f32));
  EXPECT_TRUE(torch::equal(file.read("/double"), f64));
  const auto scalar = file.read("scalar");
  EXPECT_EQ(scalar.dim(), 0);
  EXPECT_EQ(scalar.item<int64_t>(), int64_t(1) << 40);
  EXPECT_TRUE(torch::equal(file.read("bytes"), u8));
  EXPECT_EQ(file.read("empty").sizes(), torch::IntArrayRef({0, 3}));
  EXPECT_EQ(file.shape("a/b/weights"), (std::vector<int64_t>{3, 4}));
  EXPECT_EQ(file.datasets(), (std::vector<std::string>{"a/b/weights", "bytes", "double", "empty", "scalar"}));
  EXPECT_EQ(file.datasets("a"), (std::vector<std::string>{"b/weights"}));
  EXPECT_TRUE(file.exists("a/b"));
  EXPECT_FALSE(file.exists("a/c/weights"));
}

TEST(H5, StringsAndAttributes) {
  test::ScratchDir dir;
  const auto path = (dir / "s.h5").string();
  {
    File file = File::create(path);
    file.write_string("note", "héllo");
    file.write_strings("names", {"a", "", "ü"});
    file.write("group/x", torch::ones({2}));
    file.set_attribute("/", "format", "rave-checkpoint");
    file.set_attribute("/", "step", int64_t(42));
    file.set_attribute("group/x", "scale", 0.5);
    file.set_attribute("/", "step", int64_t(43));  // overwrite
    file.close();
  }
  const File file = File::open(path);
  EXPECT_EQ(file.read_string("note"), "héllo");
  EXPECT_EQ(file.read_strings("names"), (std::vector<std::string>{"a", "", "ü"}));
  EXPECT_EQ(file.attribute_string("/", "format"), "rave-checkpoint");
  EXPECT_EQ(file.attribute_int("/", "step"), 43);
  EXPECT_DOUBLE_EQ(file.attribute_double("group/x", "scale"), 0.5);
  EXPECT_TRUE(file.has_attribute("/", "format"));
  EXPECT_FALSE(file.has_attribute("/", "nope"));
  EXPECT_FALSE(file.has_attribute("missing", "format"));
}

std::string error_of(const std::function<void()>& action) {
  try {
    action();
  } catch (const IoError& e) {
    return e.what();
  }
  return "no error";
}

TEST(H5, ErrorsNameTheFileAndTheObject) {
  test::ScratchDir dir;
  const auto path = (dir / "e.h5").string();
  {
    File file = File::create(path);
    file.write("x", torch::ones({2}));
    EXPECT_NE(error_of([&] { file.write("x", torch::ones({2})); }).find("'x' already exists"), std::string::npos);
    file.close();
  }
  const File file = File::open(path);
  EXPECT_EQ(error_of([&] { file.read("y"); }), path + ": missing dataset 'y'");
  EXPECT_EQ(error_of([&] { file.attribute_int("/", "step"); }), path + ": missing attribute 'step' on '/'");
  EXPECT_NE(error_of([&] { File::open((dir / "nothing.h5").string()); }).find("not an HDF5 file"), std::string::npos);
  std::ofstream(dir / "text.h5") << "not hdf5";
  EXPECT_NE(error_of([&] { File::open((dir / "text.h5").string()); }).find("text.h5: missing, unreadable or not an HDF5"),
            std::string::npos);
}

TEST(H5, ChecksumDetectsACorruptedDataset) {
  test::ScratchDir dir;
  const auto path = (dir / "c.h5").string();
  {
    File file = File::create(path);
    file.write("w", torch::full({64}, 1234.5678f));
    file.close();
  }
  // Flip one bit inside the stored values (found by their byte pattern).
  std::ifstream in(path, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  in.close();
  const float value = 1234.5678f;
  const auto at = bytes.find(std::string(reinterpret_cast<const char*>(&value), sizeof value));
  ASSERT_NE(at, std::string::npos);
  bytes[at + 1] ^= 0x10;
  std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
  const File file = File::open(path);
  const std::string error = error_of([&] { file.read("w"); });
  EXPECT_NE(error.find("cannot read dataset 'w'"), std::string::npos) << error;
  EXPECT_NE(error.find("Fletcher32"), std::string::npos) << error;
}

// Scalars (a checkpoint's tau, schedule counters, Adam's step) cannot carry Fletcher-32: before their CRC-32, a
// flipped byte in guidance/tau halved it and the file still read back as valid.
TEST(H5, ChecksumDetectsACorruptedScalar) {
  test::ScratchDir dir;
  const auto path = (dir / "tau.h5").string();
  const double tau = 0.7071067811865476;
  {
    File file = File::create(path);
    file.write("guidance/tau", torch::tensor(tau, torch::kFloat64));
    file.close();
  }
  EXPECT_EQ(File::open(path).read("guidance/tau").item<double>(), tau);
  std::ifstream in(path, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  in.close();
  const auto at = bytes.find(std::string(reinterpret_cast<const char*>(&tau), sizeof tau));
  ASSERT_NE(at, std::string::npos);
  bytes[at + 7] ^= 0x01;  // the exponent's low bit: tau halves
  std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
  const File file = File::open(path);
  const std::string error = error_of([&] { file.read("guidance/tau"); });
  EXPECT_NE(error.find("dataset 'guidance/tau' fails its checksum (CRC-32)"), std::string::npos) << error;
}

TEST(H5, ReportsWhichDatasetsCarryTheChecksum) {
  test::ScratchDir dir;
  const auto path = (dir / "k.h5").string();
  {
    File file = File::create(path);
    file.write("checked", torch::ones({4}));
    file.write("scalar", torch::tensor(1.0));  // 0-d: no filter possible, a CRC-32 attribute instead
    WriteOptions unchecked;
    unchecked.checksum = false;
    file.write("plain_scalar", torch::tensor(2.0), unchecked);
    WriteOptions plain;
    plain.checksum = false;
    file.write("plain", torch::ones({4}), plain);
    file.write_strings("names", {"a", "b"});
    file.close();
  }
  const File file = File::open(path);
  EXPECT_TRUE(file.checksummed("checked"));
  EXPECT_TRUE(file.checksummed("scalar"));
  EXPECT_FALSE(file.checksummed("plain_scalar"));
  EXPECT_FALSE(file.checksummed("plain"));
  EXPECT_TRUE(file.is_text("names"));
  EXPECT_THROW(file.checksummed("absent"), IoError);
  EXPECT_FALSE(file.is_text("checked"));
}

TEST(H5, ReadsTheH5pyWrittenFixtures) {
  RAVE_REQUIRE_FIXTURES();
  const File state = File::open((test::fixtures_dir() / "clip/tiny_vit_state.h5").string());
  EXPECT_NE(state.attribute_string("/", "config_json").find("embed_dim"), std::string::npos);
  const auto names = state.datasets();
  EXPECT_NE(std::find(names.begin(), names.end(), "visual.conv1.weight"), names.end());
  EXPECT_EQ(state.read("visual.conv1.weight").scalar_type(), torch::kFloat32);
  const File reference = File::open((test::fixtures_dir() / "clip/tiny_reference.h5").string());
  const auto inputs = reference.read_strings("inputs/names");
  ASSERT_EQ(inputs.size(), 4u);
  EXPECT_EQ(inputs[3], "constant_gray_128");
}

}  // namespace
}  // namespace rave::io::h5

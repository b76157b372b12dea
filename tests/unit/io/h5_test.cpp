#include "io/h5.h"

#include <gtest/gtest.h>

#include <fstream>

#include "core/error.h"
#include "io/h5_seal.h"
#include "io/sha256.h"
#include "tests/support/h5_damage.h"
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

// The per-dataset checksums guard files without rave's header (older rave, other tools): rave's own files are
// stripped of it here to reach them.
TEST(H5, ChecksumDetectsACorruptedDataset) {
  test::ScratchDir dir;
  const auto path = (dir / "c.h5").string();
  {
    File file = File::create(path);
    file.write("w", torch::full({64}, 1234.5678f));
    file.close();
  }
  test::strip_header(path);
  test::flip_value(path, 1234.5678f, 1, 0x10);  // one bit inside the stored values
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
  test::strip_header(path);
  EXPECT_EQ(File::open(path).read("guidance/tau").item<double>(), tau);
  test::flip_value(path, tau, 7);  // the exponent's low bit: tau halves
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

std::string write_sample(const test::ScratchDir& dir, const std::string& name) {
  const auto path = (dir / name).string();
  File file = File::create(path);
  file.write("a", torch::full({256}, 1234.5678f));
  file.write("group/b", torch::arange(16, torch::kFloat32));
  file.write("group/tau", torch::tensor(0.25, torch::kFloat64));
  file.write_strings("names", {"x", "y"});
  file.set_attribute("/", "step", int64_t(0x0123456789abcdef));
  file.close();
  return path;
}

// The userblock holds rave's header (io/h5_seal): the length and SHA-256 of what follows, HDF5 data from byte 512.
TEST(H5Seal, HeaderRecordsLengthAndHashAndToolsStillReadTheFile) {
  test::ScratchDir dir;
  const auto path = write_sample(dir, "s.h5");
  const std::string bytes = test::read_file(path);
  const std::string expected = "rave-hdf5 1\nlength " + std::to_string(bytes.size()) + "\nsha256 " +
                               sha256_file(path, kSealSize) + "\n";
  EXPECT_EQ(bytes.substr(0, expected.size()), expected);
  EXPECT_EQ(bytes.compare(kSealSize, 8, kHdf5Signature, 8), 0);
  const File file = File::open(path);
  EXPECT_TRUE(file.sealed());
  EXPECT_TRUE(file.has_manifest());
  EXPECT_EQ(file.attribute_strings("/", "manifest"), (std::vector<std::string>{"a", "group/b", "group/tau", "names"}));
  EXPECT_EQ(file.attribute_count(), 3);  // step, manifest, and tau's crc32
  EXPECT_EQ(file.attribute_int("/", "step"), 0x0123456789abcdef);
  if (!test::run_command("command -v h5ls").output.empty()) {
    const std::string listing = test::run_command("h5ls -r " + path).output;
    EXPECT_NE(listing.find("/group/b                 Dataset {16}"), std::string::npos) << listing;
  }
}

// Every kind of damage is refused by open(), before HDF5 parses the file, naming the file and what failed.
TEST(H5Seal, RefusesDamagedTruncatedAndExtendedFiles) {
  test::ScratchDir dir;
  const auto error_at_open = [&](const std::function<void(const std::string&)>& damage) {
    const auto path = write_sample(dir, "d.h5");
    damage(path);
    const std::string error = error_of([&] { File::open(path); });
    EXPECT_EQ(error.rfind(path + ": ", 0), 0u) << error;
    return error;
  };
  const auto contains = [](const std::string& text, const std::string& part) {
    return text.find(part) != std::string::npos;
  };
  // (a) an attribute's value, (c) a dataset's raw data.
  for (const auto& damaged :
       {error_at_open([](const std::string& p) { test::flip_value(p, int64_t(0x0123456789abcdef)); }),
        error_at_open([](const std::string& p) { test::flip_value(p, 1234.5678f); })}) {
    EXPECT_TRUE(contains(damaged, "damaged: the SHA-256 of its content differs")) << damaged;
  }
  // (b) the chunk address of a dataset: pointing at another dataset's chunk, or at none (read as zeros).
  std::string error = error_at_open([](const std::string& p) { test::redirect_chunk(p, "a", HADDR_UNDEF); });
  EXPECT_TRUE(contains(error, "damaged: the SHA-256")) << error;
  error = error_at_open([](const std::string& p) { test::damage_object_header(p, "group/b"); });
  EXPECT_TRUE(contains(error, "damaged: the SHA-256")) << error;
  // (d) truncated, extended.
  error = error_at_open([](const std::string& p) { test::truncate_file(p, test::read_file(p).size() - 1); });
  EXPECT_TRUE(contains(error, "truncated: ")) << error;
  EXPECT_TRUE(contains(error, "bytes, rave wrote ")) << error;
  error = error_at_open([](const std::string& p) { test::truncate_file(p, 100); });
  EXPECT_TRUE(contains(error, "truncated: 100 bytes, shorter than rave's header")) << error;
  error = error_at_open([](const std::string& p) { test::write_file(p, test::read_file(p) + "x"); });
  EXPECT_TRUE(contains(error, "extended: ")) << error;
  // The header itself: any byte of it, its first byte, a newer version.
  error = error_at_open([](const std::string& p) { test::flip_byte(p, 300); });  // its NUL padding
  EXPECT_TRUE(contains(error, "damaged header")) << error;
  error = error_at_open([](const std::string& p) { test::flip_byte(p, 0, 0x20); });
  EXPECT_TRUE(contains(error, "its HDF5 data starts at byte 512 after a block that is not rave's header")) << error;
  error = error_at_open([](const std::string& p) { test::flip_byte(p, 10, 0x03); });  // "1" -> "2"
  EXPECT_TRUE(contains(error, "written by a newer rave (header version 2")) << error;
}

TEST(H5Seal, FilesWithoutTheHeaderStillOpen) {
  test::ScratchDir dir;
  const auto path = write_sample(dir, "plain.h5");
  test::strip_header(path);
  const File file = File::open(path);
  EXPECT_FALSE(file.sealed());
  EXPECT_TRUE(torch::equal(file.read("group/b"), torch::arange(16, torch::kFloat32)));
  EXPECT_EQ(file.read_strings("names"), (std::vector<std::string>{"x", "y"}));
}

// A dataset removed after the writer closed the file: with the header recomputed (a consistent edit) only the
// manifest shows it; without that, the header already refuses the file.
TEST(H5Seal, ManifestRefusesADeletedDataset) {
  test::ScratchDir dir;
  const auto path = write_sample(dir, "m.h5");
  const hid_t file = H5Fopen(path.c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
  ASSERT_GE(file, 0);
  EXPECT_GE(H5Ldelete(file, "group/b", H5P_DEFAULT), 0);
  H5Fclose(file);
  EXPECT_NE(error_of([&] { File::open(path); }).find("damaged: the SHA-256"), std::string::npos);
  test::reseal(path);
  const std::string error = error_of([&] { File::open(path); });
  EXPECT_EQ(error, path + ": the file's datasets differ from the manifest rave wrote with them: missing 'group/b'");
}

// A file without rave's header whose metadata is damaged: the traversal stops at the object it cannot open, and the
// file is refused instead of listing what could be reached.
TEST(H5Seal, TraversalFailsOnDamagedMetadata) {
  test::ScratchDir dir;
  const auto path = write_sample(dir, "t.h5");
  test::strip_header(path);
  test::damage_object_header(path, "group/b");
  const std::string error = error_of([&] { File::open(path); });
  EXPECT_NE(error.find(path + ": cannot list every object below '/'"), std::string::npos) << error;
}

// Dimensions from the file are checked against the data it stores: 2^40 elements are an IoError naming the file
// and the dataset, not an allocation of 4 TiB.
TEST(H5, ClaimedDimensionsBeyondTheStoredDataAreDamage) {
  test::ScratchDir dir;
  const auto path = (dir / "huge.h5").string();
  const hid_t file = H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
  const hsize_t huge = hsize_t(1) << 40;
  const hid_t space = H5Screate_simple(1, &huge, nullptr);
  H5Dclose(H5Dcreate2(file, "numbers", H5T_NATIVE_FLOAT, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT));
  const hid_t text = H5Tcopy(H5T_C_S1);
  H5Tset_size(text, H5T_VARIABLE);
  H5Dclose(H5Dcreate2(file, "names", text, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT));
  H5Tclose(text);
  H5Sclose(space);
  H5Fclose(file);
  const File opened = File::open(path);
  EXPECT_EQ(error_of([&] { opened.read("numbers"); }),
            path + ": dataset 'numbers' claims 1099511627776 elements of 4 bytes, but the file stores 0 bytes for it: "
                   "the file is damaged");
  EXPECT_NE(error_of([&] { opened.read_strings("names"); }).find("dataset 'names' claims 1099511627776 elements"),
            std::string::npos);
}

// The readers of one value (a checkpoint's step, format, version) meet attributes that hold three: HDF5 would write
// all three into a one-value buffer (the checkpoint fuzzer found it), so they are refused as damage.
TEST(H5, AttributeListsWhereOneValueIsReadAreDamage) {
  test::ScratchDir dir;
  const auto path = (dir / "lists.h5").string();
  const hid_t file = H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
  const hsize_t three = 3;
  const hid_t space = H5Screate_simple(1, &three, nullptr);
  const int64_t steps[3] = {1, 2, 3};
  const double scales[3] = {0.5, 1.5, 2.5};
  const hid_t fixed_text = H5Tcopy(H5T_C_S1);
  H5Tset_size(fixed_text, 4);
  const hid_t variable_text = H5Tcopy(H5T_C_S1);
  H5Tset_size(variable_text, H5T_VARIABLE);
  H5Tset_cset(variable_text, H5T_CSET_UTF8);  // as h5py writes str
  const char* names[3] = {"a", "bb", "ccc"};
  const auto attach = [&](const char* name, hid_t type, const void* values) {
    const hid_t attribute = H5Acreate2(file, name, type, space, H5P_DEFAULT, H5P_DEFAULT);
    H5Awrite(attribute, type, values);
    H5Aclose(attribute);
  };
  attach("step", H5T_NATIVE_INT64, steps);
  attach("scale", H5T_NATIVE_DOUBLE, scales);
  attach("fixed", fixed_text, "abcdefghijkl");
  attach("format", variable_text, names);
  H5Tclose(fixed_text);
  H5Tclose(variable_text);
  H5Sclose(space);
  H5Fclose(file);
  const File opened = File::open(path);
  const auto expected = [&](const std::string& name) {
    return path + ": attribute '" + name + "' on '/' holds 3 values, expected one: the file is damaged";
  };
  EXPECT_EQ(error_of([&] { opened.attribute_int("/", "step"); }), expected("step"));
  EXPECT_EQ(error_of([&] { opened.attribute_double("/", "scale"); }), expected("scale"));
  EXPECT_EQ(error_of([&] { opened.attribute_string("/", "fixed"); }), expected("fixed"));
  EXPECT_EQ(error_of([&] { opened.attribute_string("/", "format"); }), expected("format"));
  EXPECT_EQ(opened.attribute_strings("/", "format"), (std::vector<std::string>{"a", "bb", "ccc"}));
}

}  // namespace
}  // namespace rave::io::h5

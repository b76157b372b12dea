// rave checkpoints: bit-identical round trip, validation of foreign, newer, incomplete and damaged files,
// atomic replacement under SIGKILL, retention, and the layout standard HDF5 tools show.
#include "io/checkpoint.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <torch/torch.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <limits>
#include <thread>

#include "core/error.h"
#include "io/h5.h"
#include "rave/version.h"
#include "tests/support/h5_damage.h"
#include "tests/support/test_support.h"

namespace rave::io {
namespace {

namespace fs = std::filesystem;

Checkpoint sample(int64_t step, float fill = 0.5f) {
  Checkpoint c;
  c.method = "rave";
  c.step = step;
  c.round = 2;
  c.stage = "guided";
  c.world_size = 4;
  c.seed = 1234;
  c.config = "[train]\nbatch-size = 8\nnote = héllo\n";
  c.source = "";
  c.created = "2024-05-01T12:00:00Z";
  c.rave_version = "0.0.1";
  c.enhancer_padding = "zeros";
  c.tensors["enhancer/cond1.weight"] = torch::full({32, 3, 3, 3}, fill);
  c.tensors["enhancer/cond1.bias"] = torch::arange(32, torch::kFloat32);
  c.tensors["optimizer/enhancer/step"] = torch::tensor(step);
  c.tensors["optimizer/enhancer/exp_avg/cond1.bias"] = torch::linspace(-1, 1, 32);
  c.tensors["guidance/residual"] = torch::randn({512});
  c.tensors["guidance/tau"] = torch::tensor(0.25, torch::kFloat64);
  c.tensors["rng/generator"] = torch::randint(0, 255, {16}, torch::kUInt8);
  return c;
}

bool same_bits(const torch::Tensor& a, const torch::Tensor& b) {
  return a.scalar_type() == b.scalar_type() && a.sizes() == b.sizes() &&
         std::memcmp(a.contiguous().data_ptr(), b.contiguous().data_ptr(), a.nbytes()) == 0;
}

std::string error_of(const std::function<void()>& action) {
  try {
    action();
  } catch (const IoError& e) {
    return e.what();
  }
  return "(no error)";
}

using test::read_file;
using test::write_file;

TEST(Checkpoint, RoundTripIsBitIdentical) {
  test::ScratchDir dir;
  const std::string path = (dir / "c.h5").string();
  Checkpoint written = sample(42);
  // Values whose bits a careless conversion would change.
  written.tensors["enhancer/odd"] = torch::tensor({-0.0f, std::numeric_limits<float>::denorm_min(),
                                                   std::numeric_limits<float>::quiet_NaN(),
                                                   -std::numeric_limits<float>::infinity(), 1.0f / 3.0f});
  written.write(path);
  const Checkpoint read = Checkpoint::read(path);
  EXPECT_EQ(read.path, path);
  ASSERT_EQ(read.tensors.size(), written.tensors.size());
  for (const auto& [name, tensor] : written.tensors) {
    EXPECT_TRUE(same_bits(read.tensors.at(name), tensor)) << name;
  }
  EXPECT_EQ(read.method, written.method);
  EXPECT_EQ(read.step, written.step);
  EXPECT_EQ(read.round, written.round);
  EXPECT_EQ(read.stage, written.stage);
  EXPECT_EQ(read.world_size, written.world_size);
  EXPECT_EQ(read.seed, written.seed);
  EXPECT_EQ(read.config, written.config);
  EXPECT_EQ(read.source, written.source);
  EXPECT_EQ(read.created, written.created);
  EXPECT_EQ(read.rave_version, written.rave_version);
  EXPECT_EQ(read.enhancer_padding, written.enhancer_padding);
  EXPECT_FALSE(fs::exists(path + ".tmp"));
}

TEST(Checkpoint, WriteFillsInCreationTimeAndVersion) {
  test::ScratchDir dir;
  Checkpoint c = sample(1);
  c.created.clear();
  c.rave_version.clear();
  c.write((dir / "c.h5").string());
  const Checkpoint read = Checkpoint::read((dir / "c.h5").string());
  EXPECT_EQ(read.rave_version, kVersion);
  EXPECT_EQ(read.created.size(), 20u) << read.created;  // 2024-05-01T12:00:00Z
}

TEST(Checkpoint, GroupsAndCheckedAccess) {
  Checkpoint c = sample(3);
  c.path = "run/c.h5";
  const TensorMap enhancer = c.group("enhancer");
  ASSERT_EQ(enhancer.size(), 2u);
  EXPECT_TRUE(enhancer.count("cond1.weight"));
  EXPECT_EQ(c.group("optimizer/enhancer/exp_avg").size(), 1u);
  c.set_group("enhancer", {{"only", torch::ones({2})}});
  EXPECT_EQ(c.group("enhancer").size(), 1u);
  EXPECT_TRUE(c.tensors.count("optimizer/enhancer/step"));  // other groups untouched
  EXPECT_EQ(c.at("enhancer/only", std::vector<int64_t>{2}).numel(), 2);
  EXPECT_EQ(error_of([&] { c.at("guidance/v_pos"); }), "run/c.h5: missing dataset '/guidance/v_pos'");
  EXPECT_EQ(error_of([&] { c.at("guidance/residual", std::vector<int64_t>{768}); }),
            "run/c.h5: dataset '/guidance/residual' has shape [512], expected [768]");
  EXPECT_EQ(error_of([&] { c.at("guidance/residual", kScalarShape); }),
            "run/c.h5: dataset '/guidance/residual' has shape [512], expected a scalar");
  EXPECT_EQ(c.at("guidance/tau", kScalarShape).item<double>(), 0.25);
}

TEST(Checkpoint, RefusesForeignNewerAndIncompleteFiles) {
  test::ScratchDir dir;
  const auto path = [&](const std::string& name) { return (dir / name).string(); };

  std::ofstream(path("text.h5")) << "not hdf5";
  EXPECT_NE(error_of([&] { Checkpoint::read(path("text.h5")); }).find("text.h5: missing, unreadable or not an HDF5"),
            std::string::npos);

  {
    h5::File f = h5::File::create(path("residual.h5"));
    f.write("residual", torch::ones({4}));
    f.set_attribute("/", "format", "rave-residual");
    f.close();
  }
  EXPECT_NE(error_of([&] { Checkpoint::read(path("residual.h5")); })
                .find("residual.h5: not a rave checkpoint (format 'rave-residual'"),
            std::string::npos);

  sample(5).write(path("newer.h5"));
  // Attributes rewritten in place, and the header recomputed: a file from a future rave, and one that lost an
  // attribute.
  const auto restamp = [&](const std::string& name, const std::function<void(hid_t)>& edit) {
    const hid_t file = H5Fopen(path(name).c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
    ASSERT_GE(file, 0);
    edit(file);
    H5Fclose(file);
    test::reseal(path(name));
  };
  restamp("newer.h5", [](hid_t file) {
    const int64_t version = kCheckpointFormatVersion + 1;
    const hid_t attribute = H5Aopen(file, "format_version", H5P_DEFAULT);
    H5Awrite(attribute, H5T_NATIVE_INT64, &version);
    H5Aclose(attribute);
  });
  EXPECT_NE(error_of([&] { Checkpoint::read(path("newer.h5")); }).find("format_version 2 is newer than this rave"),
            std::string::npos);

  sample(6).write(path("no_step.h5"));
  restamp("no_step.h5", [](hid_t file) { H5Adelete(file, "step"); });
  EXPECT_NE(error_of([&] { Checkpoint::read(path("no_step.h5")); }).find("no_step.h5: missing attribute 'step'"),
            std::string::npos);

  Checkpoint without_enhancer = sample(7);
  without_enhancer.set_group("enhancer", {});
  EXPECT_NE(error_of([&] { without_enhancer.write(path("empty.h5")); }).find("without enhancer tensors"),
            std::string::npos);
}

TEST(Checkpoint, DetectsCorruptedAndTruncatedFiles) {
  test::ScratchDir dir;
  const std::string path = (dir / "c.h5").string();
  sample(8, 1234.5678f).write(path);
  const std::string bytes = read_file(path);

  EXPECT_TRUE(h5::File::open(path).checksummed("optimizer/enhancer/step"));  // 0-d: its CRC-32 attribute
  EXPECT_TRUE(h5::File::open(path).checksummed("enhancer/cond1.weight"));
  // One flipped bit inside enhancer/cond1.weight (found by its value's byte pattern): the whole-file hash, and
  // without rave's header (an older rave's file) the dataset's Fletcher-32.
  test::flip_value(path, 1234.5678f, 2);
  std::string error = error_of([&] { Checkpoint::read(path); });
  EXPECT_EQ(error.rfind(path + ": damaged: the SHA-256", 0), 0u) << error;
  test::strip_header(path);
  error = error_of([&] { Checkpoint::read(path, h5::Unsealed::accept); });
  EXPECT_NE(error.find(path), std::string::npos) << error;
  EXPECT_NE(error.find("enhancer/cond1.weight"), std::string::npos) << error;
  EXPECT_NE(error.find("Fletcher32"), std::string::npos) << error;

  for (const size_t size : {bytes.size() / 2, bytes.size() - 1, size_t(100)}) {
    write_file(path, bytes.substr(0, size));
    error = error_of([&] { Checkpoint::read(path); });
    EXPECT_EQ(error.rfind(path + ": truncated: " + std::to_string(size) + " bytes", 0), 0u) << error;
  }
}

// Issue 19: damage the per-dataset checksums let through, or reported as something else, is refused by the
// whole-file hash before HDF5 parses the file: (a) an attribute's value (the seed), (b) the metadata saying where a
// dataset's data lies (its chunk pointing at another dataset's chunk of the same shape, whose Fletcher-32 is
// valid, or at none: read as zeros) and an object header, (c) the raw data of a large dataset, (d) a truncation.
TEST(Checkpoint, RefusesDamageThatDatasetChecksumsMiss) {
  test::ScratchDir dir;
  const std::string path = (dir / "c.h5").string();
  Checkpoint written = sample(8);
  written.seed = 0x0123456789abcdef;
  written.tensors["enhancer/big"] = torch::full({1 << 20}, 1234.5678f);
  for (const auto& damage : test::checkpoint_damages(written.seed, 1234.5678f)) {
    written.write(path);
    damage.apply(path);
    const std::string error = error_of([&] { Checkpoint::read(path); });
    EXPECT_TRUE(error.rfind(path + ": damaged: the SHA-256", 0) == 0 || error.rfind(path + ": truncated: ", 0) == 0)
        << damage.what << ": " << error;
  }
}

// A dataset whose dimensions claim 2^40 elements in a checkpoint without rave's header (an older rave's) is
// damage named with the file and the dataset, not an allocation failure.
TEST(Checkpoint, RefusesADatasetClaimingMoreThanTheFileHolds) {
  test::ScratchDir dir;
  const std::string path = (dir / "c.h5").string();
  sample(9).write(path);
  test::strip_header(path);
  const hid_t file = H5Fopen(path.c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
  ASSERT_GE(file, 0);
  H5Adelete(file, "manifest");  // as an older rave wrote it
  const hsize_t huge = hsize_t(1) << 40;
  const hid_t space = H5Screate_simple(1, &huge, nullptr);
  H5Dclose(H5Dcreate2(file, "enhancer/huge", H5T_NATIVE_FLOAT, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT));
  H5Sclose(space);
  H5Fclose(file);
  const std::string error = error_of([&] { Checkpoint::read(path, h5::Unsealed::accept); });
  EXPECT_EQ(error.rfind(path + ": dataset 'enhancer/huge' claims 1099511627776 elements", 0), 0u) << error;
}

// A writer killed (SIGKILL) at any moment of a write leaves a complete checkpoint at the path: the old one
// until the rename, the new one after it.
TEST(Checkpoint, KillDuringWriteLeavesACompleteCheckpoint) {
  test::ScratchDir dir;
  const std::string path = (dir / "c.h5").string();
  const Checkpoint old_checkpoint = sample(100, 1.0f);
  old_checkpoint.write(path);
  Checkpoint new_checkpoint = sample(200, 2.0f);
  // ~64 MB, so that a write takes long enough to be interrupted in the middle.
  for (int i = 0; i < 16; ++i) {
    new_checkpoint.tensors["enhancer/big" + std::to_string(i)] = torch::full({1 << 20}, 2.0f);
  }

  int interrupted = 0;
  for (const int delay_us : {0, 500, 2000, 5000, 10000, 20000, 50000, 100000, 200000}) {
    const pid_t child = fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
      new_checkpoint.write(path);
      _exit(0);
    }
    std::this_thread::sleep_for(std::chrono::microseconds(delay_us));
    kill(child, SIGKILL);
    int status = 0;
    waitpid(child, &status, 0);
    interrupted += WIFSIGNALED(status);
    const Checkpoint found = Checkpoint::read(path);  // must not throw
    if (found.step == 100) {
      for (const auto& [name, tensor] : old_checkpoint.tensors) EXPECT_TRUE(same_bits(found.tensors.at(name), tensor));
    } else {
      EXPECT_EQ(found.step, 200);
      EXPECT_EQ(found.tensors.size(), new_checkpoint.tensors.size());
      old_checkpoint.write(path);  // start the next round from the old file again
    }
  }
  EXPECT_GT(interrupted, 0);
  // A stale temporary file from a killed writer does not disturb the next write.
  new_checkpoint.write(path);
  EXPECT_EQ(Checkpoint::read(path).step, 200);
}

TEST(Checkpoint, FailedWriteKeepsThePreviousFile) {
  test::ScratchDir dir;
  const std::string path = (dir / "c.h5").string();
  sample(1).write(path);
  Checkpoint bad = sample(2);
  bad.tensors["guidance/unstorable"] = torch::ones({2}, torch::kBFloat16);
  EXPECT_THROW(bad.write(path), IoError);
  EXPECT_EQ(Checkpoint::read(path).step, 1);
  EXPECT_FALSE(fs::exists(path + ".tmp"));
}

TEST(CheckpointFolder, KeepsTheLastKAndTheSnapshots) {
  test::ScratchDir dir;
  CheckpointFolder folder(dir / "checkpoints", 2);
  EXPECT_FALSE(folder.latest());
  folder.save(sample(10));
  const fs::path best = folder.snapshot(folder.save(sample(20, 0.25f)), "best.h5");
  folder.save(sample(30));
  std::ofstream(dir / "checkpoints" / "notes.txt") << "not a checkpoint";
  std::ofstream(dir / "checkpoints" / "step_00000099.h5.tmp") << "left by a killed writer";
  folder.save(sample(40));
  const auto steps = folder.steps();
  ASSERT_EQ(steps.size(), 2u);
  EXPECT_EQ(steps[0].filename(), "step_00000030.h5");
  EXPECT_EQ(steps[1].filename(), "step_00000040.h5");
  EXPECT_EQ(folder.latest()->filename(), "step_00000040.h5");
  // The snapshot outlives the step file it was taken from.
  EXPECT_FALSE(fs::exists(dir / "checkpoints" / "step_00000020.h5"));
  const Checkpoint kept = Checkpoint::read(best.string());
  EXPECT_EQ(kept.step, 20);
  EXPECT_EQ(kept.tensors.at("enhancer/cond1.weight")[0][0][0][0].item<float>(), 0.25f);
  // A newer best replaces the snapshot.
  folder.snapshot(*folder.latest(), "best.h5");
  EXPECT_EQ(Checkpoint::read(best.string()).step, 40);
  EXPECT_THROW(CheckpointFolder(dir / "x", 0), UsageError);
}

// ARCHITECTURE §5: standard tools show the documented layout.
TEST(Checkpoint, H5lsShowsTheDocumentedLayout) {
  if (test::run_command("command -v h5ls h5dump").output.empty()) GTEST_SKIP() << "hdf5-tools not installed";
  test::ScratchDir dir;
  const std::string path = (dir / "c.h5").string();
  sample(9).write(path);
  const std::string listing = test::run_command("h5ls -r " + path).output;
  for (const char* line :
       {"/enhancer                Group", "/enhancer/cond1.weight   Dataset {32, 3, 3, 3}",
        "/optimizer/enhancer/exp_avg/cond1.bias Dataset {32}", "/guidance/residual       Dataset {512}",
        "/guidance/tau            Dataset {SCALAR}", "/rng/generator           Dataset {16}"}) {
    EXPECT_NE(listing.find(line), std::string::npos) << "missing: " << line << "\nin:\n" << listing;
  }
  const std::string attributes = test::run_command("h5dump -A " + path).output;
  for (const char* attribute : {"format", "format_version", "method", "step", "round", "stage", "world_size", "seed",
                                "config", "created", "rave_version", "padding_mode"}) {
    EXPECT_NE(attributes.find("ATTRIBUTE \"" + std::string(attribute) + "\""), std::string::npos) << attribute;
  }
  EXPECT_NE(attributes.find("\"rave-checkpoint\""), std::string::npos);
  // Fletcher-32 is on for the (chunked) arrays.
  EXPECT_NE(test::run_command("h5dump -p -d /enhancer/cond1.weight " + path).output.find("CHECKSUM FLETCHER32"),
            std::string::npos);
}

}  // namespace
// Loading refuses a checkpoint without rave's header before libhdf5 parses it (a damaged one can crash libhdf5),
// and says how to get one with the header; rave inspect (Unsealed::accept) still reads it.
TEST(Checkpoint, LoadingRefusesAFileWithoutRavesHeader) {
  test::ScratchDir dir;
  const std::string path = (dir / "c.h5").string();
  sample(3).write(path);
  test::strip_header(path);
  try {
    Checkpoint::read(path);
    ADD_FAILURE() << "read a checkpoint without rave's header";
  } catch (const IoError& e) {
    EXPECT_EQ(std::string(e.what()).rfind(path + ": no rave header with the file's SHA-256", 0), 0u) << e.what();
    EXPECT_EQ(e.hint().rfind("rave inspect " + path + " --reseal NEW.h5", 0), 0u) << e.hint();
  }
  EXPECT_EQ(Checkpoint::read(path, h5::Unsealed::accept).step, 3);
}

}  // namespace rave::io

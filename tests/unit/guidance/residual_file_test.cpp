#include "guidance/residual_file.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "core/error.h"
#include "guidance/rave_guidance.h"
#include "io/h5.h"
#include "tests/support/test_support.h"

namespace rave::guidance {
namespace {

ResidualFile example() {
  ResidualFile file;
  file.vector = residual_from_sums(torch::tensor({4.0, 1.0, 0.5}), 2, torch::tensor({0.0, 3.0, 1.0}), 3);
  file.encoder = "clip ViT-B-32.pt";
  file.backlit_files = {"a.jpg", "b.jpg", "c.jpg"};
  file.welllit_files = {"x.png", "y.png"};
  file.note = "test";
  return file;
}

TEST(ResidualFile, RoundTripIsExact) {
  test::ScratchDir dir;
  const auto path = (dir / "r.h5").string();
  write_residual_file(path, example());
  EXPECT_FALSE(std::filesystem::exists(path + ".tmp"));
  const ResidualFile read = read_residual_file(path);
  const ResidualFile expected = example();
  EXPECT_TRUE(torch::equal(read.vector.residual, expected.vector.residual));
  EXPECT_TRUE(torch::equal(read.vector.v_pos, expected.vector.v_pos));
  EXPECT_EQ(read.vector.tau, expected.vector.tau);
  EXPECT_EQ(read.vector.n_pos, 2);
  EXPECT_EQ(read.vector.n_neg, 3);
  EXPECT_EQ(read.backlit_files, expected.backlit_files);
  EXPECT_EQ(read.encoder, "clip ViT-B-32.pt");
  EXPECT_EQ(io::h5::File::open(path).attribute_string("/", "files_hash"),
            file_list_hash(expected.backlit_files, expected.welllit_files));
}

TEST(ResidualFile, ListHashSeesOrderAndBoundaries) {
  EXPECT_NE(file_list_hash({"ab"}, {}), file_list_hash({"a", "b"}, {}));
  EXPECT_NE(file_list_hash({"a"}, {"b"}), file_list_hash({"b"}, {"a"}));
  EXPECT_EQ(file_list_hash({"a"}, {"b"}), file_list_hash({"a"}, {"b"}));
}

TEST(ResidualFile, RejectsOtherFiles) {
  test::ScratchDir dir;
  const auto path = (dir / "other.h5").string();
  {
    auto file = io::h5::File::create(path);
    file.write("residual", torch::ones({3}));
    file.close();
  }
  try {
    read_residual_file(path);
    FAIL();
  } catch (const IoError& e) {
    EXPECT_NE(std::string(e.what()).find("is not a rave residual file"), std::string::npos) << e.what();
  }
  EXPECT_THROW(read_residual_file((dir / "missing.h5").string()), IoError);
}

// A τ of another shape was read with .item() and ended the program as an "internal error".
TEST(ResidualFile, RejectsAScalarOfAnotherShape) {
  test::ScratchDir dir;
  const auto path = (dir / "r.h5").string();
  {
    auto file = io::h5::File::create(path);
    for (const char* name : {"residual", "v_pos", "v_neg"}) file.write(name, torch::ones({3}));
    file.write("tau", torch::ones({3}, torch::kFloat64));
    file.set_attribute("/", "format", "rave-residual");
    file.set_attribute("/", "format_version", int64_t(1));
    file.close();
  }
  try {
    read_residual_file(path);
    FAIL() << "tau of shape [3] accepted";
  } catch (const IoError& e) {
    EXPECT_EQ(std::string(e.what()), path + ": dataset 'tau' has shape [3], expected a scalar");
  }
}

TEST(RaveGuidance, LoadStateNamesADatasetOfTheWrongShape) {
  const ResidualFile file = example();
  RaveGuidance written(file.vector);
  const auto error_with = [&](const std::string& name, const torch::Tensor& value) {
    auto state = written.state();
    state[name] = value;
    RaveGuidance loaded(ResidualVector{});
    try {
      loaded.load_state(state, "run/c.h5");
    } catch (const IoError& e) {
      return std::string(e.what());
    }
    return std::string("(no error)");
  };
  EXPECT_EQ(error_with("tau", torch::ones({3}, torch::kFloat64)),
            "run/c.h5: dataset '/guidance/tau' has shape [3], expected a scalar");
  EXPECT_EQ(error_with("n_pos", torch::ones({1}, torch::kInt64)),
            "run/c.h5: dataset '/guidance/n_pos' has shape [1], expected a scalar");
  EXPECT_EQ(error_with("v_pos", torch::ones({4})), "run/c.h5: dataset '/guidance/v_pos' has shape [4], expected [3]");
  EXPECT_EQ(error_with("residual", torch::ones({3, 1})),
            "run/c.h5: dataset '/guidance/residual' has shape [3, 1], expected one dimension [D]");
  auto state = written.state();
  state.erase("tau");
  RaveGuidance loaded(ResidualVector{});
  EXPECT_THROW(loaded.load_state(state, "run/c.h5"), IoError);
  loaded.load_state(written.state(), "run/c.h5");
  EXPECT_EQ(loaded.state().at("tau").item<double>(), file.vector.tau);
}

}  // namespace
}  // namespace rave::guidance

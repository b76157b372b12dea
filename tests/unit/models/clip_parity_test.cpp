// The tiny CLIP models against tiny_reference.h5 (fixtures README §2): image embeddings, the five ResNet taps,
// text embeddings, the soft-prompt outputs and the logits, loaded from the HDF5 state files and from the
// TorchScript archives. Tolerance: max abs error <= 1e-4 (the fp32-vs-fp64 differences of the reference are ~1e-6).
#include <gtest/gtest.h>

#include <cmath>

#include "io/h5.h"
#include "models/clip/loader.h"
#include "tests/support/test_support.h"

namespace rave::models {
namespace {

constexpr double kTolerance = 1e-4;


// Checks and reports the error (printed so that the numbers can be quoted).
void expect_close(const std::string& what, const torch::Tensor& actual, const torch::Tensor& expected) {
  const double error = test::max_abs_error(actual, expected);
  std::printf("  %-40s max abs error %.3g\n", what.c_str(), error);
  EXPECT_LE(error, kTolerance) << what;
}

class ClipParity : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override { RAVE_REQUIRE_FIXTURES(); }
  static io::h5::File reference() { return io::h5::File::open(test::fixture("clip", "tiny_reference.h5")); }
};

// Every output of one tiny model against the reference group ("vit" or "rn").
void check_model(ClipModelImpl& model, const std::string& group, const std::string& label) {
  torch::NoGradGuard no_grad;
  const io::h5::File ref = io::h5::File::open(test::fixture("clip", "tiny_reference.h5"));
  const torch::Tensor images = ref.read("inputs/preprocessed");
  const torch::Tensor image_embedding = model.encode_image(images);
  expect_close(label + " image_embedding", image_embedding, ref.read(group + "/image_embedding"));
  if (group == "rn") {
    const std::vector<torch::Tensor> taps = model.image_features(images);
    ASSERT_EQ(taps.size(), 5u);
    for (int k = 0; k < 5; ++k) {
      expect_close(label + " features/" + std::to_string(k), taps[k], ref.read("rn/features/" + std::to_string(k)));
    }
  }
  const torch::Tensor tokens = ref.read("text/tokens");
  const torch::Tensor text_embedding = model.encode_text(tokens);
  expect_close(label + " text_embedding", text_embedding, ref.read(group + "/text_embedding"));

  // forward(image, text)[0]: exp(logit_scale) · cosine similarity.
  const torch::Tensor image_unit = image_embedding / image_embedding.norm(2, -1, true);
  const torch::Tensor text_unit = text_embedding / text_embedding.norm(2, -1, true);
  expect_close(label + " logits_per_image", model.logit_scale.exp() * image_unit.matmul(text_unit.t()),
               ref.read(group + "/logits_per_image"));
  expect_close(label + " logit_scale", model.logit_scale, ref.read(group + "/logit_scale"));

  const torch::Tensor eos = ref.read(group + "/prompt/eos_index");
  EXPECT_EQ(eos.item<int32_t>(), 17);
  // The prompt initialisation is the token embedding of the 16-X prompt.
  const torch::Tensor init = ref.read(group + "/prompt/embedding_init");
  expect_close(label + " prompt/embedding_init",
               model.token_embedding(tokens.narrow(0, 0, 1).to(torch::kLong)).expand({2, -1, -1}), init);
  for (const std::string which : {"init", "perturbed"}) {
    expect_close(label + " prompt/output_" + which,
                 model.encode_text_embeddings(ref.read(group + "/prompt/embedding_" + which), eos),
                 ref.read(group + "/prompt/output_" + which));
  }
}

TEST_P(ClipParity, Hdf5StateFile) {
  const std::string group = GetParam();
  ClipModel model = load_clip(test::fixture("clip", "tiny_" + group + "_state.h5"));
  EXPECT_EQ(model->config().transformer_heads, 2);  // from config_json, not width / 64
  check_model(*model, group, group + " h5");
}

TEST_P(ClipParity, TorchScriptArchive) {
  const std::string group = GetParam();
  // The tiny models' text tower has 2 heads at width 32; CLIP's width / 64 rule would give 0.
  ClipLoadOptions options;
  options.text_heads = 2;
  ClipModel model = load_clip(test::fixture("clip", "tiny_" + group + ".pt"), options);
  check_model(*model, group, group + " pt");

  // The archive holds exactly the HDF5 state's values (fp16 ones upcast).
  const ClipState h5 = read_clip_state(test::fixture("clip", "tiny_" + group + "_state.h5"));
  for (const auto& item : h5.tensors) {
    const torch::Tensor* value = model->named_parameters().find(item.key());
    if (!value) value = model->named_buffers().find(item.key());
    ASSERT_NE(value, nullptr) << item.key();
    EXPECT_TRUE(torch::equal(*value, item.value())) << item.key();
  }
}

INSTANTIATE_TEST_SUITE_P(TinyModels, ClipParity, ::testing::Values("vit", "rn"));

TEST(ClipParityText, TruncatedBatchEqualsFullContext) {
  RAVE_REQUIRE_FIXTURES();
  ClipModel model = load_clip(test::fixture("clip", "tiny_vit_state.h5"));
  torch::NoGradGuard no_grad;
  const torch::Tensor tokens = io::h5::File::open(test::fixture("clip", "tiny_reference.h5")).read("text/tokens");
  // Rows 1..6 end by position 5; the batch is cut to 6 positions. The same rows with the long row 7 run at 77.
  const torch::Tensor short_rows = model->encode_text(tokens.narrow(0, 1, 6));
  const torch::Tensor with_long = model->encode_text(tokens.narrow(0, 1, 7)).narrow(0, 0, 6);
  EXPECT_LE(test::max_abs_error(short_rows, with_long), 1e-5);
}

}  // namespace
}  // namespace rave::models

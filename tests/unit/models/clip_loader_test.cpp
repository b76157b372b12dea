// Loading CLIP weights: HDF5 state files round-trip, and every broken input is an IoError that names the file
// and the offending keys (truncated archive, missing/unexpected keys, wrong shapes, a TorchScript file that is
// not CLIP, a file of neither kind); SHA-256 checks of OpenAI file names.
#include <gtest/gtest.h>
#include <torch/script.h>

#include <filesystem>
#include <fstream>

#include "core/error.h"
#include "io/h5.h"
#include "io/sha256.h"
#include "models/clip/checksum.h"
#include "models/clip/loader.h"
#include "tests/support/test_support.h"
#include "tests/unit/io/pickle_writer.h"
#include "tests/unit/io/zip_writer.h"

namespace rave::models {
namespace {


// Runs `f`, expects an IoError and returns its message.
template <typename F>
std::string io_error(F&& f) {
  try {
    f();
  } catch (const IoError& e) {
    return e.what();
  }
  ADD_FAILURE() << "expected an IoError";
  return "";
}

ClipConfig small_vit() {
  ClipConfig c;
  c.image_resolution = 32;
  c.vision_patch_size = 16;
  c.vision_width = 64;
  c.vision_heads = 1;
  c.vision_layers = {1};
  c.embed_dim = 16;
  c.context_length = 8;
  c.vocab_size = 50;
  c.transformer_width = 64;
  c.transformer_heads = 1;
  c.transformer_layers = 1;
  return c;
}

TEST(ClipLoader, Hdf5StateFileRoundTrip) {
  test::ScratchDir dir;
  ClipModel model(small_vit());
  write_clip_state((dir / "small.h5").string(), *model, "test");
  EXPECT_FALSE(std::filesystem::exists(dir / "small.h5.tmp"));
  const io::h5::File file = io::h5::File::open((dir / "small.h5").string());
  EXPECT_EQ(file.attribute_string("/", "format"), "rave-clip-state");
  EXPECT_EQ(file.attribute_string("/", "config_json"), small_vit().to_json());
  ClipModel loaded = load_clip((dir / "small.h5").string());
  EXPECT_EQ(loaded->config().to_json(), small_vit().to_json());
  for (const auto& item : model->named_parameters()) {
    EXPECT_TRUE(torch::equal(item.value(), loaded->named_parameters()[item.key()])) << item.key();
  }
}

TEST(ClipLoader, MissingUnexpectedAndMisShapedKeysAreListed) {
  ClipModel model(small_vit());
  StateDict state;
  for (const auto& item : model->named_parameters()) {
    if (item.key() == "ln_final.bias") continue;  // missing
    if (item.key() == "visual.proj") {
      state.insert("visual.projection", item.value());  // unexpected (and visual.proj missing)
    } else if (item.key() == "text_projection") {
      state.insert(item.key(), torch::zeros({64, 17}));  // wrong shape
    } else {
      state.insert(item.key(), item.value());
    }
  }
  const std::string message = io_error([&] { load_state(*model, state, "broken.h5"); });
  EXPECT_NE(message.find("broken.h5 does not fit the CLIP model"), std::string::npos) << message;
  EXPECT_NE(message.find("missing keys (2): visual.proj, ln_final.bias"), std::string::npos) << message;
  EXPECT_NE(message.find("unexpected keys (1): visual.projection"), std::string::npos) << message;
  EXPECT_NE(message.find("wrong shapes (1): text_projection [64, 17] (model [64, 16])"), std::string::npos) << message;
}

TEST(ClipLoader, FilesThatAreNotClip) {
  test::ScratchDir dir;
  EXPECT_NE(io_error([&] { read_clip_state((dir / "absent.pt").string()); }).find("cannot open the CLIP model"),
            std::string::npos);
  std::ofstream(dir / "notes.txt") << "not a model";
  EXPECT_NE(io_error([&] {
              read_clip_state((dir / "notes.txt").string());
            }).find("notes.txt is neither a TorchScript archive (zip) nor an HDF5 file"),
            std::string::npos);

  // A valid TorchScript archive of something else.
  torch::jit::Module other("Other");
  other.register_parameter("weight", torch::ones({3}), false);
  other.save((dir / "other.pt").string());
  const std::string message = io_error([&] { build_clip(read_clip_state((dir / "other.pt").string()), "other.pt"); });
  EXPECT_NE(message.find("other.pt is not a CLIP state dict: the key 'visual.layer1.0.conv1.weight' is missing"),
            std::string::npos)
      << message;
}

TEST(ClipLoader, TruncatedArchive) {
  RAVE_REQUIRE_FIXTURES();
  test::ScratchDir dir;
  const std::string truncated = (dir / "tiny_vit.pt").string();
  {
    std::ifstream in(test::fixture("clip", "tiny_vit.pt"), std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::ofstream(truncated, std::ios::binary) << bytes.substr(0, bytes.size() / 2);
  }
  const std::string message = io_error([&] { read_clip_state(truncated); });
  EXPECT_EQ(message.rfind(truncated + ": not a zip archive", 0), 0u) << message;
}

// A state dict written by torch.save (model.state_dict() of a CLIP model, "module." prefixes of nn.DataParallel
// included) loads with the same tensors as the model's HDF5 state file; before, LibTorch's TorchScript loader
// refused it as a damaged download.
TEST(ClipLoader, TorchSaveStateDict) {
  RAVE_REQUIRE_FIXTURES();
  const ClipState reference = read_clip_state(test::fixture("clip", "tiny_vit_state.h5"));
  test::Pickle pickle;
  pickle.ordered_dict().op("(");
  test::ZipWriter zip;
  int64_t storage = 0;
  for (const auto& item : reference.tensors) {
    const torch::Tensor& tensor = item.value();
    const std::string key = std::to_string(storage++);
    std::vector<int64_t> strides(size_t(tensor.dim()));
    for (int64_t d = 0; d < tensor.dim(); ++d) strides[size_t(d)] = tensor.stride(d);
    pickle.text("module." + item.key()).tensor(key, tensor.numel(), 0, tensor.sizes().vec(), strides);
    zip.add("archive/data/" + key, std::string(static_cast<const char*>(tensor.data_ptr()), tensor.nbytes()));
  }
  zip.add("archive/data.pkl", pickle.op("u").stop());
  zip.add("archive/version", "3\n");
  test::ScratchDir dir;
  const std::string path = (dir / "state_dict.pth").string();
  std::ofstream(path, std::ios::binary) << zip.bytes();

  const ClipState loaded = read_clip_state(path);
  ASSERT_EQ(loaded.tensors.size(), reference.tensors.size());
  for (const auto& item : reference.tensors) {
    const torch::Tensor* tensor = loaded.tensors.find(item.key());
    ASSERT_NE(tensor, nullptr) << item.key();
    EXPECT_TRUE(torch::equal(*tensor, item.value())) << item.key();
  }
}

TEST(ClipLoader, ArchiveDropsIntegerEntriesAndUpcasts) {
  RAVE_REQUIRE_FIXTURES();
  const ClipState state = read_clip_state(test::fixture("clip", "tiny_rn.pt"));
  EXPECT_FALSE(state.tensors.contains("input_resolution"));
  EXPECT_FALSE(state.tensors.contains("context_length"));
  EXPECT_FALSE(state.tensors.contains("vocab_size"));
  EXPECT_FALSE(state.tensors.contains("visual.bn1.num_batches_tracked"));
  EXPECT_FALSE(state.config.has_value());
  for (const auto& item : state.tensors) EXPECT_EQ(item.value().scalar_type(), torch::kFloat32) << item.key();
  EXPECT_EQ(state.tensors["visual.conv1.weight"].sizes(), torch::IntArrayRef({8, 3, 3, 3}));
  ClipLoadOptions options;
  options.text_heads = 3;  // does not divide width 32
  EXPECT_THROW(build_clip(state, "tiny_rn.pt", options), Error);
}

TEST(ClipChecksum, Sha256AndKnownNames) {
  test::ScratchDir dir;
  std::ofstream(dir / "abc.txt") << "abc";
  EXPECT_EQ(io::sha256_file((dir / "abc.txt").string()),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(known_sha256("ViT-B-32.pt"), "40d365715913c9da98579312b702a82c18be219cc2a73407c4526f58eba950af");
  EXPECT_EQ(known_sha256("RN101.pt"), "8fa8567bab74a42d41c5915025a8e4538c3bdbe8804a470a72f30b0d94fab599");
  EXPECT_EQ(known_sha256("tiny_vit.pt"), "");
  EXPECT_TRUE(check_known_sha256((dir / "abc.txt").string()));  // unknown name: nothing to check
  std::ofstream(dir / "RN101.pt") << "abc";
  EXPECT_FALSE(check_known_sha256((dir / "RN101.pt").string()));  // a warning, not an error
}

TEST(ClipChecksum, MismatchStillLoads) {
  RAVE_REQUIRE_FIXTURES();
  test::ScratchDir dir;
  std::filesystem::copy_file(test::fixture("clip", "tiny_vit.pt"), dir / "ViT-B-32.pt");
  ClipLoadOptions options;
  options.text_heads = 2;
  EXPECT_EQ(load_clip((dir / "ViT-B-32.pt").string(), options)->config().vision_width, 64);
}

}  // namespace
}  // namespace rave::models

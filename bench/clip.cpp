// rave bench clip: the CLIP encoders (bench/clip.sh runs them beside the PyTorch eager baseline
// bench/clip_reference.py), one of two towers:
//   image: full-size random-weight ViT-B/32 or RN101, encode_image (ViT) / image_features (RN101, the identity
//          loss's use) on a batch of random normalised images, fp32 or bf16 autocast; images/s from the median
//          of the timed iterations.
//   text:  single-word prompts (the vocabulary ids whose decode is one word, as in RAVE's vocabulary sweep)
//          through encode_text in batches, cut to the longest real sequence; prompts/s and real tokens/s. The
//          model and the embeddings are written to PREFIX.state.h5 / PREFIX.text.h5 so that the baseline can
//          check them (<= 1e-4) with the reference procedure (one prompt at a time, full 77-token context).
//   rave bench clip [--tower image] --model vit|rn101 [--precision fp32|bf16] [--batch 32] [--iters 3]
//   rave bench clip --tower text --vocab FILE --out PREFIX [--prompts 4096] [--batch 512]
#include <torch/torch.h>

#include <algorithm>
#include <string>
#include <vector>

#include "bench/report.h"
#include "bench/tasks.h"
#include "bench/timing.h"
#include "io/h5.h"
#include "models/clip/loader.h"
#include "models/clip/tokenizer.h"

namespace rave::bench {
namespace {

using io::po::value;
using models::ClipConfig;
using models::ClipModel;

void declare(io::OptionSet& options) {
  options.flags()
      ("tower", value<std::string>()->default_value("image"), "image or text")
      ("model", value<std::string>()->default_value("vit"), "image tower: vit (ViT-B/32) or rn101")
      ("precision", value<std::string>()->default_value("fp32"), "image tower: fp32 or bf16 (autocast)")
      ("batch", value<int64_t>()->default_value(0), "images or prompts per call (0: 32 images, 512 prompts)")
      ("iters", value<int64_t>()->default_value(3), "image tower: timed batches after one warm-up (median)")
      ("vocab", value<std::string>(), "text tower: CLIP's BPE vocabulary (bpe_simple_vocab_16e6.txt[.gz])")
      ("out", value<std::string>(), "text tower: prefix of the weights and embeddings files for the baseline")
      ("prompts", value<int64_t>()->default_value(4096), "text tower: single-word prompts to encode");
}

nlohmann::ordered_json image(const io::po::variables_map& o, const torch::Device& device) {
  const std::string model_name = o["model"].as<std::string>(), precision = o["precision"].as<std::string>();
  const bool vit = model_name == "vit";
  if (!vit && model_name != "rn101") throw UsageError("rave bench clip: --model is vit or rn101");
  torch::manual_seed(0);
  ClipModel model(vit ? ClipConfig::vit_b32() : ClipConfig::rn101());
  model->set_precision(models::parse_precision(precision));
  model->to(device);
  const int64_t batch = o["batch"].as<int64_t>() > 0 ? o["batch"].as<int64_t>() : 32;
  const int64_t iters = std::max<int64_t>(1, o["iters"].as<int64_t>());
  const torch::Tensor images = torch::randn({batch, 3, 224, 224}).to(device);
  torch::InferenceMode inference;
  auto step = [&] {
    if (vit) {
      model->encode_image(images);
    } else {
      model->image_features(images);
    }
    synchronize(device);
  };
  step();  // warm-up: first-touch allocations, oneDNN primitive creation
  std::vector<double> times;
  for (int64_t i = 0; i < iters; ++i) {
    const auto start = Clock::now();
    step();
    times.push_back(seconds_since(start));
  }
  nlohmann::ordered_json j;
  j["bench"] = "clip_image";
  j["impl"] = "rave";
  j["model"] = vit ? "ViT-B/32" : "RN101";
  j["call"] = vit ? "encode_image" : "image_features";
  j["precision"] = precision;
  j["batch"] = batch;
  j["iters"] = iters;
  j["seconds_per_batch"] = rounded(median(times), 1e4);
  j["images_per_s"] = rounded(batch / median(times), 100);
  return j;
}

nlohmann::ordered_json text(const io::po::variables_map& o) {
  const std::string out = io::required_value(o, "out", "rave bench clip --tower text");
  const models::Tokenizer tokenizer(io::required_value(o, "vocab", "rave bench clip --tower text"));
  const int64_t prompts = o["prompts"].as<int64_t>();
  // Single-word prompts: vocabulary entries that decode to one word and tokenize back to [start, id, end].
  std::vector<std::string> words;
  for (int32_t id = 256; id < 49406 && static_cast<int64_t>(words.size()) < prompts; ++id) {
    const std::string word = tokenizer.decode({id});
    if (word.size() > 1 && word.back() == ' ' && tokenizer.encode(word) == std::vector<int32_t>{id}) {
      words.push_back(word.substr(0, word.size() - 1));
    }
  }
  const torch::Tensor tokens = tokenizer.tokenize(words);
  const int64_t n = tokens.size(0), batch = o["batch"].as<int64_t>() > 0 ? o["batch"].as<int64_t>() : 512;

  torch::manual_seed(0);
  ClipModel model(ClipConfig::vit_b32());
  torch::InferenceMode inference;
  model->encode_text(tokens.narrow(0, 0, std::min<int64_t>(batch, n)));  // warm-up
  std::vector<torch::Tensor> embeddings;
  const auto start = Clock::now();
  for (int64_t i = 0; i < n; i += batch) {
    embeddings.push_back(model->encode_text(tokens.narrow(0, i, std::min(batch, n - i))));
  }
  const double seconds = seconds_since(start);
  // Start token, word, end token of each prompt; padding is not a real token.
  const int64_t real_tokens = (tokens.argmax(-1) + 1).sum().item<int64_t>();

  models::write_clip_state(out + ".state.h5", *model, "rave bench clip: random ViT-B/32 (seed 0)");
  io::h5::File side = io::h5::File::create(out + ".text.h5");
  side.write("tokens", tokens);
  side.write("embeddings", torch::cat(embeddings));
  side.close();
  nlohmann::ordered_json j;
  j["bench"] = "clip_text";
  j["impl"] = "rave";
  j["procedure"] = "batched, cut to the longest real sequence";
  j["prompts"] = n;
  j["batch"] = batch;
  j["real_tokens"] = real_tokens;
  j["seconds"] = rounded(seconds, 1e4);
  j["prompts_per_s"] = rounded(n / seconds, 10);
  j["tokens_per_s"] = rounded(real_tokens / seconds, 10);
  j["state"] = out + ".state.h5";
  j["embeddings"] = out + ".text.h5";
  return j;
}

int run(const launch::Invocation& invocation) {
  const std::string tower = invocation.options["tower"].as<std::string>();
  if (tower != "image" && tower != "text") throw UsageError("rave bench clip: --tower is image or text");
  return report(invocation, tower == "image" ? image(invocation.options, invocation.context->device())
                                             : text(invocation.options));
}

}  // namespace

launch::Command clip_task() {
  return {"clip", "CLIP image or text tower throughput, random weights (JSON)", true, declare, run};
}

}  // namespace rave::bench

// CLIP encoder benchmarks (bench/clip.sh runs them beside the PyTorch eager baseline bench/clip_reference.py):
//   image: full-size random-weight ViT-B/32 or RN101, encode_image (ViT) / image_features (RN101, the identity
//          loss's use) on a batch of random normalised images, fp32 or bf16 autocast; images/s from the median
//          of the timed iterations.
//   text:  single-word prompts (the vocabulary ids whose decode is one word, as in RAVE's vocabulary sweep)
//          through encode_text in batches, cut to the longest real sequence; prompts/s and real tokens/s. The
//          model and the embeddings are written to PREFIX.state.h5 / PREFIX.text.h5 so that the baseline can
//          check them (<= 1e-4) with the reference procedure (one prompt at a time, full 77-token context).
// Prints one JSON object.
//   bench_clip image --model vit|rn101 [--precision fp32|bf16] [--batch 32] [--iters 3] [--threads 0]
//   bench_clip text --vocab FILE --out PREFIX [--prompts 4096] [--batch 512] [--threads 0]
#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "bench/task_main.h"
#include "bench/timing.h"
#include "dist/error.h"
#include "io/h5.h"
#include "models/clip/loader.h"
#include "models/clip/tokenizer.h"

namespace {

using rave::bench::Clock;
using rave::bench::median;
using rave::bench::rounded;
using rave::bench::seconds_since;
using rave::models::ClipConfig;
using rave::models::ClipModel;

struct Arguments {
  std::string task, model = "vit", precision = "fp32", vocab, out;
  int64_t batch = 0, iters = 3, prompts = 4096, threads = 0;
};

Arguments parse(int argc, char** argv) {
  Arguments a;
  if (argc < 2) throw rave::UsageError("usage: bench_clip image|text [flags]", "see the top of bench/clip.cpp");
  a.task = argv[1];
  for (int i = 2; i + 1 < argc; i += 2) {
    const std::string flag = argv[i], value = argv[i + 1];
    if (flag == "--model") a.model = value;
    else if (flag == "--precision") a.precision = value;
    else if (flag == "--vocab") a.vocab = value;
    else if (flag == "--out") a.out = value;
    else if (flag == "--batch") a.batch = std::atoll(value.c_str());
    else if (flag == "--iters") a.iters = std::atoll(value.c_str());
    else if (flag == "--prompts") a.prompts = std::atoll(value.c_str());
    else if (flag == "--threads") a.threads = std::atoll(value.c_str());
    else throw rave::UsageError("bench_clip: unknown flag " + flag);
  }
  return a;
}

nlohmann::ordered_json image(const Arguments& a) {
  const bool vit = a.model == "vit";
  if (!vit && a.model != "rn101") throw rave::UsageError("bench_clip image: --model vit or rn101");
  torch::manual_seed(0);
  ClipModel model(vit ? ClipConfig::vit_b32() : ClipConfig::rn101());
  model->set_precision(rave::models::parse_precision(a.precision));
  const int64_t batch = a.batch > 0 ? a.batch : 32;
  const torch::Tensor images = torch::randn({batch, 3, 224, 224});
  torch::InferenceMode inference;
  auto step = [&] {
    if (vit) {
      model->encode_image(images);
    } else {
      model->image_features(images);
    }
  };
  step();  // warm-up: first-touch allocations, oneDNN primitive creation
  std::vector<double> times;
  for (int64_t i = 0; i < a.iters; ++i) {
    const auto start = Clock::now();
    step();
    times.push_back(seconds_since(start));
  }
  nlohmann::ordered_json j;
  j["bench"] = "clip_image";
  j["impl"] = "rave";
  j["model"] = vit ? "ViT-B/32" : "RN101";
  j["call"] = vit ? "encode_image" : "image_features";
  j["precision"] = a.precision;
  j["batch"] = batch;
  j["iters"] = a.iters;
  j["threads"] = torch::get_num_threads();
  j["seconds_per_batch"] = rounded(median(times), 1e4);
  j["images_per_s"] = rounded(batch / median(times), 100);
  return j;
}

nlohmann::ordered_json text(const Arguments& a) {
  if (a.vocab.empty() || a.out.empty()) throw rave::UsageError("bench_clip text needs --vocab and --out");
  const rave::models::Tokenizer tokenizer(a.vocab);
  // Single-word prompts: vocabulary entries that decode to one word and tokenize back to [start, id, end].
  std::vector<std::string> words;
  for (int32_t id = 256; id < 49406 && static_cast<int64_t>(words.size()) < a.prompts; ++id) {
    const std::string word = tokenizer.decode({id});
    if (word.size() > 1 && word.back() == ' ' && tokenizer.encode(word) == std::vector<int32_t>{id}) {
      words.push_back(word.substr(0, word.size() - 1));
    }
  }
  const torch::Tensor tokens = tokenizer.tokenize(words);
  const int64_t n = tokens.size(0), batch = a.batch > 0 ? a.batch : 512;

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

  rave::models::write_clip_state(a.out + ".state.h5", *model, "bench_clip random ViT-B/32 (seed 0)");
  rave::io::h5::File side = rave::io::h5::File::create(a.out + ".text.h5");
  side.write("tokens", tokens);
  side.write("embeddings", torch::cat(embeddings));
  side.close();
  nlohmann::ordered_json j;
  j["bench"] = "clip_text";
  j["impl"] = "rave";
  j["procedure"] = "batched, cut to the longest real sequence";
  j["prompts"] = n;
  j["batch"] = batch;
  j["threads"] = torch::get_num_threads();
  j["real_tokens"] = real_tokens;
  j["seconds"] = rounded(seconds, 1e4);
  j["prompts_per_s"] = rounded(n / seconds, 10);
  j["tokens_per_s"] = rounded(real_tokens / seconds, 10);
  j["state"] = a.out + ".state.h5";
  j["embeddings"] = a.out + ".text.h5";
  return j;
}

}  // namespace

int main(int argc, char** argv) {
  const auto prepare = [](const Arguments& a) {
    if (a.threads > 0) torch::set_num_threads(static_cast<int>(a.threads));
  };
  return rave::bench::task_main<Arguments>("bench_clip", argc, argv, parse, {{"image", image}, {"text", text}},
                                           prepare);
}

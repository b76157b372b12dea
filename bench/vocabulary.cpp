// rave bench vocabulary: the vocabulary sweep of `rave analyze` / `rave correct` with the full-size ViT-B/32 text encoder (random
// weights, seed 0: the cost does not depend on the values), against the reference procedure of RAVE's
// train_rave.py: one id at a time, tokenize(decode([id])) padded to 77, encode_text over the full context.
// The reference is timed on an evenly spread sample of ids and extrapolated to the 49,408 ids; its embeddings
// are compared with the sweep's. Then the cached rerun: key (weights hash + vocabulary hash) and file read.
// Run under mpirun to split the sweep over ranks; rank 0 times the reference and prints one JSON object.
// Besides wall time, rank 0's process CPU time is reported: on a machine shared with other work, the CPU-time
// ratio of two single-threaded runs is the fairer comparison (it leaves out the time other processes had).
#include <torch/torch.h>

#include <filesystem>
#include <limits>

#include "analysis/vocabulary/vocabulary.h"
#include "analysis/vocabulary/vocabulary_cache.h"
#include "bench/report.h"
#include "bench/tasks.h"
#include "bench/timing.h"
#include "dist/communicator.h"
#include "models/clip/clip_model.h"
#include "models/clip/loader.h"
#include "models/clip/transformer.h"

namespace rave::bench {
namespace {

namespace fs = std::filesystem;
using io::po::value;

void declare(io::OptionSet& options) {
  options.flags()
      ("vocab", value<std::string>(), "CLIP's BPE vocabulary (bpe_simple_vocab_16e6.txt[.gz])")
      ("clip", value<std::string>()->default_value(""), "a real CLIP model instead of the random ViT-B/32")
      ("batch", value<int64_t>()->default_value(512), "texts per encoder call")
      ("sample", value<int64_t>()->default_value(256), "ids the reference procedure is timed on")
      ("cache", value<std::string>()->default_value(""), "folder of the cached rerun (default: a temporary one)")
      ("skip-reference", io::po::bool_switch(), "time the sweep and the cached rerun only");
}

double cpu_seconds_since(double start) { return cpu_seconds() - start; }

// train_rave.py's encode_text on one padded row [1, 77]: no cut after the end token.
torch::Tensor reference_encode(models::ClipModelImpl& model, const torch::Tensor& ids) {
  const int64_t context = ids.size(1);
  const torch::Tensor x = model.token_embedding(ids.to(torch::kLong)) + model.positional_embedding;
  const torch::Tensor mask =
      torch::full({context, context}, -std::numeric_limits<float>::infinity()).triu(1);
  const torch::Tensor h = model.transformer(x, mask);
  const torch::Tensor end = h.select(0, 0).select(0, ids.argmax(-1).item<int64_t>());
  return torch::matmul(models::layer_norm_fp32(model.ln_final, end), model.text_projection);
}

int run(const launch::Invocation& invocation) {
  const auto& o = invocation.options;
  const std::string vocab = io::required_value(o, "vocab", "rave bench vocabulary");
  const std::string clip = o["clip"].as<std::string>(), cache = o["cache"].as<std::string>();
  const dist::Context& context = *invocation.context;
  auto communicator = dist::make_communicator(context, "mpi");
  const bool root = context.is_root();
  const models::Tokenizer tokenizer(vocab);
  torch::manual_seed(0);
  models::ClipModel model =
      clip.empty() ? models::ClipModel(models::ClipConfig::vit_b32()) : models::load_clip(clip);
  analysis::VocabularyEmbeddingOptions options;
  options.batch_size = o["batch"].as<int64_t>();
  options.show_progress = false;

  communicator->barrier();
  const auto start = Clock::now();
  const double cpu_start = cpu_seconds();
  const analysis::VocabularyEmbeddings vocabulary =
      analysis::embed_vocabulary(*model, tokenizer, communicator.get(), options);
  const double sweep_cpu = cpu_seconds_since(cpu_start);
  communicator->barrier();
  const double sweep = seconds_since(start);

  nlohmann::ordered_json j;
  j["bench"] = "vocabulary_sweep";
  j["model"] = clip.empty() ? "ViT-B/32 text encoder (random weights)" : clip;
  j["batch"] = o["batch"].as<int64_t>();
  j["ids"] = vocabulary.size();
  j["distinct_texts_encoded"] = vocabulary.string_count();
  j["sweep_seconds"] = rounded(sweep);
  j["sweep_cpu_seconds_rank0"] = rounded(sweep_cpu);
  if (root && !o["skip-reference"].as<bool>()) {
    // Evenly spread ids: the sample sees byte tokens, short and long merges and the special tokens alike.
    const int64_t n = std::min(o["sample"].as<int64_t>(), vocabulary.size());
    double reference_seconds = 0, reference_cpu = 0, max_abs_diff = 0;
    torch::InferenceMode inference;
    for (int64_t i = 0; i < n; ++i) {
      const auto id = static_cast<int32_t>(i * (vocabulary.size() - 1) / std::max<int64_t>(1, n - 1));
      const auto begin = Clock::now();
      const double cpu_begin = cpu_seconds();
      const torch::Tensor ids = tokenizer.tokenize({tokenizer.decode({id})});
      const torch::Tensor embedding = reference_encode(*model, ids);
      reference_cpu += cpu_seconds_since(cpu_begin);
      reference_seconds += seconds_since(begin);
      max_abs_diff = std::max(max_abs_diff, (embedding - vocabulary.embeddings[id]).abs().max().item<double>());
    }
    const double extrapolated = reference_seconds / double(n) * double(vocabulary.size());
    j["reference_sample_ids"] = n;
    j["reference_seconds_per_id"] = rounded(reference_seconds / double(n), 1e6);
    j["reference_extrapolated_seconds"] = rounded(extrapolated, 10);
    j["speedup"] = rounded(extrapolated / sweep, 10);
    const double extrapolated_cpu = reference_cpu / double(n) * double(vocabulary.size());
    j["reference_extrapolated_cpu_seconds"] = rounded(extrapolated_cpu, 10);
    j["speedup_cpu_time"] = rounded(extrapolated_cpu / sweep_cpu, 10);
    j["max_abs_diff_vs_reference"] = max_abs_diff;
  }
  if (root) {
    const fs::path dir = cache.empty() ? fs::temp_directory_path() / "rave-bench-vocabulary" : fs::path(cache);
    const analysis::VocabularyCacheKey key = analysis::vocabulary_cache_key(*model, tokenizer);
    analysis::write_vocabulary_cache(analysis::vocabulary_cache_path(dir, key), vocabulary, key,
                                           {"random ViT-B/32 (seed 0)", vocab});
    const auto begin = Clock::now();
    const auto cached =
        analysis::cached_vocabulary_embeddings(*model, tokenizer, nullptr, dir, {"", vocab}, options);
    j["cached_rerun_seconds"] = rounded(seconds_since(begin));
    j["cached_equal"] = torch::equal(cached.embeddings, vocabulary.embeddings);
    if (cache.empty()) fs::remove_all(dir);
  }
  return report(invocation, j);
}

}  // namespace

launch::Command vocabulary_task() {
  return {"vocabulary", "the vocabulary sweep beside the reference procedure, under mpirun (JSON)", true, declare,
          run};
}

}  // namespace rave::bench

// The vocabulary sweep of `rave analyze` / `rave correct` with the full-size ViT-B/32 text encoder (random
// weights, seed 0: the cost does not depend on the values), against the reference procedure of RAVE's
// train_rave.py: one id at a time, tokenize(decode([id])) padded to 77, encode_text over the full context.
// The reference is timed on an evenly spread sample of ids and extrapolated to the 49,408 ids; its embeddings
// are compared with the sweep's. Then the cached rerun: key (weights hash + vocabulary hash) and file read.
// Run under mpirun to split the sweep over ranks; rank 0 times the reference and prints one JSON object.
// Besides wall time, rank 0's process CPU time is reported: on a machine shared with other work, the CPU-time
// ratio of two single-threaded runs is the fairer comparison (it leaves out the time other processes had).
//   bench_vocabulary --vocab FILE [--clip FILE] [--batch 512] [--sample 256] [--threads 0] [--cache DIR]
//                    [--skip-reference]        (--clip: a real model instead of the random ViT-B/32)
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>
#include <torch/torch.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <cstdlib>
#include <filesystem>
#include <limits>
#include <string>

#include "analysis/vocabulary.h"
#include "analysis/vocabulary_cache.h"
#include "dist/communicator.h"
#include "dist/context.h"
#include "dist/error.h"
#include "models/clip/clip_model.h"
#include "models/clip/loader.h"
#include "models/clip/transformer.h"

namespace {

using Clock = std::chrono::steady_clock;
namespace fs = std::filesystem;

struct Arguments {
  std::string vocab, cache, clip;
  int64_t batch = 512, sample = 256, threads = 0;
  bool reference = true;
};

Arguments parse(int argc, char** argv) {
  Arguments a;
  for (int i = 1; i < argc; ++i) {
    const std::string flag = argv[i];
    if (flag == "--skip-reference") {
      a.reference = false;
      continue;
    }
    if (i + 1 == argc) throw rave::UsageError("bench_vocabulary: " + flag + " needs a value");
    const std::string value = argv[++i];
    if (flag == "--vocab") a.vocab = value;
    else if (flag == "--cache") a.cache = value;
    else if (flag == "--clip") a.clip = value;
    else if (flag == "--batch") a.batch = std::atoll(value.c_str());
    else if (flag == "--sample") a.sample = std::atoll(value.c_str());
    else if (flag == "--threads") a.threads = std::atoll(value.c_str());
    else throw rave::UsageError("bench_vocabulary: unknown flag " + flag, "see the top of bench/vocabulary.cpp");
  }
  if (a.vocab.empty()) throw rave::UsageError("bench_vocabulary needs --vocab FILE");
  return a;
}

double seconds_since(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }
double cpu_seconds_since(std::clock_t start) { return double(std::clock() - start) / CLOCKS_PER_SEC; }
double rounded(double x, double unit = 1000) { return std::round(x * unit) / unit; }

// train_rave.py's encode_text on one padded row [1, 77]: no cut after the end token.
torch::Tensor reference_encode(rave::models::ClipModelImpl& model, const torch::Tensor& ids) {
  const int64_t context = ids.size(1);
  const torch::Tensor x = model.token_embedding(ids.to(torch::kLong)) + model.positional_embedding;
  const torch::Tensor mask =
      torch::full({context, context}, -std::numeric_limits<float>::infinity()).triu(1);
  const torch::Tensor h = model.transformer(x, mask);
  const torch::Tensor end = h.select(0, 0).select(0, ids.argmax(-1).item<int64_t>());
  return torch::matmul(rave::models::layer_norm_fp32(model.ln_final, end), model.text_projection);
}

}  // namespace

int main(int argc, char** argv) {
  try {
    const Arguments a = parse(argc, argv);
    spdlog::set_level(spdlog::level::warn);  // stdout carries the JSON only
    rave::dist::Context context(&argc, &argv, {"cpu", static_cast<int>(a.threads)});
    auto communicator = rave::dist::make_communicator(context, "mpi");
    const bool root = context.is_root();
    const rave::models::Tokenizer tokenizer(a.vocab);
    torch::manual_seed(0);
    rave::models::ClipModel model = a.clip.empty() ? rave::models::ClipModel(rave::models::ClipConfig::vit_b32())
                                                   : rave::models::load_clip(a.clip);
    rave::analysis::VocabularyEmbeddingOptions options;
    options.batch_size = a.batch;
    options.show_progress = false;

    communicator->barrier();
    const auto start = Clock::now();
    const std::clock_t cpu_start = std::clock();
    const rave::analysis::VocabularyEmbeddings vocabulary =
        rave::analysis::embed_vocabulary(*model, tokenizer, communicator.get(), options);
    const double sweep_cpu = cpu_seconds_since(cpu_start);
    communicator->barrier();
    const double sweep = seconds_since(start);

    nlohmann::ordered_json j;
    j["bench"] = "vocabulary_sweep";
    j["model"] = a.clip.empty() ? "ViT-B/32 text encoder (random weights)" : a.clip;
    j["ranks"] = context.world_size();
    j["threads_per_rank"] = torch::get_num_threads();
    j["batch"] = a.batch;
    j["ids"] = vocabulary.size();
    j["distinct_texts_encoded"] = vocabulary.string_count();
    j["sweep_seconds"] = rounded(sweep);
    j["sweep_cpu_seconds_rank0"] = rounded(sweep_cpu);
    if (root && a.reference) {
      // Evenly spread ids: the sample sees byte tokens, short and long merges and the special tokens alike.
      const int64_t n = std::min(a.sample, vocabulary.size());
      double reference_seconds = 0, reference_cpu = 0, max_abs_diff = 0;
      torch::InferenceMode inference;
      for (int64_t i = 0; i < n; ++i) {
        const auto id = static_cast<int32_t>(i * (vocabulary.size() - 1) / std::max<int64_t>(1, n - 1));
        const auto begin = Clock::now();
        const std::clock_t cpu_begin = std::clock();
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
      const fs::path dir = a.cache.empty() ? fs::temp_directory_path() / "rave-bench-vocabulary" : fs::path(a.cache);
      const rave::analysis::VocabularyCacheKey key = rave::analysis::vocabulary_cache_key(*model, tokenizer);
      rave::analysis::write_vocabulary_cache(rave::analysis::vocabulary_cache_path(dir, key), vocabulary, key,
                                             {"random ViT-B/32 (seed 0)", a.vocab});
      const auto begin = Clock::now();
      const auto cached =
          rave::analysis::cached_vocabulary_embeddings(*model, tokenizer, nullptr, dir, {"", a.vocab}, options);
      j["cached_rerun_seconds"] = rounded(seconds_since(begin));
      j["cached_equal"] = torch::equal(cached.embeddings, vocabulary.embeddings);
      if (a.cache.empty()) fs::remove_all(dir);
      std::printf("%s\n", j.dump().c_str());
    }
    return 0;
  } catch (const rave::Error& e) {
    std::fprintf(stderr, "bench_vocabulary: %s %s\n", e.what(), e.hint().c_str());
    return 2;
  }
}

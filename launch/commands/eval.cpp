// rave eval: paired metrics of enhanced images against ground truth (analysis/metrics/evaluate.h): a summary table on
// the terminal, a CSV row per image and a JSON summary. Distributed: ranks split the image pairs.
#include <spdlog/spdlog.h>

#include <filesystem>
#include <fstream>
#include <iostream>

#include "analysis/metrics/eval_output.h"
#include "analysis/metrics/evaluate.h"
#include "core/error.h"
#include "launch/commands/all.h"

namespace rave::launch {
namespace {

using io::po::value;

void declare(io::OptionSet& options) {
  options.flags()
      ("pred", value<std::string>(), "folder of enhanced images")
      ("gt", value<std::string>(), "folder of ground-truth images (paired by file stem)")
      ("out", value<std::string>(), "JSON summary file (the per-image CSV goes beside it unless --csv is given)")
      ("csv", value<std::string>(), "per-image CSV file")
      ("clip", value<std::string>(), "CLIP model (.pt/.h5) for CLIP-FID and the backlit prompt score")
      ("vocab", value<std::string>(), "BPE merges file, for the backlit prompt score")
      ("lpips-model", value<std::string>(), "TorchScript LPIPS export (docs/evaluation.md)")
      ("inception-model", value<std::string>(), "TorchScript Inception-v3 pool3 export, for FID (docs/evaluation.md)")
      ("batch-size", value<int64_t>()->default_value(16), "images per CLIP / Inception forward pass");
}

void warn_unmatched(const std::vector<std::filesystem::path>& files, const char* what) {
  if (files.empty()) return;
  spdlog::warn("{} {} file(s) have no partner and are not evaluated:", files.size(), what);
  for (const auto& file : files) spdlog::warn("  {}", file.string());
}

void write_json(const std::filesystem::path& path, const nlohmann::ordered_json& json) {
  std::error_code ignored;  // a folder that cannot be made is reported by the write below
  if (path.has_parent_path()) std::filesystem::create_directories(path.parent_path(), ignored);
  std::ofstream out(path);
  out << json.dump(2) << "\n";
  if (!out.flush()) throw IoError("cannot write " + path.string(), "check that the folder exists and is writable");
}

int run(const Invocation& invocation) {
  const auto& options = invocation.options;
  const std::string pred = io::required_value(options, "pred", "rave eval");
  const std::string gt = io::required_value(options, "gt", "rave eval");
  analysis::EvalOptions eval;
  eval.clip = io::optional_value(options, "clip");
  eval.vocab = io::optional_value(options, "vocab");
  eval.lpips_model = io::optional_value(options, "lpips-model");
  eval.inception_model = io::optional_value(options, "inception-model");
  eval.batch_size = io::bounded_value(options, "batch-size", 1, io::kMaxBatchSize);
  if (!eval.vocab.empty() && eval.clip.empty()) {
    throw UsageError("--vocab is used by the CLIP prompt score", "give --clip too");
  }
  const bool root = !invocation.context || invocation.context->is_root();
  const analysis::Pairing pairing = analysis::pair_folders(pred, gt);
  if (root) {
    warn_unmatched(pairing.unmatched_pred, "enhanced");
    warn_unmatched(pairing.unmatched_gt, "ground-truth");
    spdlog::info("{} image pairs", pairing.pairs.size());
  }
  const analysis::EvalResult result = analysis::evaluate(pairing, eval, invocation.context);
  if (!root) return 0;
  std::cout << analysis::summary_table(result) << std::flush;
  std::filesystem::path csv = io::optional_value(options, "csv");
  if (const std::string out = io::optional_value(options, "out"); !out.empty()) {
    nlohmann::ordered_json json = {{"pred", pred}, {"gt", gt}, {"clip", eval.clip}, {"lpips_model", eval.lpips_model},
                                   {"inception_model", eval.inception_model},
                                   {"ranks", invocation.context ? invocation.context->world_size() : 1}};
    json.update(analysis::summary_json(result));
    write_json(out, json);
    spdlog::info("wrote {}", out);
    if (csv.empty()) csv = std::filesystem::path(out).replace_extension(".csv");
  }
  if (!csv.empty()) {
    analysis::write_per_image_csv(csv, result);
    spdlog::info("wrote {}", csv.string());
  }
  return 0;
}

}  // namespace

Command eval_command() {
  return {"eval", "PSNR, SSIM, LPIPS and CLIP-space metrics of enhanced images", true, declare, run};
}

}  // namespace rave::launch

// rave eval: paired metrics of enhanced images against ground truth (analysis/metrics/evaluate.h): a summary table on
// the terminal, a CSV row per image and a JSON summary. Distributed: ranks split the image pairs.
#include <spdlog/spdlog.h>

#include <filesystem>
#include <fstream>
#include <iostream>

#include "analysis/metrics/eval_output.h"
#include "analysis/metrics/evaluate.h"
#include "core/error.h"
#include "io/option_binder.h"
#include "launch/commands/all.h"

namespace rave::launch {
namespace {

// Every flag of rave eval (io/option_binder.h); the models and the batch size go to EvalOptions, with its defaults.
struct EvalFlags {
  std::string pred;
  std::string gt;
  std::string out;
  std::string csv;
  analysis::EvalOptions eval;
};

void bind(io::OptionBinder& b, EvalFlags& f) {
  b.command_line_only();
  b.bind("pred", f.pred, "folder of enhanced images");
  b.bind("gt", f.gt, "folder of ground-truth images (paired by file stem)");
  b.bind("out", f.out, "JSON summary file (the per-image CSV goes beside it unless --csv is given)");
  b.bind("csv", f.csv, "per-image CSV file");
  b.bind("clip", f.eval.clip, "CLIP model (.pt/.h5) for CLIP-FID and the backlit prompt score");
  b.bind("vocab", f.eval.vocab, "BPE merges file, for the backlit prompt score");
  b.bind("lpips-model", f.eval.lpips_model, "TorchScript LPIPS export (docs/evaluation.md)");
  b.bind("inception-model", f.eval.inception_model,
         "TorchScript Inception-v3 pool3 export, for FID (docs/evaluation.md)");
  b.bind("batch-size", f.eval.batch_size, "images per CLIP / Inception forward pass");
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
  const EvalFlags flags = io::read_flags<EvalFlags>(invocation.options);
  const std::string& pred = io::required_value(flags.pred, "pred", "rave eval");
  const std::string& gt = io::required_value(flags.gt, "gt", "rave eval");
  const analysis::EvalOptions& eval = flags.eval;
  io::check_range("batch-size", eval.batch_size, 1, io::kMaxBatchSize);
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
  std::filesystem::path csv = flags.csv;
  if (const std::string& out = flags.out; !out.empty()) {
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
  return {"eval", "PSNR, SSIM, LPIPS and CLIP-space metrics of enhanced images", true,
          io::declare_flags<EvalFlags>, run};
}

}  // namespace rave::launch

#include "analysis/render/run_artifacts.h"

#include <torch/torch.h>

#include <algorithm>
#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>

#include "core/error.h"
#include "io/h5.h"

namespace rave::analysis {
namespace {

namespace fs = std::filesystem;

std::string string_attribute(const io::h5::File& file, const char* name) {
  return file.has_attribute("/", name) ? file.attribute_string("/", name) : std::string();
}

int64_t int_attribute(const io::h5::File& file, const char* name) {
  return file.has_attribute("/", name) ? file.attribute_int("/", name) : -1;
}

CheckpointSummary summarise_checkpoint(const fs::path& path) {
  CheckpointSummary summary;
  summary.path = path;
  std::error_code error;
  summary.bytes = fs::file_size(path, error);
  try {
    const io::h5::File file = io::h5::File::open(path.string());
    summary.format = string_attribute(file, "format");
    summary.method = string_attribute(file, "method");
    summary.stage = string_attribute(file, "stage");
    summary.config = string_attribute(file, "config");
    summary.step = int_attribute(file, "step");
    summary.round = int_attribute(file, "round");
    summary.world_size = int_attribute(file, "world_size");
    if (file.has_attribute("enhancer", "padding_mode")) {
      summary.training_padding = file.attribute_string("enhancer", "padding_mode");
    }
  } catch (const Error& e) {
    summary = CheckpointSummary{path, summary.bytes, {}, {}, {}, {}, {}, -1, -1, -1, e.what()};
  }
  return summary;
}

std::vector<TokenScore> token_list(const nlohmann::json& j, const char* key, const fs::path& path) {
  std::vector<TokenScore> tokens;
  if (!j.contains(key)) return tokens;
  if (!j[key].is_array()) throw IoError(path.string() + ": \"" + std::string(key) + "\" is not an array");
  for (const auto& entry : j[key]) {
    if (!entry.is_object() || !entry.contains("token") || !entry["token"].is_string() || !entry.contains("score") ||
        !entry["score"].is_number()) {
      throw IoError(path.string() + ": entries of \"" + std::string(key) +
                        "\" need a string \"token\" and a number \"score\"",
                    "write the file with rave analyze --json");
    }
    tokens.push_back({entry["token"].get<std::string>(), entry["score"].get<double>()});
  }
  return tokens;
}

}  // namespace

std::vector<SampleGrid> list_sample_grids(const fs::path& run_dir) {
  std::vector<SampleGrid> grids;
  const fs::path folder = run_dir / "samples";
  std::error_code error;
  if (!fs::is_directory(folder, error)) return grids;
  static const std::regex name("step_([0-9]{1,18})\\.png");
  for (const auto& entry : fs::directory_iterator(folder, error)) {
    std::smatch match;
    const std::string file = entry.path().filename().string();
    if (entry.is_regular_file() && std::regex_match(file, match, name)) {
      grids.push_back({std::stoll(match[1].str()), entry.path()});
    }
  }
  std::sort(grids.begin(), grids.end(), [](const SampleGrid& a, const SampleGrid& b) { return a.step < b.step; });
  return grids;
}

std::vector<CheckpointSummary> read_checkpoints(const fs::path& run_dir) {
  std::vector<CheckpointSummary> checkpoints;
  const fs::path folder = run_dir / "checkpoints";
  std::error_code error;
  if (!fs::is_directory(folder, error)) return checkpoints;
  for (const auto& entry : fs::directory_iterator(folder, error)) {
    if (entry.is_regular_file() && entry.path().extension() == ".h5") {
      checkpoints.push_back(summarise_checkpoint(entry.path()));
    }
  }
  std::sort(checkpoints.begin(), checkpoints.end(), [](const CheckpointSummary& a, const CheckpointSummary& b) {
    if (a.error.empty() != b.error.empty()) return a.error.empty();
    return a.step != b.step ? a.step < b.step : a.path < b.path;
  });
  return checkpoints;
}

ResidualSummary read_residual_summary(const fs::path& path) {
  const io::h5::File file = io::h5::File::open(path.string());
  const torch::Tensor r = file.read("residual").to(torch::kFloat64).flatten();
  const torch::Tensor v_pos = file.read("v_pos").to(torch::kFloat64).flatten();
  const torch::Tensor v_neg = file.read("v_neg").to(torch::kFloat64).flatten();
  if (v_pos.numel() != r.numel() || v_neg.numel() != r.numel()) {
    throw IoError(path.string() + ": residual, v_pos and v_neg differ in length", "recompute it with rave residual");
  }
  ResidualSummary summary;
  summary.dim = r.numel();
  summary.norm = r.norm().item<double>();
  summary.tau = file.read("tau").item<double>();
  summary.cos_pos_neg = v_pos.dot(v_neg).item<double>();
  summary.n_pos = file.read("n_pos").item<int64_t>();
  summary.n_neg = file.read("n_neg").item<int64_t>();
  return summary;
}

TokenAnalysis read_token_analysis(const fs::path& path) {
  std::ifstream in(path);
  if (!in) throw IoError("cannot read " + path.string());
  const nlohmann::json j = nlohmann::json::parse(in, nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    throw IoError(path.string() + " is not a JSON object", "write it with rave analyze --json > analysis.json");
  }
  return {token_list(j, "top", path), token_list(j, "bottom", path)};
}

}  // namespace rave::analysis

#include "analysis/metrics/eval_output.h"

#include <torch/torch.h>

#include <cmath>
#include <fstream>
#include <iomanip>
#include <sstream>

#include "core/error.h"

namespace rave::analysis {
namespace {

struct ColumnStats {
  double mean, std, min, max;
};

ColumnStats stats(const torch::Tensor& column) {
  const bool several = column.numel() > 1;
  return {column.mean().item<double>(), several ? column.std().item<double>() : 0.0, column.min().item<double>(),
          column.max().item<double>()};
}

std::string fixed(double value, int decimals) {
  if (std::isnan(value)) return "n/a";
  std::ostringstream out;
  out << std::fixed << std::setprecision(decimals) << value;
  return out.str();
}

nlohmann::ordered_json number(double value) {
  return std::isnan(value) ? nlohmann::ordered_json() : nlohmann::ordered_json(value);
}

// RFC 4180: a field with a comma, quote or line break is quoted, quotes doubled.
std::string csv_field(const std::string& text) {
  if (text.find_first_of(",\"\n\r") == std::string::npos) return text;
  std::string quoted = "\"";
  for (char c : text) quoted += c == '"' ? std::string("\"\"") : std::string(1, c);
  return quoted + "\"";
}

std::vector<std::string> path_strings(const std::vector<std::filesystem::path>& paths) {
  std::vector<std::string> out;
  for (const auto& p : paths) out.push_back(p.string());
  return out;
}

}  // namespace

std::string summary_table(const EvalResult& result) {
  std::ostringstream out;
  out << std::left << std::setw(20) << "metric" << std::right << std::setw(12) << "mean" << std::setw(12) << "std"
      << std::setw(12) << "min" << std::setw(12) << "max" << "\n";
  for (size_t c = 0; c < result.columns.size(); ++c) {
    const ColumnStats s = stats(result.values.select(1, static_cast<int64_t>(c)));
    out << std::left << std::setw(20) << result.columns[c] << std::right << std::setw(12) << fixed(s.mean, 4)
        << std::setw(12) << fixed(s.std, 4) << std::setw(12) << fixed(s.min, 4) << std::setw(12) << fixed(s.max, 4)
        << "\n";
  }
  for (const auto& [name, value] : result.set_metrics) {
    out << std::left << std::setw(20) << name << std::right << std::setw(12) << fixed(value, 4) << "  (whole set)\n";
  }
  out << result.pairing.pairs.size() << " pairs";
  if (!result.pairing.unmatched_pred.empty() || !result.pairing.unmatched_gt.empty()) {
    out << "; without a partner: " << result.pairing.unmatched_pred.size() << " enhanced, "
        << result.pairing.unmatched_gt.size() << " ground truth";
  }
  out << "\n";
  return out.str();
}

void write_per_image_csv(const std::filesystem::path& path, const EvalResult& result) {
  std::error_code ignored;  // a folder that cannot be made is reported by the write below
  if (path.has_parent_path()) std::filesystem::create_directories(path.parent_path(), ignored);
  std::ofstream out(path);
  if (!out) throw IoError("cannot write " + path.string(), "check that the folder exists and is writable");
  out << "stem,pred,gt";
  for (const std::string& column : result.columns) out << "," << column;
  out << "\n";
  const auto values = result.values.accessor<double, 2>();
  for (size_t i = 0; i < result.pairing.pairs.size(); ++i) {
    const ImagePair& pair = result.pairing.pairs[i];
    out << csv_field(pair.stem) << "," << csv_field(pair.pred.string()) << "," << csv_field(pair.gt.string());
    for (size_t c = 0; c < result.columns.size(); ++c) out << "," << fixed(values[i][c], 6);
    out << "\n";
  }
  if (!out.flush()) throw IoError("cannot write " + path.string(), "check the free disk space");
}

nlohmann::ordered_json summary_json(const EvalResult& result) {
  nlohmann::ordered_json j;
  j["pairs"] = result.pairing.pairs.size();
  nlohmann::ordered_json metrics = nlohmann::ordered_json::object();
  for (size_t c = 0; c < result.columns.size(); ++c) {
    const ColumnStats s = stats(result.values.select(1, static_cast<int64_t>(c)));
    metrics[result.columns[c]] = {{"mean", number(s.mean)}, {"std", number(s.std)}, {"min", number(s.min)},
                                  {"max", number(s.max)}, {"definition", metric_definition(result.columns[c])}};
  }
  for (const auto& [name, value] : result.set_metrics) {
    metrics[name] = {{"value", number(value)}, {"definition", metric_definition(name)}};
  }
  j["metrics"] = metrics;
  j["unmatched_pred"] = path_strings(result.pairing.unmatched_pred);
  j["unmatched_gt"] = path_strings(result.pairing.unmatched_gt);
  return j;
}

}  // namespace rave::analysis

#include "guidance/residual_file.h"

#include <torch/torch.h>

#include <chrono>
#include <cstdio>
#include <ctime>
#include <filesystem>

#include "core/error.h"
#include "dist/random.h"
#include "guidance/encoders.h"
#include "io/dataset.h"
#include "io/h5.h"
#include "rave/version.h"

namespace rave::guidance {
namespace {

std::string utc_now() {
  const std::time_t now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&now));
  return buf;
}

void write_provenance(io::h5::File& out, const ResidualProvenance& provenance) {
  out.write_strings("provenance/tokens", provenance.tokens);
  out.write_strings("provenance/phrases", provenance.phrases);
  out.write("provenance/weights", torch::tensor(provenance.weights, torch::kFloat64));
  out.set_attribute("provenance", "source", provenance.source);
  out.set_attribute("provenance", "operation", provenance.operation);
  out.set_attribute("provenance", "formula", provenance.formula);
  out.set_attribute("provenance", "text_encoder", provenance.text_encoder);
}

ResidualProvenance read_provenance(const io::h5::File& in) {
  ResidualProvenance provenance;
  provenance.source = in.attribute_string("provenance", "source");
  provenance.operation = in.attribute_string("provenance", "operation");
  provenance.formula = in.attribute_string("provenance", "formula");
  provenance.text_encoder = in.attribute_string("provenance", "text_encoder");
  provenance.tokens = in.read_strings("provenance/tokens");
  provenance.phrases = in.read_strings("provenance/phrases");
  const torch::Tensor weights = in.read("provenance/weights").to(torch::kFloat64).contiguous();
  provenance.weights.assign(weights.data_ptr<double>(), weights.data_ptr<double>() + weights.numel());
  return provenance;
}

}  // namespace

std::vector<std::string> file_names(const io::ImageFolder& folder) {
  std::vector<std::string> names;
  for (const auto& file : folder.files()) names.push_back(file.filename().string());
  return names;
}

std::string file_list_hash(const std::vector<std::string>& backlit, const std::vector<std::string>& welllit) {
  uint64_t hash = 0x9e3779b97f4a7c15ULL;
  for (const auto* list : {&backlit, &welllit}) {
    for (const std::string& name : *list) {
      for (unsigned char c : name) hash = dist::mix64(hash ^ c);
      hash = dist::mix64(hash ^ 0x100);  // separator, so that ["ab"] and ["a", "b"] differ
    }
    hash = dist::mix64(hash ^ 0x200);
  }
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(hash));
  return hex;
}

void write_residual_file(const std::string& path, const ResidualFile& file) {
  const std::string temporary = path + ".tmp";
  {
    io::h5::File out = io::h5::File::create(temporary);
    const ResidualVector& v = file.vector;
    out.write("residual", v.residual);
    out.write("v_pos", v.v_pos);
    out.write("v_neg", v.v_neg);
    out.write("tau", torch::tensor(v.tau, torch::kFloat64));
    out.write("n_pos", torch::tensor(v.n_pos, torch::kInt64));
    out.write("n_neg", torch::tensor(v.n_neg, torch::kInt64));
    out.write_strings("backlit_files", file.backlit_files);
    out.write_strings("welllit_files", file.welllit_files);
    out.set_attribute("/", "format", "rave-residual");
    out.set_attribute("/", "format_version", int64_t(kResidualFormatVersion));
    out.set_attribute("/", "encoder", file.encoder);
    out.set_attribute("/", "files_hash", file_list_hash(file.backlit_files, file.welllit_files));
    out.set_attribute("/", "note", file.note);
    out.set_attribute("/", "created", utc_now());
    out.set_attribute("/", "rave_version", kVersion);
    if (file.provenance) write_provenance(out, *file.provenance);
    out.close();
  }
  std::error_code error;
  std::filesystem::rename(temporary, path, error);
  if (error) throw IoError("cannot move " + temporary + " to " + path + ": " + error.message());
}

ResidualFile read_residual_file(const std::string& path) {
  const io::h5::File in = io::h5::File::open(path);
  if (!in.has_attribute("/", "format") || in.attribute_string("/", "format") != "rave-residual") {
    throw IoError(path + " is not a rave residual file (no format=\"rave-residual\" attribute)",
                  "residual files are written by `rave residual` and `rave correct`");
  }
  const int64_t version = in.attribute_int("/", "format_version");
  if (version > kResidualFormatVersion) {
    throw IoError(path + " has residual format version " + std::to_string(version) + ", newer than this rave reads (" +
                  std::to_string(kResidualFormatVersion) + ")", "update rave");
  }
  ResidualFile file;
  file.vector.residual = in.read("residual");
  file.vector.v_pos = in.read("v_pos");
  file.vector.v_neg = in.read("v_neg");
  file.vector.tau = in.read_scalar("tau").item<double>();
  file.vector.n_pos = in.read_scalar("n_pos").item<int64_t>();
  file.vector.n_neg = in.read_scalar("n_neg").item<int64_t>();
  file.backlit_files = in.read_strings("backlit_files");
  file.welllit_files = in.read_strings("welllit_files");
  file.encoder = in.attribute_string("/", "encoder");
  file.note = in.attribute_string("/", "note");
  if (in.exists("provenance")) file.provenance = read_provenance(in);
  const auto d = file.vector.residual.numel();
  if (file.vector.residual.dim() != 1 || file.vector.v_pos.numel() != d || file.vector.v_neg.numel() != d) {
    throw IoError(path + ": residual, v_pos and v_neg must be vectors of one length (got " +
                  c10::str(file.vector.residual.sizes()) + ", " + c10::str(file.vector.v_pos.sizes()) + ", " +
                  c10::str(file.vector.v_neg.sizes()) + ")");
  }
  return file;
}

ResidualFile read_residual_file_for(const std::string& path, const GuidanceEncoder& encoder) {
  ResidualFile file = read_residual_file(path);
  if (file.vector.residual.numel() != encoder.dim()) {
    throw UsageError(path + " holds a " + std::to_string(file.vector.residual.numel()) +
                     "-dimensional residual; the guidance encoder " + encoder.name() + " embeds in " +
                     std::to_string(encoder.dim()) + " dimensions");
  }
  return file;
}

}  // namespace rave::guidance

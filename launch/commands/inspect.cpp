// rave inspect: summary of a checkpoint or residual file: what it is (format, method, step, stage, world
// size, configuration), what it holds (parameter count, the cond* padding it was trained with and the one rave
// enhance uses, residual norm and tau) and what was verified: the whole-file SHA-256 and length of rave's header
// and the manifest (io::h5::File::open refuses a file failing either), and every dataset read back with a valid
// checksum. Exit code 1 when anything fails, the enhancer's weights hold NaN or infinite values, or the file is
// invalid. --reseal writes a verified copy of a checkpoint with rave's header, which loading requires.
#include <nlohmann/json.hpp>

#include <cstring>
#include <iostream>
#include <optional>
#include <sstream>

#include "core/error.h"
#include "guidance/residual_file.h"
#include "io/checkpoint.h"
#include "io/h5.h"
#include "io/option_binder.h"
#include "launch/commands/all.h"
#include "models/enhancer.h"

namespace rave::launch {
namespace {

using Json = nlohmann::ordered_json;

// Every flag of rave inspect (io/option_binder.h).
struct InspectFlags {
  std::optional<std::string> file;
  bool json = false;
  std::optional<std::string> reseal;
};

void bind(io::OptionBinder& b, InspectFlags& f) {
  b.command_line_only();
  b.bind("file", f.file, "checkpoint or residual file (positional)");
  b.bind("json", f.json, "print JSON");
  b.bind("reseal", f.reseal,
         "write the checkpoint FILE to this path with rave's header (SHA-256), after checking every dataset's "
         "checksum: for checkpoints of another tool or an older rave, which training and enhancing refuse");
  b.positional("file");
}

// Root attributes of each kind of file, in the order the summary lists them (the configuration last).
struct Attribute {
  const char* name;
  bool integer;
};
const std::vector<Attribute> kCheckpointAttributes = {
    {"format_version", true}, {"method", false}, {"stage", false},      {"step", true},
    {"round", true},          {"world_size", true}, {"seed", true},     {"source", false},
    {"created", false},       {"rave_version", false}, {"config", false}};
const std::vector<Attribute> kResidualAttributes = {{"format_version", true}, {"encoder", false},
                                                    {"files_hash", false},    {"note", false},
                                                    {"created", false},       {"rave_version", false}};

Json read_attributes(const io::h5::File& file, const std::vector<Attribute>& attributes) {
  Json out = Json::object();
  for (const Attribute& a : attributes) {
    if (!file.has_attribute("/", a.name)) continue;
    if (a.integer) {
      out[a.name] = file.attribute_int("/", a.name);
    } else {
      out[a.name] = file.attribute_string("/", a.name);
    }
  }
  return out;
}

// Reads every dataset, which verifies every checksum: HDF5 the Fletcher-32 filter of arrays, io::h5 the CRC-32 of
// scalars. A file whose objects cannot all be listed fails before (damaged metadata); what open() verified, the
// whole-file hash and the manifest, is recorded beside.
Json verify_datasets(const io::h5::File& file) {
  Json failures = Json::array();
  int64_t checksummed = 0;
  const auto names = file.datasets();
  for (const std::string& name : names) {
    try {
      if (file.is_text(name)) {
        file.read_strings(name);
      } else {
        file.read(name);
      }
      checksummed += file.checksummed(name);
    } catch (const IoError& e) {
      failures.push_back(Json{{"dataset", name}, {"error", e.what()}});
    }
  }
  return {{"ok", failures.empty()},          {"whole_file_sha256", file.sealed()},
          {"manifest", file.has_manifest()},  {"datasets", names.size()},
          {"with_checksum", checksummed},     {"attributes", file.attribute_count()},
          {"failures", failures}};
}

Json checkpoint_contents(const std::string& path) {
  const io::Checkpoint checkpoint = io::Checkpoint::read(path, io::h5::Unsealed::accept);
  int64_t parameters = 0;
  const io::TensorMap enhancer = checkpoint.group("enhancer");
  for (const auto& [name, tensor] : enhancer) parameters += tensor.numel();
  Json groups = Json::object();
  for (const auto& [name, tensor] : checkpoint.tensors) {
    const std::string group = name.substr(0, name.find('/'));
    groups[group] = groups.value(group, 0) + 1;
  }
  // The cond* padding the weights were trained with (the checkpoint's record) and the one rave enhance runs them
  // with unless --padding says otherwise: they differ for every model trained and evaluated as the papers do.
  Json out = {{"enhancer_tensors", enhancer.size()},
              {"parameters", parameters},
              {"training_padding", checkpoint.enhancer_padding},
              {"enhance_padding", models::kEvaluationPadding},
              {"groups", groups}};
  // A diverged run's weights: rave enhance and resume refuse them (models::load_enhancer_state), so inspect fails too.
  Json non_finite = Json::object();
  for (const auto& [name, tensor] : enhancer) {
    const int64_t count = tensor.numel() - torch::isfinite(tensor).sum().item<int64_t>();
    if (count > 0) non_finite[name] = count;
  }
  if (!non_finite.empty()) out["non_finite_values"] = non_finite;
  if (checkpoint.tensors.count("guidance/residual")) {
    out["residual_norm"] = checkpoint.tensors.at("guidance/residual").norm().item<double>();
  }
  if (checkpoint.tensors.count("guidance/tau")) {
    out["tau"] = checkpoint.at("guidance/tau", io::kScalarShape).item<double>();
  }
  return out;
}

Json residual_contents(const std::string& path) {
  const guidance::ResidualFile file = guidance::read_residual_file(path);
  const auto& v = file.vector;
  Json out = {{"dimension", v.residual.numel()}, {"residual_norm", v.residual.norm().item<double>()}, {"tau", v.tau},
              {"n_pos", v.n_pos}, {"n_neg", v.n_neg}, {"backlit_files", file.backlit_files.size()},
              {"welllit_files", file.welllit_files.size()}};
  if (const auto& p = file.provenance) {
    out["provenance"] = {{"source", p->source},   {"operation", p->operation}, {"formula", p->formula},
                         {"text_encoder", p->text_encoder}, {"tokens", p->tokens}, {"phrases", p->phrases},
                         {"weights", p->weights}};
  }
  return out;
}

// How `rave correct` derived a residual vector, one line per field; token and phrase lists quoted (the
// trailing space of end-of-word tokens matters) with their weights.
void print_provenance(const Json& provenance, std::ostream& out) {
  out << "provenance       " << provenance["operation"].get<std::string>() << " of "
      << provenance["source"].get<std::string>() << "\n";
  out << "  formula        " << provenance["formula"].get<std::string>() << "\n";
  out << "  text encoder   " << provenance["text_encoder"].get<std::string>() << "\n";
  const Json& weights = provenance["weights"];
  for (const char* list : {"tokens", "phrases"}) {
    const Json& items = provenance[list];
    if (items.empty()) continue;
    out << "  " << list << std::string(13 - std::strlen(list), ' ');
    for (size_t i = 0; i < items.size(); ++i) {
      out << (i ? ", " : "") << items[i].dump(-1, ' ', false, Json::error_handler_t::replace);
      if (weights.size() == items.size()) out << " " << weights[i].get<double>();
    }
    out << "\n";
  }
}

Json summarise(const std::string& path) {
  const io::h5::File file = io::h5::File::open(path);
  const std::string format = file.has_attribute("/", "format") ? file.attribute_string("/", "format") : "";
  const bool checkpoint = format == io::kCheckpointFormat, residual = format == "rave-residual";
  if (!checkpoint && !residual) {
    throw IoError(path + ": not a rave file (format attribute '" + format + "')",
                  "rave inspect reads checkpoints (rave train, rave import) and residual files (rave residual)");
  }
  Json summary = {{"file", path}, {"format", format}};
  summary.update(read_attributes(file, checkpoint ? kCheckpointAttributes : kResidualAttributes));
  summary["checksums"] = verify_datasets(file);
  if (summary["checksums"]["ok"]) summary.update(checkpoint ? checkpoint_contents(path) : residual_contents(path));
  return summary;
}

std::string scalar_text(const Json& value) { return value.is_string() ? value.get<std::string>() : value.dump(); }

void print_text(const Json& summary, std::ostream& out) {
  for (const auto& [key, value] : summary.items()) {
    if (key == "config" || key == "checksums" || key == "provenance") continue;
    std::string text;
    if (value.is_object()) {
      for (const auto& [name, count] : value.items()) text += (text.empty() ? "" : ", ") + name + " " + count.dump();
    } else {
      text = scalar_text(value);
    }
    out << key << std::string(key.size() < 17 ? 17 - key.size() : 1, ' ') << text << "\n";
  }
  const Json& checks = summary["checksums"];
  const bool sealed = checks["whole_file_sha256"];
  out << "whole-file hash  "
      << (sealed ? "ok (SHA-256 and length of every byte after rave's header)"
                 : "none (written by another tool or an older rave: only the datasets' own checksums are verified)")
      << "\n";
  out << "manifest         "
      << (checks["manifest"] ? "complete (" + checks["datasets"].dump() + " datasets, each present)" : "none") << "\n";
  out << "checksums        "
      << (checks["ok"] ? "ok" : "FAILED") << " (" << checks["datasets"] << " datasets read, "
      << checks["with_checksum"] << " with a checksum)\n";
  out << "attributes       " << checks["attributes"]
      << (sealed ? " (covered by the whole-file hash)" : " (no checksum without the whole-file hash)") << "\n";
  for (const auto& failure : checks["failures"]) out << "  " << failure["error"].get<std::string>() << "\n";
  if (summary.contains("provenance")) print_provenance(summary["provenance"], out);
  if (summary.contains("config") && !summary["config"].get<std::string>().empty()) {
    out << "config\n";
    std::istringstream lines(summary["config"].get<std::string>());
    for (std::string line; std::getline(lines, line);) out << "  " << line << "\n";
  }
}

// Reading verifies every dataset's checksum; writing adds the header and the manifest (io::h5::File::create).
int reseal(const std::string& path, const std::string& to) {
  const io::Checkpoint checkpoint = io::Checkpoint::read(path, io::h5::Unsealed::accept);
  checkpoint.write(to);
  std::cout << "resealed " << path << " (" << checkpoint.tensors.size() << " datasets verified) as " << to << "\n";
  return 0;
}

int run(const Invocation& invocation) {
  const InspectFlags flags = io::read_flags<InspectFlags>(invocation.options);
  if (!flags.file) throw UsageError("rave inspect needs a FILE", "rave inspect FILE [--json | --reseal NEW.h5]");
  if (flags.reseal) return reseal(*flags.file, *flags.reseal);
  const Json summary = summarise(*flags.file);
  if (flags.json) {
    std::cout << summary.dump(2) << "\n";
  } else {
    print_text(summary, std::cout);
  }
  return summary["checksums"]["ok"] && !summary.contains("non_finite_values") ? 0 : 1;
}

}  // namespace

Command inspect_command() {
  return {"inspect", "summarise a rave HDF5 file", false, io::declare_flags<InspectFlags>, run};
}

}  // namespace rave::launch

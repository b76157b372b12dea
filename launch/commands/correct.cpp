// rave correct: a bias-corrected copy of a residual vector (analysis/vocabulary/residual_correction.h has the
// formulas): the reference's token shift with n tokens, the removal of phrase directions, or the addition of one.
// The new file keeps v_pos, v_neg, the counts and the file lists, recomputes tau, and records its provenance, so
// that `rave train --residual OUT` trains with it and `rave inspect OUT` says how it was made.
#include <spdlog/spdlog.h>

#include <cmath>
#include <optional>

#include "analysis/vocabulary/phrases.h"
#include "analysis/vocabulary/residual_correction.h"
#include "analysis/vocabulary/text_tower.h"
#include "core/error.h"
#include "dist/communicator.h"
#include "io/option_binder.h"
#include "launch/commands/all.h"
#include "launch/commands/text_tower_option.h"

namespace rave::launch {
namespace {

// Every flag of rave correct (io/option_binder.h); the defaults of the sweep and of the text tower are
// VocabularyEmbeddingOptions' and TextTowerOptions'. The operations have no default: given or not.
struct CorrectFlags {
  std::string residual;
  std::string out;
  std::optional<int> remove_tokens;
  std::optional<std::string> remove_phrases;
  std::optional<std::string> add_phrase;
  double weight = 1.0;
  VocabularySweep sweep;
  analysis::TextTowerOptions tower;
};

void bind(io::OptionBinder& b, CorrectFlags& f) {
  b.command_line_only();
  b.bind("residual", f.residual, "residual-vector file to correct");
  b.bind("out", f.out, "corrected residual-vector file (the input is never modified)");
  b.bind("remove-tokens", f.remove_tokens,
         "the reference's shift with the N most and N least aligned vocabulary texts (RAVE-shifted used 15)");
  b.bind("remove-phrases", f.remove_phrases,
         "remove the span of these phrase directions (comma-separated, or @FILE with one a line)");
  b.bind("add-phrase", f.add_phrase, "add this phrase direction, scaled by --weight");
  b.bind("weight", f.weight, "weight of --add-phrase (r' = n(r + w n(u)))");
  bind_vocabulary_sweep(b, f.sweep);
  bind_text_tower(b, f.tower);
}

// The one operation asked for; UsageError for none or several (chain several by correcting the output again).
std::string operation(const CorrectFlags& f) {
  std::vector<std::string> given;
  for (const auto& [name, is_given] : {std::pair{"remove-tokens", f.remove_tokens.has_value()},
                                       {"remove-phrases", f.remove_phrases.has_value()},
                                       {"add-phrase", f.add_phrase.has_value()}}) {
    if (is_given) given.push_back(name);
  }
  if (given.size() != 1) {
    throw UsageError(given.empty() ? "rave correct needs one of --remove-tokens, --remove-phrases, --add-phrase"
                                   : "rave correct takes one operation at a time (got --" + given[0] + " and --" +
                                         given[1] + ")",
                     "to combine them, correct the output file again");
  }
  return given[0];
}

// The numbers of the flags, before the model and the vocabulary are loaded.
void check_numbers(const CorrectFlags& f) {
  check_vocabulary_sweep(f.sweep);
  if (f.remove_tokens) io::check_range("remove-tokens", *f.remove_tokens, 1, 100'000);
  if (!std::isfinite(f.weight)) {
    throw UsageError("--weight " + io::shortest_text(f.weight) + " must be a finite number");
  }
}

struct Result {
  analysis::Correction correction;
  guidance::ResidualProvenance provenance;
  std::string summary;  // for the note
};

Result shift_tokens(int n, analysis::TextTower& tower, const guidance::ResidualFile& source,
                    dist::Communicator& communicator, const CorrectFlags& flags) {
  const analysis::VocabularyEmbeddings vocabulary =
      tower.vocabulary(&communicator, flags.sweep.cache, flags.sweep.options);
  const analysis::TokenShift shift = analysis::shift_by_tokens(vocabulary, source.vector, n);
  Result result{shift, {}, "token shift with " + std::to_string(n) + " + " + std::to_string(n) + " tokens"};
  result.provenance.operation = "shift-tokens";
  result.provenance.formula =
      "c_s = <n(u_s), r> over the distinct decoded vocabulary texts; A = the " + std::to_string(n) +
      " largest, Z = the " + std::to_string(n) +
      " smallest; a = n(mean_A c_s u_s), z = n(mean_Z c_s u_s), d = n(a + z), r' = n(r - <d, r> d), "
      "tau = <v_pos, r'> (the RAVE code's token shift, docs/analysis.md; tokens: A then Z, weights: their c_s)";
  for (const auto* list : {&shift.removing, &shift.adding}) {
    for (const analysis::TokenMatch& m : *list) {
      result.provenance.tokens.push_back(m.text);
      result.provenance.weights.push_back(m.cosine);
    }
  }
  return result;
}

Result remove_phrases(const std::string& spec, analysis::TextTower& tower, const guidance::ResidualFile& source) {
  const std::vector<std::string> phrases = analysis::parse_phrases(spec);
  Result result{analysis::remove_directions(source.vector, tower.embed(phrases)), {},
                "removed the span of " + std::to_string(phrases.size()) + " phrase direction(s)"};
  result.provenance.operation = "remove-phrases";
  result.provenance.formula =
      "q_1..q_K = Gram-Schmidt of the phrase embeddings u_k; r' = n(r - sum_k <q_k, r> q_k), tau = <v_pos, r'>";
  result.provenance.phrases = phrases;
  return result;
}

Result add_phrase(const std::string& phrase, double weight, analysis::TextTower& tower,
                  const guidance::ResidualFile& source) {
  Result result{analysis::add_direction(source.vector, tower.embed({phrase}), weight), {},
                "added the phrase direction \"" + phrase + "\" with weight " + std::to_string(weight)};
  result.provenance.operation = "add-phrase";
  result.provenance.formula = "r' = n(r + w n(u)), tau = <v_pos, r'>";
  result.provenance.phrases = {phrase};
  result.provenance.weights = {weight};
  return result;
}

int run(const Invocation& invocation) {
  const CorrectFlags flags = io::read_flags<CorrectFlags>(invocation.options);
  const std::string command = "rave correct";
  const std::string& source_path = io::required_value(flags.residual, "residual", command);
  const std::string& out = io::required_value(flags.out, "out", command);
  const std::string op = operation(flags);
  check_numbers(flags);
  const guidance::ResidualFile source = guidance::read_residual_file(source_path);
  analysis::TextTower tower(checked_text_tower(flags.tower, command, invocation.context->device()));
  tower.check_fits(source, source_path);
  auto communicator = dist::make_communicator(*invocation.context, "mpi");

  Result result = op == "remove-tokens"    ? shift_tokens(*flags.remove_tokens, tower, source, *communicator, flags)
                  : op == "remove-phrases" ? remove_phrases(*flags.remove_phrases, tower, source)
                                           : add_phrase(*flags.add_phrase, flags.weight, tower, source);
  result.provenance.source = source_path;
  result.provenance.text_encoder = tower.options().clip;

  guidance::ResidualFile corrected = source;
  corrected.vector = result.correction.vector;
  corrected.note = result.summary + " of " + source_path + " (" + source.note + ")";
  corrected.provenance = result.provenance;
  if (invocation.context->is_root()) {
    guidance::write_residual_file(out, corrected);
    const torch::Tensor r = source.vector.residual.to(torch::kFloat64);
    const torch::Tensor r2 = corrected.vector.residual.to(torch::kFloat64);
    const torch::Tensor removed = result.correction.removed;
    spdlog::info("wrote {}: {}; tau {:.6f} -> {:.6f}, <r, r'> = {:.6f}, |r'| = {:.7f}{}", out, result.summary,
                 source.vector.tau, corrected.vector.tau, r.dot(r2).item<double>(), r2.norm().item<double>(),
                 removed.size(0) ? fmt::format(", max |<q, r'>| over the removed directions = {:.2e}",
                                               torch::mv(removed, r2).abs().max().item<double>())
                                 : "");
  }
  communicator->barrier();
  return 0;
}

}  // namespace

Command correct_command() {
  return {"correct", "remove or add directions of a residual vector", true, io::declare_flags<CorrectFlags>, run};
}

}  // namespace rave::launch

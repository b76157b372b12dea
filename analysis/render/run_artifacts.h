// The files of a run directory besides the training log, as the report shows them:
//   samples/step_<N>.png     sample grids (input | enhanced | light map)
//   checkpoints/*.h5         rave checkpoints (root attributes format, method, step, round, stage, world_size, config;
//                            /enhancer's padding_mode)
//   residual.h5              RAVE's residual vector (residual, tau, v_pos, v_neg, n_pos, n_neg)
//   analysis.json            `rave analyze --json`: "top" / "bottom" arrays of {"token", "score"}
// Any of them may be absent; readers of single files throw IoError naming the file.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace rave::analysis {

struct SampleGrid {
  int64_t step;
  std::filesystem::path path;
};

// The sample grids sorted by step; empty when RUN_DIR/samples does not exist. Other files there are ignored.
std::vector<SampleGrid> list_sample_grids(const std::filesystem::path& run_dir);

struct CheckpointSummary {
  std::filesystem::path path;
  std::uintmax_t bytes = 0;
  std::string format, method, stage, config;  // empty when the attribute is absent
  std::string training_padding;               // cond* padding the weights were trained with (/enhancer padding_mode)
  int64_t step = -1, round = -1, world_size = -1;
  std::string error;  // why the file could not be read; the other fields are then unset
};

// Every RUN_DIR/checkpoints/*.h5, sorted by step (unreadable files last, by name); empty when the folder is absent.
std::vector<CheckpointSummary> read_checkpoints(const std::filesystem::path& run_dir);

struct ResidualSummary {
  int64_t dim = 0;
  double norm = 0;         // |r|, 1 for a well-formed file
  double tau = 0;
  double cos_pos_neg = 0;  // <v_pos, v_neg>
  int64_t n_pos = 0, n_neg = 0;
};

ResidualSummary read_residual_summary(const std::filesystem::path& path);

struct TokenScore {
  std::string token;
  double score;
};

struct TokenAnalysis {
  std::vector<TokenScore> top, bottom;
};

TokenAnalysis read_token_analysis(const std::filesystem::path& path);

}  // namespace rave::analysis

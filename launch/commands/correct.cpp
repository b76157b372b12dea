// rave correct: bias correction of a residual vector.
#include "launch/commands/all.h"

namespace rave::launch {
namespace {

using io::po::value;

void declare(io::OptionSet& options) {
  options.flags()
      ("residual", value<std::string>(), "residual-vector file")
      ("out", value<std::string>(), "corrected residual-vector file")
      ("remove-tokens", value<int>(), "remove the span of the top N tokens (the RAVE-shifted procedure)")
      ("remove-phrases", value<std::string>(), "remove the span of these comma-separated phrase directions")
      ("add-phrase", value<std::string>(), "add this phrase direction")
      ("weight", value<double>()->default_value(1.0), "weight of --add-phrase");
  options.section("guidance")
      ("clip", value<std::string>(), "CLIP model whose text encoder embeds phrases")
      ("vocab", value<std::string>(), "BPE merges file");
}

}  // namespace

Command correct_command() { return {"correct", "remove or add directions of a residual vector", true, declare}; }

}  // namespace rave::launch

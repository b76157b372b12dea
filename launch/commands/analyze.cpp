// rave analyze: projections of a residual vector onto CLIP text embeddings.
#include "launch/commands/all.h"

namespace rave::launch {
namespace {

using io::po::value;

void declare(io::OptionSet& options) {
  options.flags()
      ("residual", value<std::string>(), "residual-vector file")
      ("top", value<int>()->default_value(20), "number of top and bottom tokens")
      ("phrases", value<std::string>(), "comma-separated phrases (or @file) to project onto")
      ("json", io::po::bool_switch(), "print JSON instead of a table");
  options.section("guidance")
      ("clip", value<std::string>(), "CLIP model whose text encoder embeds the vocabulary")
      ("vocab", value<std::string>(), "BPE merges file");
}

}  // namespace

Command analyze_command() {
  return {"analyze", "project a residual vector onto the CLIP vocabulary to reveal dataset bias", true, declare};
}

}  // namespace rave::launch

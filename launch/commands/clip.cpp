// rave clip: tokenize text and embed text or images with a CLIP model (JSON on stdout).
#include "launch/commands/all.h"

namespace rave::launch {
namespace {

using io::po::value;

void declare(io::OptionSet& options) {
  options.flags()
      ("action", value<std::string>(), "tokenize, embed-text or embed-image (positional)")
      ("clip", value<std::string>(), "CLIP model (.pt or .h5)")
      ("vocab", value<std::string>(), "BPE merges file")
      ("text", value<std::string>(), "text to tokenize or embed")
      ("image", value<std::string>(), "image to embed");
  options.positional("action");
}

}  // namespace

Command clip_command() { return {"clip", "tokenize or embed text and images with CLIP (JSON)", false, declare}; }

}  // namespace rave::launch

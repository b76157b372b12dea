// rave eval: paired metrics of enhanced images against ground truth.
#include "launch/commands/all.h"

namespace rave::launch {
namespace {

using io::po::value;

void declare(io::OptionSet& options) {
  options.flags()
      ("pred", value<std::string>(), "folder of enhanced images")
      ("gt", value<std::string>(), "folder of ground-truth images (paired by file stem)")
      ("out", value<std::string>(), "JSON summary file")
      ("clip", value<std::string>(), "CLIP model for CLIP-space metrics");
}

}  // namespace

Command eval_command() { return {"eval", "PSNR, SSIM and CLIP-space metrics of enhanced images", true, declare}; }

}  // namespace rave::launch

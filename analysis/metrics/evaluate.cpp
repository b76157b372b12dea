#include "analysis/metrics/evaluate.h"

#include <spdlog/spdlog.h>
#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <memory>
#include <optional>

#include "analysis/metrics/clip_metrics.h"
#include "analysis/metrics/frechet.h"
#include "analysis/metrics/metrics.h"
#include "analysis/metrics/scripted_metrics.h"
#include "core/error.h"
#include "core/progress.h"
#include "dist/communicator.h"
#include "io/image.h"

namespace rave::analysis {
namespace {

const std::map<std::string, std::string>& definitions() {
  static const std::map<std::string, std::string> table = {
      {"psnr_y", "PSNR of the BT.601 Y channel, 10 log10(1/(MSE+1e-8)), data range 1 (as pyiqa's psnr, docs/evaluation.md)"},
      {"psnr_rgb", "PSNR over the RGB channels, 10 log10(1/(MSE+1e-8)), data range 1"},
      {"ssim", "SSIM (Wang et al. 2004) on RGB: 11x11 Gaussian window, sigma 1.5, K1 0.01, K2 0.03, data range 1, "
               "mean over the valid region and the channels"},
      {"psnr_reference", "the reference script's PSNR: OpenCV PSNR (peak 255) of its 8-bit grey images "
                         "(0.299 B + 0.587 G + 0.114 R, channels swapped as in the script)"},
      {"ssim_reference", "the reference script's SSIM: scikit-image defaults on its grey images (7x7 uniform window, "
                         "sample covariance, data range max-min of the enhanced image)"},
      {"lpips", "LPIPS distance of the supplied TorchScript model, inputs scaled to [-1,1], full resolution"},
      {"clip_backlit_pred", "CLIP probability of 'backlit photo' vs 'well-lit photo' for the enhanced image "
                            "(lower is better)"},
      {"clip_backlit_gt", "CLIP probability of 'backlit photo' vs 'well-lit photo' for the ground truth"},
      {"fid_clip", "Frechet distance between the unit CLIP image embeddings of the enhanced and ground-truth sets"},
      {"fid_inception", "Frechet distance between the Inception pool3 features (299x299 PIL bicubic inputs) of the "
                        "enhanced and ground-truth sets"},
  };
  return table;
}

// The set-level part of one embedding network: a batch being filled, and the moments of both sets.
struct FeatureSets {
  explicit FeatureSets(int64_t dim) : pred_moments(dim), gt_moments(dim) {}
  std::vector<torch::Tensor> pred, gt;
  std::vector<int64_t> rows;
  FeatureMoments pred_moments, gt_moments;
};

class Evaluator {
 public:
  Evaluator(const Pairing& pairing, const EvalOptions& options, const torch::Device& device)
      : pairing_(pairing), options_(options), device_(device) {
    columns_ = {"psnr_y", "psnr_rgb", "ssim", "psnr_reference", "ssim_reference"};
    if (!options.lpips_model.empty()) {
      lpips_.emplace(options.lpips_model, device);
      columns_.push_back("lpips");
    }
    if (!options.clip.empty()) {
      clip_.emplace(options.clip, options.vocab, device);
      clip_sets_.emplace(clip_->dim());
      if (clip_->has_prompt_score()) {
        columns_.push_back("clip_backlit_pred");
        columns_.push_back("clip_backlit_gt");
      } else {
        spdlog::warn("no --vocab given: CLIP-FID only, no backlit prompt score");
      }
    }
    if (!options.inception_model.empty()) {
      inception_.emplace(options.inception_model, device);
      inception_sets_.emplace(inception_->dim());
    }
    values_ = torch::zeros({static_cast<int64_t>(pairing.pairs.size()), static_cast<int64_t>(columns_.size())},
                           torch::kFloat64);
  }

  void add(int64_t row) {
    const ImagePair& pair = pairing_.pairs[row];
    const torch::Tensor pred_u8 = io::read_image_u8(pair.pred.string()), gt_u8 = io::read_image_u8(pair.gt.string());
    if (pred_u8.sizes() != gt_u8.sizes()) {
      throw IoError("enhanced image " + pair.pred.string() + " is " + size_text(pred_u8) + " but its ground truth " +
                        pair.gt.string() + " is " + size_text(gt_u8),
                    "evaluate enhanced images at the resolution of the ground truth (rave enhance keeps the size)");
    }
    const torch::Tensor pred = io::to_float_chw(pred_u8).to(device_), gt = io::to_float_chw(gt_u8).to(device_);
    const torch::Tensor pred_grey = reference_grey(pred_u8), gt_grey = reference_grey(gt_u8);
    set(row, "psnr_y", psnr_y(pred, gt).item<double>());
    set(row, "psnr_rgb", psnr_rgb(pred, gt).item<double>());
    set(row, "ssim", ssim(pred, gt).item<double>());
    set(row, "psnr_reference", psnr_reference(pred_grey, gt_grey));
    set(row, "ssim_reference", ssim_reference(pred_grey, gt_grey));
    if (lpips_) set(row, "lpips", lpips_->distance(pred, gt));
    if (clip_ && queue(*clip_sets_, row, clip_->preprocess(pred_u8), clip_->preprocess(gt_u8))) flush_clip();
    if (inception_ &&
        queue(*inception_sets_, row, inception_->preprocess(pred_u8), inception_->preprocess(gt_u8))) {
      flush_inception();
    }
  }

  // Runs the partly filled batches; call once after the last add().
  void finish() {
    flush_clip();
    flush_inception();
  }

  EvalResult result(dist::Communicator* communicator) {
    EvalResult result{pairing_, columns_, values_, {}};
    // Each rank filled only its own rows; the rest are zero, so a sum gathers the table on every rank.
    if (communicator) communicator->all_reduce_sum(result.values);
    if (clip_) result.set_metrics.emplace_back("fid_clip", distance(*clip_sets_, communicator));
    if (inception_) result.set_metrics.emplace_back("fid_inception", distance(*inception_sets_, communicator));
    return result;
  }

 private:
  static std::string size_text(const torch::Tensor& hwc) {
    return std::to_string(hwc.size(1)) + "x" + std::to_string(hwc.size(0));
  }

  void set(int64_t row, const std::string& column, double value) {
    const auto column_index = std::find(columns_.begin(), columns_.end(), column) - columns_.begin();
    values_.accessor<double, 2>()[row][column_index] = value;
  }

  // Adds one pair to the batch; true when the batch is full.
  bool queue(FeatureSets& sets, int64_t row, torch::Tensor pred, torch::Tensor gt) const {
    sets.rows.push_back(row);
    sets.pred.push_back(std::move(pred));
    sets.gt.push_back(std::move(gt));
    return static_cast<int64_t>(sets.rows.size()) >= options_.batch_size;
  }

  void flush_clip() {
    if (!clip_ || clip_sets_->rows.empty()) return;
    FeatureSets& sets = *clip_sets_;
    const torch::Tensor pred = clip_->embed(torch::stack(sets.pred)), gt = clip_->embed(torch::stack(sets.gt));
    sets.pred_moments.add(pred);
    sets.gt_moments.add(gt);
    if (clip_->has_prompt_score()) {
      const torch::Tensor s_pred = clip_->backlit_probability(pred), s_gt = clip_->backlit_probability(gt);
      for (size_t i = 0; i < sets.rows.size(); ++i) {
        set(sets.rows[i], "clip_backlit_pred", s_pred[i].item<double>());
        set(sets.rows[i], "clip_backlit_gt", s_gt[i].item<double>());
      }
    }
    clear(sets);
  }

  void flush_inception() {
    if (!inception_ || inception_sets_->rows.empty()) return;
    FeatureSets& sets = *inception_sets_;
    sets.pred_moments.add(inception_->features(torch::stack(sets.pred)));
    sets.gt_moments.add(inception_->features(torch::stack(sets.gt)));
    clear(sets);
  }

  static void clear(FeatureSets& sets) {
    sets.rows.clear();
    sets.pred.clear();
    sets.gt.clear();
  }

  static double distance(FeatureSets& sets, dist::Communicator* communicator) {
    if (communicator) {
      sets.pred_moments.all_reduce(*communicator);
      sets.gt_moments.all_reduce(*communicator);
    }
    if (sets.pred_moments.count() < 2) {
      spdlog::warn("a Fréchet distance needs at least 2 image pairs; it is left out");
      return std::nan("");
    }
    return frechet_distance(sets.pred_moments, sets.gt_moments);
  }

  const Pairing& pairing_;
  const EvalOptions& options_;
  torch::Device device_;
  std::vector<std::string> columns_;
  torch::Tensor values_;
  std::optional<ScriptedLpips> lpips_;
  std::optional<ClipScorer> clip_;
  std::optional<ScriptedInception> inception_;
  std::optional<FeatureSets> clip_sets_, inception_sets_;
};

}  // namespace

EvalResult evaluate(const Pairing& pairing, const EvalOptions& options, const dist::Context* context) {
  if (options.batch_size < 1) throw UsageError("--batch-size must be at least 1");
  const int rank = context ? context->rank() : 0, world = context ? context->world_size() : 1;
  Evaluator evaluator(pairing, options, context ? context->device() : torch::Device(torch::kCPU));
  const int64_t pairs = static_cast<int64_t>(pairing.pairs.size());
  core::Progress progress("eval", std::max<int64_t>(0, (pairs - rank + world - 1) / world), rank == 0, "pairs");
  for (int64_t row = rank; row < pairs; row += world) {
    evaluator.add(row);
    progress.advance();
  }
  evaluator.finish();
  progress.finish();
  std::unique_ptr<dist::Communicator> communicator;
  if (world > 1) communicator = dist::make_communicator(*context, "mpi");
  return evaluator.result(communicator.get());
}

std::string metric_definition(const std::string& name) {
  const auto it = definitions().find(name);
  return it == definitions().end() ? std::string() : it->second;
}

}  // namespace rave::analysis

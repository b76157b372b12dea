#include "guidance/guidance_datasets.h"

#include <torch/torch.h>

#include <algorithm>

#include "core/error.h"
#include "dist/random.h"
#include "guidance/intermediate_results.h"
#include "io/augment.h"
#include "io/image.h"

namespace rave::guidance {
namespace {

namespace F = torch::nn::functional;

// Zoom 0.5-1.5 for both guidance sets; the margin set draws the zoom factors even when zoom is off (§3.3).
io::AugmentRanges guidance_ranges(bool always_draw_zoom) { return {0.5, 1.5, always_draw_zoom}; }

io::AugmentDraws draws_for(uint64_t seed, const ItemDraw& draw, bool always_draw_zoom) {
  dist::SplitMix64 rng(dist::stream_seed(dist::stream_seed(seed, uint64_t(draw.epoch)), uint64_t(draw.item)));
  return io::draw_augmentation(rng, guidance_ranges(always_draw_zoom));
}

torch::Tensor stack_or_undefined(const std::vector<torch::Tensor>& images) {
  return images.empty() ? torch::Tensor() : torch::stack(images);
}

// The shorter list cycled (appending its elements in listing order) to `length` entries.
std::vector<int64_t> cycled(int64_t count, int64_t length) {
  std::vector<int64_t> result(static_cast<size_t>(length));
  for (int64_t i = 0; i < length; ++i) result[size_t(i)] = i % count;
  return result;
}

}  // namespace

InitialisationSet::InitialisationSet(ResizedImages& backlit, ResizedImages& welllit, uint64_t seed)
    : backlit_(backlit), welllit_(welllit), seed_(seed), length_(int64_t(std::max(backlit.size(), welllit.size()))) {}

InitialisationBatch InitialisationSet::load(const std::vector<ItemDraw>& draws) {
  std::vector<torch::Tensor> images;
  std::vector<int64_t> labels;
  for (const ItemDraw& draw : draws) {
    // Items 0..m-1 are the (cycled) backlit list, m..2m-1 the (cycled) well-lit list: labels by source (§6 #16).
    const bool welllit = draw.item >= length_;
    ResizedImages& source = welllit ? welllit_ : backlit_;
    const int64_t index = (welllit ? draw.item - length_ : draw.item) % int64_t(source.size());
    const std::optional<torch::Tensor> image = source.get(size_t(index));
    if (!image) continue;
    images.push_back(io::to_float_chw(io::augment(*image, draws_for(seed_, draw, false))));
    labels.push_back(welllit ? 1 : 0);
  }
  return {stack_or_undefined(images), images.empty() ? torch::Tensor() : torch::tensor(labels, torch::kInt64)};
}

MarginSet::MarginSet(ResizedImages& backlit, ResizedImages& welllit, std::vector<std::filesystem::path> results,
                     uint64_t pairing_seed, uint64_t seed)
    : backlit_(backlit), welllit_(welllit), results_(std::move(results)), seed_(seed) {
  if (results_.size() > 2) throw Error("margin set: at most two folders of intermediate results");
  const int64_t length = int64_t(std::max(backlit.size(), welllit.size()));
  const std::vector<int64_t> inputs = cycled(int64_t(backlit.size()), length);
  const std::vector<int64_t> references = cycled(int64_t(welllit.size()), length);
  // Two independent shuffles: the random pairing of the reference's loader (§6 #27).
  const std::vector<int64_t> order_in = dist::shuffled_indices(length, pairing_seed, 0);
  const std::vector<int64_t> order_ref = dist::shuffled_indices(length, pairing_seed, 1);
  for (int64_t i = 0; i < length; ++i) {
    inputs_.push_back(inputs[size_t(order_in[size_t(i)])]);
    references_.push_back(references[size_t(order_ref[size_t(i)])]);
  }
}

std::optional<torch::Tensor> MarginSet::result(size_t folder, int64_t backlit_index) {
  const auto key = std::make_pair(folder, backlit_index);
  const auto found = result_cache_.find(key);
  if (found != result_cache_.end()) return found->second;
  const std::filesystem::path path =
      intermediate_result_path(results_[folder], backlit_.folder().files()[size_t(backlit_index)]);
  std::optional<torch::Tensor> image;
  // A missing result is an input that was unreadable when the results were written: leave the item out.
  if (std::filesystem::exists(path)) image = io::read_image_u8(path.string());  // already 256x256, not resized
  return result_cache_.emplace(key, image).first->second;
}

std::vector<torch::Tensor> MarginSet::load(const std::vector<ItemDraw>& draws) {
  std::vector<std::vector<torch::Tensor>> members(static_cast<size_t>(tuple_size()));
  for (const ItemDraw& draw : draws) {
    const auto [input_index, reference_index] = pair(draw.item);
    std::vector<std::optional<torch::Tensor>> tuple{backlit_.get(size_t(input_index))};
    for (size_t k = 0; k < results_.size(); ++k) tuple.push_back(result(k, input_index));
    tuple.push_back(welllit_.get(size_t(reference_index)));
    if (std::any_of(tuple.begin(), tuple.end(), [](const auto& image) { return !image; })) continue;
    const io::AugmentDraws shared = draws_for(seed_, draw, true);
    for (size_t k = 0; k < tuple.size(); ++k) members[k].push_back(io::to_float_chw(io::augment(*tuple[k], shared)));
  }
  std::vector<torch::Tensor> result;
  for (const auto& images : members) result.push_back(stack_or_undefined(images));
  return result;
}

torch::Tensor unit_features(GuidanceEncoder& encoder, const torch::Tensor& images, const torch::Device& device,
                            models::Precision precision) {
  torch::NoGradGuard no_grad;
  torch::Tensor features;
  {
    models::AutocastGuard autocast(precision, device);
    features = encoder.embed(images.to(device)).to(torch::kFloat32);
  }
  return F::normalize(features, F::NormalizeFuncOptions().dim(1).eps(0));
}

}  // namespace rave::guidance

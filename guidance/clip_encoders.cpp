#include "guidance/clip_encoders.h"

#include <filesystem>

#include "core/error.h"
#include "guidance/photometric_encoder.h"
#include "guidance/pixel_identity_encoder.h"
#include "io/resize.h"
#include "models/clip/loader.h"

namespace rave::guidance {
namespace {

// Variant A of ALGORITHMS §1.7: what the losses feed CLIP.
torch::Tensor loss_preprocess(const torch::Tensor& images, int64_t resolution) {
  return io::clip_normalize(io::squash_bilinear(images, resolution));
}

}  // namespace

ClipGuidanceEncoder::ClipGuidanceEncoder(models::ClipModel model, std::string source)
    : model_(std::move(model)), source_(std::move(source)) {}

int64_t ClipGuidanceEncoder::dim() const { return model_->config().embed_dim; }

torch::Tensor ClipGuidanceEncoder::embed(const torch::Tensor& images) {
  return model_->encode_image(loss_preprocess(images, model_->config().image_resolution));
}

torch::Tensor ClipGuidanceEncoder::preprocess_file_image(const torch::Tensor& hwc_u8) const {
  return io::clip_preprocess(hwc_u8);
}

torch::Tensor ClipGuidanceEncoder::encode(const torch::Tensor& preprocessed) {
  return model_->encode_image(preprocessed);
}

ClipIdentityEncoder::ClipIdentityEncoder(models::ClipModel model, std::string source)
    : model_(std::move(model)), source_(std::move(source)) {
  if (model_->config().is_vit()) {
    throw UsageError("identity encoder " + source_ + " is a ViT; the identity loss needs a modified-ResNet CLIP",
                     "use RN101.pt (or another RN model) for --clip-identity");
  }
}

std::vector<torch::Tensor> ClipIdentityEncoder::taps(const torch::Tensor& images) {
  return model_->image_features(loss_preprocess(images, model_->config().image_resolution));
}

std::unique_ptr<GuidanceEncoder> make_guidance_encoder(const std::string& spec) {
  if (spec.empty()) throw UsageError("no guidance encoder given", "set --clip to a CLIP file or 'photometric'");
  if (spec == "photometric") return std::make_unique<PhotometricEncoder>();
  const std::string name = std::filesystem::path(spec).filename().string();
  return std::make_unique<ClipGuidanceEncoder>(models::load_clip(spec), name);
}

std::unique_ptr<IdentityEncoder> make_identity_encoder(const std::string& spec) {
  if (spec.empty()) throw UsageError("no identity encoder given", "set --clip-identity to a CLIP RN file or 'pixels'");
  if (spec == "pixels") return std::make_unique<PixelIdentityEncoder>();
  const std::string name = std::filesystem::path(spec).filename().string();
  return std::make_unique<ClipIdentityEncoder>(models::load_clip(spec), name);
}

}  // namespace rave::guidance

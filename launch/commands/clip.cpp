// rave clip: tokenize text and embed text or images with a CLIP model (JSON on stdout), for users debugging
// prompts and for scripts. Images go through CLIP's own preprocessing (variant B: bicubic short side, centre
// crop, normalisation).
#include <c10/core/InferenceMode.h>

#include <algorithm>
#include <iostream>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "io/image.h"
#include "io/option_binder.h"
#include "io/resize.h"
#include "launch/commands/all.h"
#include "launch/commands/text_heads_option.h"
#include "models/clip/loader.h"
#include "models/clip/tokenizer.h"

namespace rave::launch {
namespace {

using Json = nlohmann::ordered_json;

// Every flag of rave clip (io/option_binder.h); the precision's default is ClipLoadOptions'.
struct ClipFlags {
  std::string action;
  std::string clip;
  std::string vocab;
  std::string text;
  std::string image;
  bool truncate = false;
  models::ClipLoadOptions load;
  int64_t text_heads = 0;  // CLIP's width / 64
};

void bind(io::OptionBinder& b, ClipFlags& f) {
  b.command_line_only();
  b.bind("action", f.action, "tokenize, embed-text or embed-image (positional)");
  b.bind("clip", f.clip, "CLIP model (.pt or .h5)");
  b.bind("vocab", f.vocab, "BPE merges file");
  b.bind("text", f.text, "text to tokenize or embed");
  b.bind("image", f.image, "image to embed");
  b.bind("truncate", f.truncate, "cut over-long text to the context (end token kept) instead of failing");
  b.bind("precision", f.load.precision, "fp32 or bf16 (autocast)", models::to_string, models::parse_precision);
  bind_text_heads(b, f.text_heads);
  b.positional("action");
}

models::Truncation truncation(const ClipFlags& flags) {
  return flags.truncate ? models::Truncation::kKeepEot : models::Truncation::kError;
}

models::ClipModel load_model(const ClipFlags& flags, const std::string& action) {
  models::ClipLoadOptions load = flags.load;
  if (const int64_t heads = checked_text_heads(flags.text_heads); heads > 0) load.text_heads = heads;
  return models::load_clip(io::required_value(flags.clip, "clip", "rave clip " + action), load);
}

// The unpadded ids: start token, text, end token.
std::vector<int32_t> unpadded(std::vector<int32_t> ids) {
  while (!ids.empty() && ids.back() == 0) ids.pop_back();
  return ids;
}

Json embedding_json(const torch::Tensor& embedding) {
  const torch::Tensor row = embedding.reshape({-1}).to(torch::kFloat32).contiguous();
  Json j;
  j["dim"] = row.numel();
  j["norm"] = row.norm().item<double>();
  j["embedding"] = std::vector<float>(row.data_ptr<float>(), row.data_ptr<float>() + row.numel());
  return j;
}

Json tokenize(const ClipFlags& flags) {
  const models::Tokenizer tokenizer(io::required_value(flags.vocab, "vocab", "rave clip tokenize"));
  const std::string text = io::required_value(flags.text, "text", "rave clip tokenize");
  const std::vector<int32_t> ids = unpadded(tokenizer.tokenize_ids(text, truncation(flags)));
  Json j;
  j["text"] = text;
  j["ids"] = ids;
  std::vector<std::string> pieces;
  for (int32_t id : ids) pieces.push_back(tokenizer.decode({id}));
  j["pieces"] = pieces;
  j["length"] = ids.size();
  j["eot_index"] = std::max_element(ids.begin(), ids.end()) - ids.begin();
  j["context_length"] = models::Tokenizer::kContextLength;
  return j;
}

Json embed_text(const ClipFlags& flags) {
  const models::Tokenizer tokenizer(io::required_value(flags.vocab, "vocab", "rave clip embed-text"));
  const std::string text = io::required_value(flags.text, "text", "rave clip embed-text");
  models::ClipModel model = load_model(flags, "embed-text");
  const torch::Tensor ids = tokenizer.tokenize({text}, truncation(flags), model->config().context_length);
  c10::InferenceMode inference;
  Json j;
  j["text"] = text;
  j["ids"] = unpadded(std::vector<int32_t>(ids.data_ptr<int32_t>(), ids.data_ptr<int32_t>() + ids.numel()));
  j.update(embedding_json(model->encode_text(ids)));
  return j;
}

Json embed_image(const ClipFlags& flags) {
  const std::string path = io::required_value(flags.image, "image", "rave clip embed-image");
  models::ClipModel model = load_model(flags, "embed-image");
  const int64_t resolution = model->config().image_resolution;
  const torch::Tensor image =
      io::clip_normalize(io::to_float_chw(io::clip_resize_center_crop(io::read_image_u8(path), resolution)));
  c10::InferenceMode inference;
  Json j;
  j["image"] = path;
  j["preprocess"] = "clip: bicubic shorter side " + std::to_string(resolution) + ", centre crop, normalise";
  j.update(embedding_json(model->encode_image(image.unsqueeze(0))));
  return j;
}

int run(const Invocation& invocation) {
  const ClipFlags flags = io::read_flags<ClipFlags>(invocation.options);
  const std::string& action = flags.action;
  Json result;
  if (action == "tokenize") {
    result = tokenize(flags);
  } else if (action == "embed-text") {
    result = embed_text(flags);
  } else if (action == "embed-image") {
    result = embed_image(flags);
  } else {
    throw UsageError(action.empty() ? "rave clip needs an action" : "unknown rave clip action '" + action + "'",
                     "use rave clip tokenize | embed-text | embed-image");
  }
  std::cout << result.dump() << "\n";
  return 0;
}

}  // namespace

Command clip_command() {
  return {"clip", "tokenize or embed text and images with CLIP (JSON)", false, io::declare_flags<ClipFlags>, run};
}

}  // namespace rave::launch

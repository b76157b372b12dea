#include "analysis/vocabulary/phrases.h"

#include <torch/torch.h>

#include <fstream>
#include <sstream>

#include "core/error.h"

namespace rave::analysis {
namespace {

std::string trimmed(const std::string& text) {
  const auto begin = text.find_first_not_of(" \t\r\n");
  if (begin == std::string::npos) return "";
  return text.substr(begin, text.find_last_not_of(" \t\r\n") - begin + 1);
}

}  // namespace

std::vector<std::string> parse_phrases(const std::string& spec) {
  std::vector<std::string> phrases;
  if (!spec.empty() && spec[0] == '@') {
    const std::string path = spec.substr(1);
    std::ifstream in(path);
    if (!in) throw IoError("cannot read the phrase file " + path, "one phrase a line; '#' starts a comment line");
    for (std::string line; std::getline(in, line);) {
      line = trimmed(line);
      if (!line.empty() && line[0] != '#') phrases.push_back(line);
    }
  } else {
    std::istringstream list(spec);
    for (std::string item; std::getline(list, item, ',');) {
      if (!trimmed(item).empty()) phrases.push_back(trimmed(item));
    }
  }
  if (phrases.empty()) {
    throw UsageError("no phrase in '" + spec + "'", "give comma-separated phrases (\"green,sunset\") or @FILE");
  }
  return phrases;
}

torch::Tensor embed_phrases(models::ClipModelImpl& model, const models::Tokenizer& tokenizer,
                            const std::vector<std::string>& phrases) {
  const torch::Tensor ids = tokenizer.tokenize(phrases, models::Truncation::kError, model.config().context_length);
  c10::InferenceMode inference;
  return model.encode_text(ids.to(model.text_projection.device())).cpu();
}

}  // namespace rave::analysis

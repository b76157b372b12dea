// Phrases given on the command line ("green,sunset,indoor" or @FILE with one phrase a line) and their text
// embeddings through the full tokenizer (the directions `rave analyze` projects onto and `rave correct` removes
// or adds).
#pragma once

#include <torch/types.h>

#include <string>
#include <vector>

#include "models/clip/clip_model.h"
#include "models/clip/tokenizer.h"

namespace rave::analysis {

// Comma-separated phrases, trimmed, or with a leading '@' the lines of that file (blank lines and lines
// starting with '#' skipped, commas kept). UsageError when no phrase is left, IoError when the file cannot be read.
std::vector<std::string> parse_phrases(const std::string& spec);

// Un-normalised EOT-pooled embeddings [P, D] (float32, CPU) of the phrases, tokenized like clip.tokenize (a
// phrase longer than the context is a UsageError naming it).
torch::Tensor embed_phrases(models::ClipModelImpl& model, const models::Tokenizer& tokenizer,
                            const std::vector<std::string>& phrases);

}  // namespace rave::analysis

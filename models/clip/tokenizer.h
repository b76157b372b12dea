// CLIP's byte-level BPE tokenizer, bit-exact with the reference SimpleTokenizer and clip.tokenize (ALGORITHMS
// §1.6): text cleaning (HTML unescape twice, whitespace collapse, Python lower-casing), the pre-tokenisation
// regex with Unicode letter/number classes, BPE with the merges file, and decoding.
//
// ftfy.fix_text, which the reference runs first, is the identity here: it changes nothing for clean text (the
// prompts, the golden strings) and only matters for mojibake (see the fixtures README §1).
#pragma once

#include <torch/types.h>

#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

namespace rave::models {

// What tokenize does with a text that does not fit the context.
enum class Truncation {
  kError,   // UsageError naming the text and its length (the reference's default)
  kKeepEot  // keep the first context-1 ids and end with the end-of-text id (clip.tokenize(truncate=True))
};

class Tokenizer {
 public:
  static constexpr int64_t kContextLength = 77;

  // `merges_path`: bpe_simple_vocab_16e6.txt.gz as distributed with CLIP (gzip) or its decompressed text.
  explicit Tokenizer(const std::string& merges_path);

  // BPE ids of a text without start/end tokens and never truncated (SimpleTokenizer.encode).
  std::vector<int32_t> encode(const std::string& text) const;
  // [start] + encode(text) + [end], padded with 0 to `context_length` (clip.tokenize for one text).
  std::vector<int32_t> tokenize_ids(const std::string& text, Truncation truncation = Truncation::kError,
                                    int64_t context_length = kContextLength) const;
  // int32 [texts.size(), context_length], the layout encode_text takes.
  torch::Tensor tokenize(const std::vector<std::string>& texts, Truncation truncation = Truncation::kError,
                         int64_t context_length = kContextLength) const;
  // The text of a sequence of ids (SimpleTokenizer.decode): bytes joined, decoded as UTF-8 with U+FFFD for
  // invalid sequences, every "</w>" replaced by a space. Throws UsageError for ids outside the vocabulary.
  std::string decode(const std::vector<int32_t>& ids) const;

  int64_t vocab_size() const { return static_cast<int64_t>(token_bytes_.size()); }
  int32_t start_of_text() const { return start_of_text_; }
  int32_t end_of_text() const { return end_of_text_; }

 private:
  std::vector<int32_t> bpe(const std::string& chunk) const;

  // Raw bytes of every id ("</w>" included as ASCII), what decode concatenates.
  std::vector<std::string> token_bytes_;
  // The id of every byte as a word-inner symbol and as a word-final one (with "</w>").
  int32_t byte_id_[256] = {};
  int32_t byte_final_id_[256] = {};
  // (left id, right id) -> merge rank and the id of the merged symbol.
  struct Merge {
    int32_t rank, id;
  };
  std::unordered_map<uint64_t, Merge> merges_;
  int32_t start_of_text_ = 0, end_of_text_ = 0;
};

}  // namespace rave::models

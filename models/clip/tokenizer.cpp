// The CLIP BPE tokenizer. Symbols are handled as vocabulary ids rather than strings: every symbol the BPE loop
// can form (a byte, a byte with "</w>", or the concatenation named by a merge) is in the vocabulary, so merging
// ids through a (left, right) -> merged table is the reference's string algorithm without the string work.
#include "models/clip/tokenizer.h"

#include <zlib.h>

#include <algorithm>
#include <limits>
#include <string_view>

#include "core/error.h"
#include "models/clip/html_unescape.h"
#include "models/clip/unicode.h"

namespace rave::models {
namespace {

// The reference uses the first 49152 - 256 - 2 = 48894 merges (lines 1..48894; line 0 is a version header).
constexpr int kMergeCount = 49152 - 256 - 2;
constexpr std::string_view kStartOfText = "<|startoftext|>";
constexpr std::string_view kEndOfText = "<|endoftext|>";
constexpr std::string_view kWordEnd = "</w>";

std::string read_maybe_gzipped(const std::string& path) {
  gzFile file = gzopen(path.c_str(), "rb");  // reads plain files too
  if (!file) {
    throw IoError("cannot open the BPE merges file " + path,
                  "pass the bpe_simple_vocab_16e6.txt.gz that comes with the CLIP weights (--vocab)");
  }
  std::string text;
  char buffer[1 << 16];
  int n;
  while ((n = gzread(file, buffer, sizeof(buffer))) > 0) text.append(buffer, static_cast<std::size_t>(n));
  int code = Z_OK;
  const std::string message = n < 0 ? gzerror(file, &code) : "";
  gzclose(file);
  if (n < 0) {
    throw IoError("cannot read the BPE merges file " + path + ": " + message,
                  "the file is damaged; download bpe_simple_vocab_16e6.txt.gz again");
  }
  return text;
}

// Bytes 33..126, 161..172 and 174..255 stand for themselves; the other 68 bytes (controls, space, DEL, NBSP,
// soft hyphen) are mapped in increasing order to U+0100, U+0101, ... so that every byte is a visible character.
// Returned in vocabulary order: entry i is the byte with id i.
std::vector<std::pair<unsigned char, char32_t>> byte_characters() {
  std::vector<std::pair<unsigned char, char32_t>> list;
  auto printable = [](int b) { return (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174 && b <= 255); };
  for (int b = 0; b < 256; ++b) {
    if (printable(b)) list.emplace_back(static_cast<unsigned char>(b), static_cast<char32_t>(b));
  }
  char32_t next = 256;
  for (int b = 0; b < 256; ++b) {
    if (!printable(b)) list.emplace_back(static_cast<unsigned char>(b), next++);
  }
  return list;
}

std::vector<std::string_view> split(std::string_view text, char separator) {
  std::vector<std::string_view> parts;
  std::size_t begin = 0;
  for (std::size_t i = 0; i <= text.size(); ++i) {
    if (i == text.size() || text[i] == separator) {
      parts.push_back(text.substr(begin, i - begin));
      begin = i + 1;
    }
  }
  return parts;
}

uint64_t pair_key(int32_t left, int32_t right) {
  return (static_cast<uint64_t>(static_cast<uint32_t>(left)) << 32) | static_cast<uint32_t>(right);
}

// basic_clean + whitespace_clean + lower: HTML-unescape twice, strip, collapse every run of \s to one space,
// strip, lower-case.
std::u32string clean(const std::string& text) {
  const std::u32string unescaped = html::unescape(html::unescape(unicode::decode_utf8(text)));
  std::u32string collapsed;
  collapsed.reserve(unescaped.size());
  bool in_space_run = false;
  for (char32_t c : unicode::strip(unescaped)) {
    const bool space = unicode::is_white_space(c);
    if (!space) {
      collapsed.push_back(c);
    } else if (!in_space_run) {
      collapsed.push_back(U' ');
    }
    in_space_run = space;
  }
  return unicode::to_lower(unicode::strip(collapsed));
}

// `literal` (ASCII) matches `text` at `pos` case-insensitively, as the IGNORECASE pattern does.
bool matches_at(std::u32string_view text, std::size_t pos, std::string_view literal) {
  if (text.size() - pos < literal.size()) return false;
  for (std::size_t i = 0; i < literal.size(); ++i) {
    if (unicode::ascii_fold(text[pos + i]) != static_cast<char32_t>(literal[i])) return false;
  }
  return true;
}

// regex.findall of <|startoftext|>|<|endoftext|>|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+
// (IGNORECASE): the alternatives are tried in this order at each position; characters no alternative matches
// (white space) are skipped.
std::vector<std::u32string_view> pre_tokenize(std::u32string_view text) {
  static constexpr std::string_view kLiterals[] = {kStartOfText, kEndOfText, "'s",  "'t", "'re",
                                                   "'ve",        "'m",       "'ll", "'d"};
  std::vector<std::u32string_view> pieces;
  std::size_t pos = 0;
  while (pos < text.size()) {
    const auto* literal = std::find_if(std::begin(kLiterals), std::end(kLiterals),
                                       [&](std::string_view l) { return matches_at(text, pos, l); });
    std::size_t end = pos;
    if (literal != std::end(kLiterals)) {
      end = pos + literal->size();
    } else if (unicode::is_letter(text[pos])) {
      while (end < text.size() && unicode::is_letter(text[end])) ++end;
    } else if (unicode::is_number(text[pos])) {
      end = pos + 1;
    } else if (unicode::is_symbol(text[pos])) {
      while (end < text.size() && unicode::is_symbol(text[end])) ++end;
    } else {
      ++pos;
      continue;
    }
    pieces.push_back(text.substr(pos, end - pos));
    pos = end;
  }
  return pieces;
}

std::string shorten(const std::string& text) { return text.size() <= 60 ? text : text.substr(0, 57) + "..."; }

}  // namespace

Tokenizer::Tokenizer(const std::string& merges_path) {
  const std::string text = read_maybe_gzipped(merges_path);
  const std::vector<std::string_view> lines = split(text, '\n');
  if (lines.size() < static_cast<std::size_t>(kMergeCount) + 1) {
    throw IoError("the BPE merges file " + merges_path + " has " + std::to_string(lines.size()) +
                      " lines; CLIP's has 262,146 (it uses the first " + std::to_string(kMergeCount) + " merges)",
                  "pass bpe_simple_vocab_16e6.txt.gz from the CLIP release (--vocab)");
  }

  // The vocabulary as strings, in id order: bytes, bytes + "</w>", merges, the two special tokens.
  const auto bytes = byte_characters();
  std::vector<std::string> vocabulary;
  vocabulary.reserve(512 + kMergeCount + 2);
  for (const auto& [byte, character] : bytes) vocabulary.push_back(unicode::encode_utf8(std::u32string(1, character)));
  for (int i = 0; i < 256; ++i) vocabulary.push_back(vocabulary[i] + std::string(kWordEnd));
  std::vector<std::pair<std::string_view, std::string_view>> merge_pairs;
  merge_pairs.reserve(kMergeCount);
  for (int rank = 0; rank < kMergeCount; ++rank) {
    const std::string_view line = lines[rank + 1];
    const std::size_t space = line.find(' ');
    if (space == std::string_view::npos || space == 0 || line.find(' ', space + 1) != std::string_view::npos) {
      throw IoError("the BPE merges file " + merges_path + " line " + std::to_string(rank + 2) +
                        " is not two space-separated symbols: '" + std::string(line) + "'",
                    "the file is damaged; download bpe_simple_vocab_16e6.txt.gz again");
    }
    merge_pairs.emplace_back(line.substr(0, space), line.substr(space + 1));
    vocabulary.push_back(std::string(line.substr(0, space)) + std::string(line.substr(space + 1)));
  }
  vocabulary.emplace_back(kStartOfText);
  vocabulary.emplace_back(kEndOfText);

  // String -> id; a string listed twice keeps its last id, as a Python dict built from the list would.
  std::unordered_map<std::string, int32_t> encoder;
  encoder.reserve(vocabulary.size());
  for (std::size_t id = 0; id < vocabulary.size(); ++id) encoder[vocabulary[id]] = static_cast<int32_t>(id);
  auto id_of = [&](const std::string& symbol, int line) {
    const auto it = encoder.find(symbol);
    if (it == encoder.end()) {
      throw IoError("the BPE merges file " + merges_path + " line " + std::to_string(line) + " uses the symbol '" +
                        symbol + "' that no earlier line forms",
                    "the file is damaged; download bpe_simple_vocab_16e6.txt.gz again");
    }
    return it->second;
  };

  for (int i = 0; i < 256; ++i) {
    byte_id_[bytes[i].first] = id_of(vocabulary[i], 0);
    byte_final_id_[bytes[i].first] = id_of(vocabulary[256 + i], 0);
  }
  merges_.reserve(merge_pairs.size());
  for (int rank = 0; rank < kMergeCount; ++rank) {
    const auto& [left, right] = merge_pairs[rank];
    const int line = rank + 2;
    merges_[pair_key(id_of(std::string(left), line), id_of(std::string(right), line))] =
        Merge{rank, id_of(vocabulary[512 + rank], line)};
  }
  start_of_text_ = encoder.at(std::string(kStartOfText));
  end_of_text_ = encoder.at(std::string(kEndOfText));

  // Each id's bytes: its characters mapped back through the byte table ("</w>" and the special tokens are
  // printable ASCII, which stands for itself).
  std::unordered_map<char32_t, char> byte_of;
  for (const auto& [byte, character] : bytes) byte_of[character] = static_cast<char>(byte);
  token_bytes_.reserve(vocabulary.size());
  for (const std::string& symbol : vocabulary) {
    std::string raw;
    for (char32_t c : unicode::decode_utf8(symbol)) {
      const auto it = byte_of.find(c);
      if (it == byte_of.end()) {
        throw IoError("the BPE merges file " + merges_path + " contains the symbol '" + symbol +
                          "' with a character that is not a byte symbol",
                      "the file is damaged; download bpe_simple_vocab_16e6.txt.gz again");
      }
      raw.push_back(it->second);
    }
    token_bytes_.push_back(std::move(raw));
  }
}

std::vector<int32_t> Tokenizer::bpe(const std::string& chunk) const {
  if (chunk == kStartOfText) return {start_of_text_};
  if (chunk == kEndOfText) return {end_of_text_};
  std::vector<int32_t> word(chunk.size());
  for (std::size_t i = 0; i < chunk.size(); ++i) {
    const auto b = static_cast<unsigned char>(chunk[i]);
    word[i] = i + 1 == chunk.size() ? byte_final_id_[b] : byte_id_[b];
  }
  std::vector<int32_t> merged;
  while (word.size() > 1) {
    // The adjacent pair with the lowest rank; then every non-overlapping occurrence of it, left to right.
    const Merge* best = nullptr;
    uint64_t best_key = 0;
    for (std::size_t i = 0; i + 1 < word.size(); ++i) {
      const uint64_t key = pair_key(word[i], word[i + 1]);
      const auto it = merges_.find(key);
      if (it != merges_.end() && (!best || it->second.rank < best->rank)) {
        best = &it->second;
        best_key = key;
      }
    }
    if (!best) break;
    merged.clear();
    for (std::size_t i = 0; i < word.size();) {
      if (i + 1 < word.size() && pair_key(word[i], word[i + 1]) == best_key) {
        merged.push_back(best->id);
        i += 2;
      } else {
        merged.push_back(word[i++]);
      }
    }
    word.swap(merged);
  }
  return word;
}

std::vector<int32_t> Tokenizer::encode(const std::string& text) const {
  std::vector<int32_t> ids;
  const std::u32string cleaned = clean(text);
  for (std::u32string_view piece : pre_tokenize(cleaned)) {
    const std::vector<int32_t> piece_ids = bpe(unicode::encode_utf8(piece));
    ids.insert(ids.end(), piece_ids.begin(), piece_ids.end());
  }
  return ids;
}

std::vector<int32_t> Tokenizer::tokenize_ids(const std::string& text, Truncation truncation,
                                             int64_t context_length) const {
  std::vector<int32_t> ids{start_of_text_};
  const std::vector<int32_t> body = encode(text);
  ids.insert(ids.end(), body.begin(), body.end());
  ids.push_back(end_of_text_);
  const auto length = static_cast<int64_t>(ids.size());
  if (length > context_length) {
    if (truncation == Truncation::kError) {
      throw UsageError("the text '" + shorten(text) + "' is " + std::to_string(length) +
                           " tokens long with start and end; the context length is " + std::to_string(context_length),
                       "shorten the text, or choose truncation (keeps the first " + std::to_string(context_length - 1) +
                           " tokens and ends with the end token)");
    }
    ids.resize(static_cast<std::size_t>(context_length));
    ids.back() = end_of_text_;
  }
  ids.resize(static_cast<std::size_t>(context_length), 0);
  return ids;
}

torch::Tensor Tokenizer::tokenize(const std::vector<std::string>& texts, Truncation truncation,
                                  int64_t context_length) const {
  torch::Tensor out = torch::zeros({static_cast<int64_t>(texts.size()), context_length}, torch::kInt32);
  auto rows = out.accessor<int32_t, 2>();
  for (std::size_t i = 0; i < texts.size(); ++i) {
    const std::vector<int32_t> ids = tokenize_ids(texts[i], truncation, context_length);
    std::copy(ids.begin(), ids.end(), &rows[static_cast<int64_t>(i)][0]);
  }
  return out;
}

std::string Tokenizer::decode(const std::vector<int32_t>& ids) const {
  std::string raw;
  for (int32_t id : ids) {
    if (id < 0 || id >= vocab_size()) {
      throw UsageError(
          "token id " + std::to_string(id) + " is outside the vocabulary (0.." + std::to_string(vocab_size() - 1) + ")",
          "ids come from tokenize with the same merges file");
    }
    raw += token_bytes_[static_cast<std::size_t>(id)];
  }
  const std::string text = unicode::encode_utf8(unicode::decode_utf8(raw));
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size();) {
    if (text.compare(i, kWordEnd.size(), kWordEnd) == 0) {
      out.push_back(' ');
      i += kWordEnd.size();
    } else {
      out.push_back(text[i++]);
    }
  }
  return out;
}

}  // namespace rave::models

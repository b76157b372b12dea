// Lookups in the generated tables and the two algorithms that need more than a lookup: UTF-8 decoding with
// Python's replacement rule, and lower-casing with the Final_Sigma context.
#include "models/clip/unicode.h"

#include <algorithm>

#include "models/clip/unicode_tables.h"

namespace rave::models::unicode {
namespace {

using tables::Mapping;
using tables::Range;

bool in(const Range* table, std::size_t size, char32_t c) {
  const Range* end = table + size;
  const Range* it = std::upper_bound(table, end, c, [](char32_t v, const Range& r) { return v < r.first; });
  return it != table && c <= (it - 1)->last;
}

const Mapping* find(const Mapping* table, std::size_t size, char32_t c) {
  const Mapping* end = table + size;
  const Mapping* it = std::lower_bound(table, end, c, [](const Mapping& m, char32_t v) { return m.from < v; });
  return it != end && it->from == c ? it : nullptr;
}

bool is_cased(char32_t c) { return in(tables::kCased, tables::kCasedSize, c); }
bool is_case_ignorable(char32_t c) { return in(tables::kCaseIgnorable, tables::kCaseIgnorableSize, c); }

char32_t simple_lower(char32_t c) {
  const Mapping* m = find(tables::kLower, tables::kLowerSize, c);
  return m ? m->to : c;
}

// Unicode's Final_Sigma: a cased letter, then any case-ignorable characters, then the sigma; and no cased letter
// after it (again skipping case-ignorable characters).
bool final_sigma(std::u32string_view text, std::size_t i) {
  std::size_t j = i;
  while (j > 0 && is_case_ignorable(text[j - 1])) --j;
  if (j == 0 || !is_cased(text[j - 1])) return false;
  std::size_t k = i + 1;
  while (k < text.size() && is_case_ignorable(text[k])) ++k;
  return k == text.size() || !is_cased(text[k]);
}

// Number of continuation bytes a lead byte announces and the allowed range of the first one (RFC 3629 table,
// which excludes overlong forms, surrogates and values above U+10FFFF).
struct Lead {
  int continuation;
  unsigned char low, high;
};

Lead lead_of(unsigned char b) {
  if (b >= 0xC2 && b <= 0xDF) return {1, 0x80, 0xBF};
  if (b == 0xE0) return {2, 0xA0, 0xBF};
  if ((b >= 0xE1 && b <= 0xEC) || b == 0xEE || b == 0xEF) return {2, 0x80, 0xBF};
  if (b == 0xED) return {2, 0x80, 0x9F};
  if (b == 0xF0) return {3, 0x90, 0xBF};
  if (b >= 0xF1 && b <= 0xF3) return {3, 0x80, 0xBF};
  if (b == 0xF4) return {3, 0x80, 0x8F};
  return {-1, 0, 0};
}

}  // namespace

std::u32string decode_utf8(std::string_view bytes) {
  std::u32string out;
  out.reserve(bytes.size());
  std::size_t i = 0;
  while (i < bytes.size()) {
    const auto b = static_cast<unsigned char>(bytes[i]);
    if (b < 0x80) {
      out.push_back(b);
      ++i;
      continue;
    }
    const Lead lead = lead_of(b);
    if (lead.continuation < 0) {
      out.push_back(U'\uFFFD');
      ++i;
      continue;
    }
    char32_t c = b & (0x3F >> lead.continuation);
    std::size_t j = i + 1;
    int taken = 0;
    for (; taken < lead.continuation && j < bytes.size(); ++taken, ++j) {
      const auto cb = static_cast<unsigned char>(bytes[j]);
      const unsigned char low = taken == 0 ? lead.low : 0x80, high = taken == 0 ? lead.high : 0xBF;
      if (cb < low || cb > high) break;
      c = (c << 6) | (cb & 0x3F);
    }
    // A complete sequence is one code point; otherwise the maximal valid prefix is one U+FFFD and decoding
    // resumes at the byte that broke it.
    out.push_back(taken == lead.continuation ? c : U'\uFFFD');
    i = j;
  }
  return out;
}

std::string encode_utf8(std::u32string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char32_t c : text) {
    if (c < 0x80) {
      out.push_back(static_cast<char>(c));
    } else if (c < 0x800) {
      out.push_back(static_cast<char>(0xC0 | (c >> 6)));
      out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
    } else if (c < 0x10000) {
      out.push_back(static_cast<char>(0xE0 | (c >> 12)));
      out.push_back(static_cast<char>(0x80 | ((c >> 6) & 0x3F)));
      out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
    } else {
      out.push_back(static_cast<char>(0xF0 | (c >> 18)));
      out.push_back(static_cast<char>(0x80 | ((c >> 12) & 0x3F)));
      out.push_back(static_cast<char>(0x80 | ((c >> 6) & 0x3F)));
      out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
    }
  }
  return out;
}

bool is_letter(char32_t c) { return in(tables::kLetter, tables::kLetterSize, c); }
bool is_number(char32_t c) { return in(tables::kNumber, tables::kNumberSize, c); }
bool is_white_space(char32_t c) { return in(tables::kWhiteSpace, tables::kWhiteSpaceSize, c); }
bool is_python_space(char32_t c) { return in(tables::kPythonSpace, tables::kPythonSpaceSize, c); }

bool is_symbol(char32_t c) {
  return !is_white_space(c) && !is_letter(c) && !is_number(c) && !in(tables::kNotSymbol, tables::kNotSymbolSize, c);
}

char32_t ascii_fold(char32_t c) {
  if (c >= U'A' && c <= U'Z') return c + (U'a' - U'A');
  const Mapping* m = find(tables::kAsciiFold, tables::kAsciiFoldSize, c);
  return m ? m->to : c;
}

std::u32string to_lower(std::u32string_view text) {
  std::u32string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char32_t c = text[i];
    if (c == U'\u03A3') {
      out.push_back(final_sigma(text, i) ? U'\u03C2' : U'\u03C3');
      continue;
    }
    const tables::SpecialLower* end = tables::kLowerSpecial + tables::kLowerSpecialSize;
    const tables::SpecialLower* special =
        std::find_if(tables::kLowerSpecial, end, [c](const tables::SpecialLower& s) { return s.from == c; });
    if (special != end) {
      out.push_back(special->first);
      out.push_back(special->second);
    } else {
      out.push_back(simple_lower(c));
    }
  }
  return out;
}

std::u32string_view strip(std::u32string_view text) {
  std::size_t begin = 0, end = text.size();
  while (begin < end && is_python_space(text[begin])) ++begin;
  while (end > begin && is_python_space(text[end - 1])) --end;
  return text.substr(begin, end - begin);
}

}  // namespace rave::models::unicode

// html.unescape as a left-to-right scan; the tables are generated from Python's html module.
#include "models/clip/html_unescape.h"

#include <algorithm>
#include <cstring>

#include "models/clip/html_entities.h"

namespace rave::models::html {
namespace {

constexpr char32_t kReplacement = U'\uFFFD';
constexpr char32_t kBeyondUnicode = 0x110000;

int digit_value(char32_t c, int base) {
  if (c >= U'0' && c <= U'9') return static_cast<int>(c - U'0');
  if (base == 16 && c >= U'a' && c <= U'f') return static_cast<int>(c - U'a') + 10;
  if (base == 16 && c >= U'A' && c <= U'F') return static_cast<int>(c - U'A') + 10;
  return -1;
}

void append_numeric(char32_t number, std::u32string& out) {
  const auto* overrides_end = tables::kNumericOverride + tables::kNumericOverrideSize;
  const auto* o = std::lower_bound(tables::kNumericOverride, overrides_end, number,
                                   [](const tables::NumericOverride& e, char32_t v) { return e.number < v; });
  if (o != overrides_end && o->number == number) {
    out.push_back(o->text);
  } else if ((number >= 0xD800 && number <= 0xDFFF) || number >= kBeyondUnicode) {
    out.push_back(kReplacement);
  } else if (!std::binary_search(tables::kNumericDropped, tables::kNumericDropped + tables::kNumericDroppedSize,
                                 number)) {
    out.push_back(number);
  }
}

// The replacement text of an exact name ("amp;", "amp"), or null.
const char32_t* lookup(std::u32string_view name) {
  std::string ascii;
  for (char32_t c : name) {
    if (c >= 0x80) return nullptr;
    ascii.push_back(static_cast<char>(c));
  }
  const auto* end = tables::kNamed + tables::kNamedSize;
  const auto* it = std::lower_bound(
      tables::kNamed, end, ascii,
      [](const tables::NamedReference& e, const std::string& v) { return std::strcmp(e.name, v.c_str()) < 0; });
  return it != end && ascii == it->name ? it->text : nullptr;
}

void append_named(std::u32string_view name, std::u32string& out) {
  if (const char32_t* text = lookup(name)) {
    out += text;
    return;
  }
  // The longest known prefix of at least two characters, the rest kept as it was.
  for (std::size_t length = name.size() - 1; length >= 2; --length) {
    if (const char32_t* text = lookup(name.substr(0, length))) {
      out += text;
      out += name.substr(length);
      return;
    }
  }
  out.push_back(U'&');
  out += name;
}

bool is_name_char(char32_t c) {
  return c != U'\t' && c != U'\n' && c != U'\f' && c != U' ' && c != U'<' && c != U'&' && c != U'#' && c != U';';
}

}  // namespace

std::u32string unescape(std::u32string_view text) {
  std::u32string out;
  out.reserve(text.size());
  const std::size_t n = text.size();
  std::size_t i = 0;
  while (i < n) {
    if (text[i] != U'&') {
      out.push_back(text[i++]);
      continue;
    }
    std::size_t j = i + 1;
    if (j < n && text[j] == U'#') {
      int base = 10;
      std::size_t k = j + 1;
      if (k < n && (text[k] == U'x' || text[k] == U'X')) {
        base = 16;
        ++k;
      }
      if (k >= n || digit_value(text[k], base) < 0) {  // "&#" without digits is not a reference
        out.push_back(text[i++]);
        continue;
      }
      char32_t number = 0;
      for (int d; k < n && (d = digit_value(text[k], base)) >= 0; ++k) {
        number = std::min<char32_t>(number * base + d, kBeyondUnicode);  // saturate: any larger value is invalid
      }
      if (k < n && text[k] == U';') ++k;
      append_numeric(number, out);
      i = k;
      continue;
    }
    std::size_t k = j;
    while (k < n && k - j < 32 && is_name_char(text[k])) ++k;
    if (k == j) {
      out.push_back(text[i++]);
      continue;
    }
    if (k < n && text[k] == U';') ++k;
    append_named(text.substr(j, k - j), out);
    i = k;
  }
  return out;
}

}  // namespace rave::models::html

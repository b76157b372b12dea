// The generated Unicode tables of the CLIP tokenizer (unicode_tables.cpp, from scripts/gen_clip_unicode_tables.py).
// Only unicode.cpp reads them; everyone else asks the functions of unicode.h.
#pragma once

#include <cstddef>

namespace rave::models::unicode::tables {

struct Range {  // inclusive
  char32_t first, last;
};
struct Mapping {
  char32_t from, to;
};
struct SpecialLower {  // one code point lower-cased to two
  char32_t from, first, second;
};

extern const Range kLetter[], kNumber[], kWhiteSpace[], kPythonSpace[], kCased[], kCaseIgnorable[], kNotSymbol[];
extern const std::size_t kLetterSize, kNumberSize, kWhiteSpaceSize, kPythonSpaceSize, kCasedSize, kCaseIgnorableSize,
    kNotSymbolSize;
extern const Mapping kLower[], kAsciiFold[];
extern const std::size_t kLowerSize, kAsciiFoldSize;
extern const SpecialLower kLowerSpecial[];
extern const std::size_t kLowerSpecialSize;

}  // namespace rave::models::unicode::tables

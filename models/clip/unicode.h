// The Unicode text operations the CLIP tokenizer needs to make the same decisions as the reference (Python's str
// methods and the `regex` module): UTF-8 conversion with Python's error replacement, character classes, and
// Python's full lower-casing. Tables are generated from the Unicode Character Database (unicode_tables.cpp).
#pragma once

#include <string>
#include <string_view>

namespace rave::models::unicode {

// UTF-8 -> code points. Invalid input is replaced like Python's bytes.decode("utf-8", errors="replace"): every
// maximal ill-formed subpart becomes one U+FFFD (so a truncated 3-byte sequence is one U+FFFD, a stray
// continuation byte is one each).
std::u32string decode_utf8(std::string_view bytes);
std::string encode_utf8(std::u32string_view text);

bool is_letter(char32_t c);        // \p{L}
bool is_number(char32_t c);        // \p{N}
bool is_white_space(char32_t c);   // \s of the regex module: the White_Space property
bool is_python_space(char32_t c);  // str.isspace(): also U+001C..U+001F, which \s does not match
// [^\s\p{L}\p{N}] under IGNORECASE: also excludes the few marks whose case variants are letters (U+0345).
bool is_symbol(char32_t c);
// The ASCII letter `c` matches case-insensitively (simple case folding; e.g. U+017F long s matches 's').
char32_t ascii_fold(char32_t c);

// str.lower(): full lower-case mapping (U+0130 becomes two code points) and the Final_Sigma rule (capital sigma
// at the end of a word becomes U+03C2).
std::u32string to_lower(std::u32string_view text);

// str.strip(): removes leading and trailing is_python_space characters.
std::u32string_view strip(std::u32string_view text);

}  // namespace rave::models::unicode

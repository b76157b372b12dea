// The Unicode and HTML pieces of the tokenizer's text cleaning, against values Python 3.11 and the regex module
// produce (no fixtures needed).
#include <gtest/gtest.h>

#include "models/clip/html_unescape.h"
#include "models/clip/unicode.h"

namespace rave::models {
namespace {

std::string unescape(const std::string& text) {
  return unicode::encode_utf8(html::unescape(unicode::decode_utf8(text)));
}

std::string lower(const std::string& text) {
  return unicode::encode_utf8(unicode::to_lower(unicode::decode_utf8(text)));
}

TEST(ClipUnicode, Utf8ReplacementFollowsPython) {
  // bytes.decode("utf-8", "replace"): one U+FFFD per maximal ill-formed subpart.
  EXPECT_EQ(unicode::decode_utf8("a\xE3\x81"), U"a\uFFFD");                // truncated 3-byte sequence
  EXPECT_EQ(unicode::decode_utf8("\xED\xA0\x80"), U"\uFFFD\uFFFD\uFFFD");  // encoded surrogate
  EXPECT_EQ(unicode::decode_utf8("\xC0\xAF"), U"\uFFFD\uFFFD");            // overlong
  EXPECT_EQ(unicode::decode_utf8("\xF0\x9F\x98"), U"\uFFFD");
  EXPECT_EQ(unicode::decode_utf8("\xF0\x9F\x98\x80x"), U"\U0001F600x");
  EXPECT_EQ(unicode::decode_utf8("\x80\xFF"), U"\uFFFD\uFFFD");
  const std::u32string text = U"caf\u00E9 \u6771\u4EAC \U0001F305";
  EXPECT_EQ(unicode::decode_utf8(unicode::encode_utf8(text)), text);
}

TEST(ClipUnicode, ClassesAreUnicodeNotAscii) {
  EXPECT_TRUE(unicode::is_letter(U'a'));
  EXPECT_TRUE(unicode::is_letter(U'\u00DF'));      // ß
  EXPECT_TRUE(unicode::is_letter(U'\u0939'));      // Devanagari ha
  EXPECT_FALSE(unicode::is_letter(U'\u093F'));     // vowel sign i (Mc)
  EXPECT_FALSE(unicode::is_letter(U'\u0307'));     // combining dot above (Mn)
  EXPECT_TRUE(unicode::is_letter(U'\u6771'));      // CJK ideograph (a UnicodeData range)
  EXPECT_TRUE(unicode::is_letter(U'\U00011F04'));  // Kawi, new in Unicode 15 (the regex module knows it)
  EXPECT_TRUE(unicode::is_number(U'7'));
  EXPECT_TRUE(unicode::is_number(U'\u00BD'));   // ½ (No)
  EXPECT_TRUE(unicode::is_number(U'\u217B'));   // ⅻ (Nl)
  EXPECT_TRUE(unicode::is_number(U'\u0661'));   // Arabic-Indic one
  EXPECT_FALSE(unicode::is_letter(U'\u00B2'));  // ² is a number, not a letter
  EXPECT_TRUE(unicode::is_symbol(U'!'));
  EXPECT_TRUE(unicode::is_symbol(U'\U0001F600'));
  EXPECT_FALSE(unicode::is_symbol(U' '));
  EXPECT_FALSE(unicode::is_symbol(U'\u0345'));  // IGNORECASE: its upper case is a letter
  EXPECT_TRUE(unicode::is_white_space(U'\u3000'));
  EXPECT_TRUE(unicode::is_white_space(U'\u0085'));
  EXPECT_FALSE(unicode::is_white_space(U'\u001C'));  // regex \s: no; str.isspace: yes
  EXPECT_TRUE(unicode::is_python_space(U'\u001C'));
  EXPECT_FALSE(unicode::is_white_space(U'\u200B'));  // zero width space is not white space
  EXPECT_EQ(unicode::ascii_fold(U'\u017F'), U's');
  EXPECT_EQ(unicode::ascii_fold(U'S'), U's');
}

TEST(ClipUnicode, LowerIsPythonsFullMapping) {
  EXPECT_EQ(lower("\u0130stanbul"), "i\u0307stanbul");                       // İ -> i + combining dot
  EXPECT_EQ(lower("\u039F\u0394\u039F\u03A3"), "\u03BF\u03B4\u03BF\u03C2");  // ΟΔΟΣ -> οδος (final sigma)
  EXPECT_EQ(lower("\u03A3\u0391"), "\u03C3\u03B1");                          // not final: σα
  EXPECT_EQ(lower("\u0391\u03A3'"), "\u03B1\u03C2'");                        // apostrophe is case-ignorable
  EXPECT_EQ(lower("\u0391\u03A3'\u0391"), "\u03B1\u03C3'\u03B1");
  EXPECT_EQ(lower(" \u03A3 "), " \u03C3 ");
  EXPECT_EQ(lower("\u2160\u216B \u00C9COLE \u24B6"), "\u2170\u217B \u00E9cole \u24D0");
}

TEST(ClipUnicode, StripUsesPythonSpaces) {
  EXPECT_EQ(unicode::strip(U"\u001C\t a b \u3000\n"), U"a b");
  EXPECT_EQ(unicode::strip(U"   "), U"");
}

TEST(ClipHtml, UnescapeMatchesPythonHtmlModule) {
  EXPECT_EQ(unescape("Tom &amp; Jerry"), "Tom & Jerry");
  EXPECT_EQ(unescape("&amp;amp;"), "&amp;");  // one level per call
  EXPECT_EQ(unescape("&lt;b&gt;"), "<b>");
  EXPECT_EQ(unescape("caf&eacute; &eacute"), "caf\u00E9 \u00E9");  // legacy names work without ';'
  EXPECT_EQ(unescape("&notit; &ampx"), "\u00ACit; &x");            // longest known prefix
  EXPECT_EQ(unescape("&unknown; & &; &#; &#x;"), "&unknown; & &; &#; &#x;");
  EXPECT_EQ(unescape("&#39;&#x27;&#X41&#65"), "''AA");
  EXPECT_EQ(unescape("&#128;&#0;&#x81;"), "\u20AC\uFFFD\u0081");  // HTML5 rewrites
  EXPECT_EQ(unescape("&#xD800;&#1114112;&#99999999999999999999;"), "\uFFFD\uFFFD\uFFFD");
  EXPECT_EQ(unescape("a&#1;b&#xFFFF;c"), "abc");                     // controls and noncharacters are dropped
  EXPECT_EQ(unescape("&NotNestedGreaterGreater;"), "\u2AA2\u0338");  // two code points
  EXPECT_EQ(unescape("&\u00E9;"), "&\u00E9;");
}

}  // namespace
}  // namespace rave::models

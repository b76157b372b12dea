// Python's html.unescape, which the reference tokenizer applies twice while cleaning text ("&amp;amp;" -> "&").
// Same matching rules: "&#" + decimal or "&#x" + hex digits, or a run of up to 32 name characters, each with an
// optional ';'; unknown names fall back to their longest known prefix ("&notit;" -> "¬it;"), and numeric
// references follow the HTML5 rewrites (&#128; -> €, surrogates and values above U+10FFFF -> U+FFFD).
#pragma once

#include <string>
#include <string_view>

namespace rave::models::html {

std::u32string unescape(std::u32string_view text);

}  // namespace rave::models::html

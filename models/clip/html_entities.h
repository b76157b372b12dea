// The generated tables of html_unescape (html_entities.cpp, from scripts/gen_clip_html_entities.py).
#pragma once

#include <cstddef>

namespace rave::models::html::tables {

struct NamedReference {
  const char* name;      // ASCII, e.g. "amp;" or the legacy form "amp"
  const char32_t* text;  // one or two code points
};
struct NumericOverride {
  char32_t number, text;
};

extern const NamedReference kNamed[];  // sorted by name
extern const std::size_t kNamedSize;
extern const NumericOverride kNumericOverride[];  // sorted by number
extern const std::size_t kNumericOverrideSize;
extern const char32_t kNumericDropped[];  // sorted
extern const std::size_t kNumericDroppedSize;

}  // namespace rave::models::html::tables

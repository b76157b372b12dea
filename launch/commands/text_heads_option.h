// The --text-heads option of the commands that load a CLIP text transformer (analyze, correct, clip, import-clip):
// one declaration, one check. An OpenAI .pt archive does not record the head count; every released model has
// width / 64, the default.
#pragma once

#include <cstdint>

#include "io/options.h"

namespace rave::launch {

inline void declare_text_heads_option(io::po::options_description_easy_init add) {
  add("text-heads", io::po::value<int64_t>()->default_value(0),
      "text-transformer heads of a .pt archive (0: CLIP's width / 64, right for every OpenAI model)");
}

// The head count asked for, 0 for the default; UsageError naming the flag outside [0, 1024].
inline int64_t text_heads_option(const io::po::variables_map& values) {
  return io::bounded_value(values, "text-heads", 0, 1024, " (0: CLIP's width / 64)");
}

}  // namespace rave::launch

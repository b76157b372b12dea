// The --text-heads option of the commands that load a CLIP text transformer (analyze, correct, clip, import-clip):
// one flag, one check. An OpenAI .pt archive does not record the head count; every released model has
// width / 64, asked for by 0, the default of the field.
#pragma once

#include <cstdint>

#include "io/option_binder.h"

namespace rave::launch {

inline void bind_text_heads(io::OptionBinder& b, int64_t& heads) {
  b.bind("text-heads", heads,
         "text-transformer heads of a .pt archive (0: CLIP's width / 64, right for every OpenAI model)");
}

// The head count asked for, 0 for the default; UsageError naming the flag outside [0, 1024].
inline int64_t checked_text_heads(int64_t heads) {
  io::check_range("text-heads", heads, 0, 1024, " (0: CLIP's width / 64)");
  return heads;
}

}  // namespace rave::launch

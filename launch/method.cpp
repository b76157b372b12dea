#include "launch/method.h"

#include "launch/clip_lit_method.h"
#include "launch/rave_method.h"

namespace rave::launch {

std::unique_ptr<Method> make_method(const MethodParts& parts) {
  if (!is_clip_lit_method(parts.options.method)) return make_rave_method(parts);
  return make_clip_lit_method(parts, guidance::make_learned_pair(parts.options.method, parts.guidance_encoder,
                                                                 parts.options.clip_lit.vocab));
}

}  // namespace rave::launch

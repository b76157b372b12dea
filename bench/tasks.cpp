#include "bench/tasks.h"

namespace rave::bench {

const std::vector<launch::Command>& tasks() {
  static const std::vector<launch::Command> list = {step_task(),     residual_task(),  clip_task(),
                                                    enhance_task(),  allreduce_task(), vocabulary_task(),
                                                    loader_task(),   clip_lit_task(),  sgemm_task(),
                                                    smoke_task()};
  return list;
}

}  // namespace rave::bench

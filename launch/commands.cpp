#include "launch/command.h"
#include "launch/commands/all.h"

namespace rave::launch {

const std::vector<Command>& commands() {
  static const std::vector<Command> list = {
      train_command(),   residual_command(), analyze_command(), correct_command(),
      enhance_command(), eval_command(),     report_command(),  plot_command(),
      inspect_command(), import_command(),
      import_clip_command(), clip_command(), synth_command(),
  };
  return list;
}

}  // namespace rave::launch

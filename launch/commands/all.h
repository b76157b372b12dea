// One function per subcommand, each defined in the file of the same name in this folder.
#pragma once

#include "launch/command.h"

namespace rave::launch {

Command train_command();
Command residual_command();
Command analyze_command();
Command correct_command();
Command enhance_command();
Command eval_command();
Command report_command();
Command plot_command();
Command inspect_command();
Command import_command();
Command import_clip_command();
Command clip_command();
Command synth_command();

}  // namespace rave::launch

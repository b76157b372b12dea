// rave train --dry-run: checks everything a training run needs, writes nothing, and measures what a step costs.
//
// Checked as the run would meet them: the method and the flags it needs, both image folders (listed, counted),
// the encoder files (loaded), the vocabulary and the learned pair (CLIP-LIT methods), a --residual file (read,
// its dimension against the encoder's), the checkpoint --resume names (read with its checksums, its method and
// world size), and that --run-dir can be created. Then every rank times enhancer steps on random images at
// --image-size with the run's encoders, guidance and precision: at --batch-size when it is 1 or 2, else at
// batches 2 and 3, extrapolated linearly (a step's activations grow with the batch, the weights and libraries
// do not). Memory is the process's resident peak (VmHWM, reset before each step) at the smaller batch, grown by
// what the CPU block cache holds more at the larger one, and never below the peak of loading the encoders; on a
// CUDA device also the caching allocator's peak. The estimate is the peak of the enhancer step, which the
// CLIP-LIT guidance phases (no gradient through the encoders) stay below.
#pragma once

#include "dist/context.h"
#include "launch/trainer.h"

namespace rave::launch {

// Returns 0 when everything checked out (failures throw the error the run would have met).
int dry_run(const dist::Context& context, const TrainerOptions& options);

}  // namespace rave::launch

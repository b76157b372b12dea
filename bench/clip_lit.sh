#!/usr/bin/env bash
# CLIP-LIT benchmarks on the fixture photos with the tiny CLIP models (bench/clip_lit.cpp says what each measures;
# both forms of each comparison run in the same process, with the same settings).
#   bench/clip_lit.sh [BUILD_DIR]     prints three JSON lines: init on 1 thread, init on every core, rounds
# (on these tiny models the per-sample form loses more to threading overhead than rave does, so the 1-thread
# ratio is the conservative one)
set -euo pipefail
build=${1:-build}
shared=$(cd "$(dirname "$0")/../../shared" && pwd)
data=(--backlit "$shared/data/backlit" --welllit "$shared/data/welllit")
for threads in 1 0; do
  "$build/rave" bench clip-lit --phase init --clip "$shared/fixtures/clip/tiny_vit_state.h5" "${data[@]}" --threads $threads
done
"$build/rave" bench clip-lit --phase rounds --clip "$shared/fixtures/clip/tiny_vit_state.h5" \
    --clip-identity "$shared/fixtures/clip/tiny_rn_state.h5" --vocab "$shared/fixtures/clip/bpe_simple_vocab_16e6.txt.gz" \
    "${data[@]}"

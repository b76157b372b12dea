#!/usr/bin/env bash
# rave's main job on a fresh machine, nothing to download: synthesise backlit scenes with ground truth, train
# RAVE on 2 MPI ranks with the weight-free encoders (configs/quickstart.ini), enhance the held-out scenes,
# measure them before and after, and write the HTML report. About 5 minutes on 2 CPU cores.
#   scripts/quickstart.sh
# Environment: BUILD_DIR (build), DATA (data/synth), RUN_DIR (runs/quickstart), RANKS (2), COUNT (scenes, 60),
#              TRAIN_ARGS (extra rave train flags, e.g. "--max-steps 12 --reconstruction-steps 6" for a smoke test),
#              MIN_GAIN_DB (fail unless the held-out PSNR_Y gain reaches it, e.g. 3; the CTest quickstart.short sets it).
set -euo pipefail
cd "$(dirname "$0")/.."

build=${BUILD_DIR:-build}
data=${DATA:-data/synth}
run=${RUN_DIR:-runs/quickstart}
ranks=${RANKS:-2}
rave=$build/rave

# Only the rave executable: the tests and benchmarks would triple a cold build.
[ -x "$rave" ] || BUILD_TARGET=rave scripts/setup.sh

# More ranks than cores is fine for a demo; root needs Open MPI's explicit consent.
mpirun_flags=(--oversubscribe --bind-to none -np "$ranks")
[ "$(id -u)" -ne 0 ] || mpirun_flags+=(--allow-run-as-root)
read -r -a train_overrides <<< "${TRAIN_ARGS:-}"

step() { printf '\n== %s\n' "$*"; }

step "1/5 synthetic backlit scenes -> $data"
"$rave" synth --out "$data" --count "${COUNT:-60}" --size 128 --seed 0

step "2/5 RAVE training on $ranks ranks -> $run"
rm -rf "$run"
mpirun "${mpirun_flags[@]}" "$rave" train --config configs/quickstart.ini --run-dir "$run" \
  --backlit "$data/train/backlit" --welllit "$data/train/welllit" "${train_overrides[@]}"
checkpoints=("$run"/checkpoints/step_*.h5)  # zero-padded step numbers: the last name is the newest
checkpoint=${checkpoints[-1]}

step "3/5 enhancing the held-out test scenes with $checkpoint"
mpirun "${mpirun_flags[@]}" "$rave" enhance --checkpoint "$checkpoint" --input "$data/test/backlit" \
  --output "$run/test_enhanced"

step "4/5 held-out metrics against the ground truth"
echo "backlit inputs:"
"$rave" eval --pred "$data/test/backlit" --gt "$data/test/welllit" --out "$run/eval_backlit.json"
echo "enhanced by rave:"
"$rave" eval --pred "$run/test_enhanced" --gt "$data/test/welllit" --out "$run/eval_enhanced.json"

step "5/5 report"
"$rave" report "$run"

# The mean PSNR_Y of an eval JSON summary ("psnr_y": {"mean": ...}), printed with two decimals.
psnr() { tr -d ' \n' < "$1" | grep -o '"psnr_y":{"mean":[-0-9.e]*' | cut -d: -f3 | xargs printf '%.2f'; }
before=$(psnr "$run/eval_backlit.json") after=$(psnr "$run/eval_enhanced.json")
cat <<EOF

Done. Held-out PSNR_Y: $before dB (backlit) -> $after dB (enhanced)
  data            $data/{train,test}/{backlit,welllit}
  run directory   $run  (metrics.jsonl, samples/, checkpoints/, residual.h5)
  enhanced        $run/test_enhanced
  metrics         $run/eval_backlit.json, $run/eval_enhanced.json (and the per-image CSVs beside them)
  report          $run/report.html
EOF
if [ -n "${MIN_GAIN_DB:-}" ] && ! awk -v b="$before" -v a="$after" -v m="$MIN_GAIN_DB" 'BEGIN { exit !(a - b >= m) }'; then
  echo "quickstart: the held-out PSNR_Y gain $before -> $after dB is below MIN_GAIN_DB=$MIN_GAIN_DB" >&2
  exit 1
fi

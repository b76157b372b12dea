#!/usr/bin/env bash
# One command for a machine with one NVIDIA GPU whose python3 holds a CUDA torch 2.11 (CUDA 13) with cmake, ninja
# and nvcc (with our Debian libraries installed, or carried in a bundle): builds rave against that torch, then runs,
# writing everything into OUT_DIR (at most 8 files, what a remote runner returns):
#   1. rave bench smoke                 the checks only a GPU can answer (exit 1 on any failure)
#   2. rave bench step                  fp32 and bf16, batch 8 at 512x512 and batch 16 at 256x256, 3 warm-up + 20
#      + bench/rave_reference.py step   timed steps, and the PyTorch eager step on the same GPU with rave's models
#                                       and images (--weights: the same work; first fp32 losses within 1e-3)
#   3. rave bench loader                images/s of the training loader per rank at 512 and 256, 1 and 2 threads
# OUT_DIR/results.jsonl holds every JSON line, OUT_DIR/summary.json the ratios (rave over PyTorch, > 1: rave is
# faster) and the verdicts, OUT_DIR/build.log and OUT_DIR/check.log the logs. Budget: under 8 minutes on 16 cores.
# Usage: scripts/gpu_check.sh OUT_DIR
# Environment: BUNDLE (default .gpu-bundle: where that folder of scripts/gpu_bundle.sh is present, rave is built
#   against it with scripts/gpu_build.sh, for a machine without our Debian packages; otherwise against the installed
#   ones), BUILD_DIR (default build-gpu; an existing rave there with SKIP_BUILD=1 is used as it is), DEVICE (default
#   cuda; cpu proves the script on a CPU build), SCALE=full|tiny (tiny: the smallest sizes, for the CTest that runs
#   this script on the CPU), PYTHON (default python3).
set -euo pipefail
[ $# -eq 1 ] || { echo "usage: scripts/gpu_check.sh OUT_DIR" >&2; exit 2; }
cd "$(dirname "$0")/.."
out=$(mkdir -p "$1" && cd "$1" && pwd)
bundle=${BUNDLE:-.gpu-bundle}
build=${BUILD_DIR:-build-gpu}
device=${DEVICE:-cuda}
python=${PYTHON:-python3}
start=$(date +%s)
log() { echo "gpu_check.sh [$(( $(date +%s) - start ))s] $*" | tee -a "$out/check.log" >&2; }
: >"$out/check.log"
: >"$out/results.jsonl"

if [ "${SKIP_BUILD:-0}" != 1 ]; then
  if [ -f "$bundle/deps.tar.gz" ]; then
    log "building rave in $build against the bundle $bundle and python3's torch"
    PYTHON=$python scripts/gpu_build.sh "$bundle" "$build" >"$out/build.log" 2>&1 ||
      { log "the build failed: see build.log"; tail -n 30 "$out/build.log" >&2; exit 1; }
  else
    torch_dir=$("$python" -c 'import os, torch; print(os.path.dirname(torch.__file__))')
    log "building rave in $build against the torch in $torch_dir"
    generator=()
    command -v ninja >/dev/null && generator=(-G Ninja)
    { cmake -S . -B "$build" "${generator[@]}" -DCMAKE_BUILD_TYPE=Release -DRAVE_WITH_NCCL=ON \
        -DCMAKE_PREFIX_PATH="$torch_dir" && cmake --build "$build" --target rave -j "$(nproc)"; } \
      >"$out/build.log" 2>&1 || { log "the build failed: see build.log"; tail -n 30 "$out/build.log" >&2; exit 1; }
  fi
fi
# The libraries a bundle build carries (absent where our Debian packages are installed).
if [ -f "$build/deps/env.sh" ]; then
  # shellcheck source=/dev/null
  source "$build/deps/env.sh"
fi
rave=$build/rave
# Equal settings for rave and the PyTorch baseline: the same intra-op threads and OpenMP wait policy.
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-$(nproc)} OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-PASSIVE}
"$rave" --version | tee -a "$out/check.log"
failures=()

# One task's JSON line into results.jsonl; its log into check.log.
run_rave() {
  local line
  if line=$("$rave" bench "$@" --device "$device" 2>>"$out/check.log"); then
    printf '%s\n' "$line" >>"$out/results.jsonl"
  else
    [ -n "$line" ] && printf '%s\n' "$line" >>"$out/results.jsonl"
    failures+=("rave bench $1")
    log "rave bench $* failed"
  fi
}
run_python() {
  if ! PYTHONUNBUFFERED=1 "$python" bench/rave_reference.py "$@" --device "$device" >>"$out/results.jsonl" 2>>"$out/check.log"; then
    failures+=("rave_reference.py $*")
    log "bench/rave_reference.py $* failed"
  fi
}

log "smoke checks on $device"
run_rave smoke

if [ "${SCALE:-full}" = tiny ]; then
  shapes=("2 64") warmup=1 iters=2 encoders=tiny loader_sizes=(64)
else
  shapes=("8 512" "16 256") warmup=3 iters=20 encoders=full loader_sizes=(512 256)
fi
for shape in "${shapes[@]}"; do
  read -r batch size <<<"$shape"
  for precision in fp32 bf16; do
    log "step: batch $batch at ${size}x$size, $precision"
    weights=$out/step_weights.h5
    run_rave step --encoders "$encoders" --batch "$batch" --size "$size" --precision "$precision" \
      --warmup "$warmup" --iters "$iters" --save-weights "$weights"
    run_python step --weights "$weights" --precision "$precision" --warmup "$warmup" --iters "$iters"
    rm -f "$weights"
  done
done

log "loader"
scenes=$(mktemp -d)
trap 'rm -rf "$scenes"' EXIT
"$rave" synth --out "$scenes" --count 32 --size 600 >>"$out/check.log" 2>&1
for size in "${loader_sizes[@]}"; do
  for threads in 1 2; do
    run_rave loader --folder "$scenes/train/backlit" --image-size "$size" --loader-threads "$threads"
  done
done

status=0
"$python" - "$out/results.jsonl" "${failures[@]}" >"$out/summary.json" <<'PY' || status=$?
import json, sys
rows = [json.loads(line) for line in open(sys.argv[1]) if line.strip()]
failures = list(sys.argv[2:])
summary = {"bench": "gpu_check_summary", "failures": failures, "steps": []}
smoke = next((r for r in rows if r["bench"] == "smoke"), None)
if smoke:
    summary["smoke"] = {k: smoke[k] for k in ("passed", "failed", "skipped")}
    summary["smoke"]["failed_checks"] = [c for c in smoke["checks"] if c["result"] == "fail"]
steps = [r for r in rows if r["bench"] == "rave_step"]
for ours in (r for r in steps if r["impl"] == "rave"):
    theirs = next((r for r in steps if r["impl"] != "rave" and r["batch"] == ours["batch"]
                   and r["size"] == ours["size"] and r["precision"] == ours["precision"]), None)
    if theirs is None:
        continue
    difference = abs(theirs["first_loss"] - ours["first_loss"]) / abs(ours["first_loss"])
    entry = {"batch": ours["batch"], "size": ours["size"], "precision": ours["precision"],
             "rave_seconds_per_step": ours["seconds_per_step"], "pytorch_seconds_per_step": theirs["seconds_per_step"],
             "ratio": round(theirs["seconds_per_step"] / ours["seconds_per_step"], 3),
             "first_loss_relative_difference": float(f"{difference:.2e}"),
             "rave_peak_device_mib": ours.get("peak_device_mib"), "pytorch_peak_device_mib": theirs.get("peak_device_mib")}
    summary["steps"].append(entry)
    if ours["precision"] == "fp32" and difference > 1e-3:
        failures.append(f'same work: fp32 first losses differ by {difference:.2e} at batch {ours["batch"]}')
summary["loader"] = [{"image_size": r["image_size"], "loader_threads": r["loader_threads"],
                      "first_epoch_images_per_s": r["first_epoch"]["images_per_second"],
                      "cached_images_per_s": (r["cached"] or {}).get("images_per_second"),
                      "no_cache_images_per_s": r["no_cache"]["images_per_second"]}
                     for r in rows if r["bench"] == "loader"]
print(json.dumps(summary, indent=1))
sys.exit(1 if failures else 0)
PY
log "finished in $(( $(date +%s) - start ))s: $("$python" -c 'import json,sys; s=json.load(open(sys.argv[1])); print(len(s["failures"]), "failure(s)")' "$out/summary.json" 2>/dev/null || echo "no summary")"
exit $status

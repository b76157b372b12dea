#!/usr/bin/env bash
# rave's RAVE training step and residual pass (rave bench step / residual) against a PyTorch implementation of the
# same work (bench/rave_reference.py), side by side in one run on each LibTorch rave builds against: Debian's 1.13
# (rave in BUILD_DIR, python3-torch) and PyPI's 2.11 (rave in PIP_BUILD_DIR, the torch of .torch-pip/; skipped
# with a note when either is missing). Both sides of a pair get the same threads, the same OpenMP wait policy
# (OMP_WAIT_POLICY, PASSIVE unless exported: rave would otherwise choose it for itself), the same allocator
# settings and the same warm-up (one step); each JSON line states its threads, wait policy and malloc setting.
# Malloc settings (MALLOCS, default "default heap"): every comparison runs once per setting, both sides under it:
#   default  glibc as shipped: blocks over its (dynamic) mmap threshold come from fresh mappings and go back to the
#            kernel when freed, so every step page-faults its large activations in again, zero-filled. rave keeps
#            such blocks itself (core/cpu_block_cache.h); PyTorch on the CPU does not.
#   heap     GLIBC_TUNABLES=glibc.malloc.mmap_threshold=4294967296:glibc.malloc.trim_threshold=4294967296 for both
#            sides: every block comes from glibc's heap, and freed memory stays there (the mmap threshold alone
#            leaves the trim threshold at 128 KiB, so the heap's top is given back and faulted in again), reused
#            without new page faults. The ratios under this setting are what rave's own code adds beyond what an
#            environment variable gives PyTorch; the summary reports the setting's effect on each side on its own
#            (malloc_effect), never as rave's margin.
# Same work, checked: rave bench step writes its random models and images (--save-weights) and the PyTorch side
# loads them (--weights); the script fails when their fp32 first losses differ by more than 1e-3 (relative).
# Prints every JSON line, then one summary object with the ratios (rave's speed over PyTorch's: > 1 means rave is
# faster), from wall-clock time (`ratio`) and from the processes' CPU time (`cpu_ratio`; it stays meaningful while
# other jobs load the machine, best read with THREADS=1 then).
#   step:     batch 2 at 256x256, full-size random-weight ViT-B/32 (guidance) and RN101 (identity); rave's
#             launch::training_step (the trainer's own step, gradient averaging over one rank included) in fp32 and
#             bf16 against PyTorch's per-sample loop (the reference's form, 1.13 only) and batched form, each in
#             fp32 and bf16 autocast, and on 2.11 against torch.compile (inductor, default mode) of the batched
#             step. Targets (under each malloc setting): rave fp32 >= 1.1x batched PyTorch fp32 and rave bf16 >=
#             1.0x its bf16 autocast on both builds; on 1.13 also rave bf16 >= 1.6x batched fp32 and >= 2x the fp32
#             loop. rave bf16 over rave fp32 is reported per build (>= 1.6x is the target on CPUs with AMX;
#             the summary names the CPU and whether it has AMX). Each step's convolution and matmul work is also
#             given in GFLOP/s and as a share of this machine's 2048x2048 sgemm rate (rave bench sgemm).
#   residual: 40 photos (the 6 of ../shared/data/backlit as the backlit set, the first 34 of
#             ../shared/data/welllit as the well-lit set) against the reference procedure (one image at a time),
#             same random ViT-B/32 weights; the two residual vectors are compared. Target: >= 2x.
# Usage: bench/compare.sh [BUILD_DIR [PIP_BUILD_DIR]]
# Environment: THREADS=N (default 2), ITERS=N (timed steps, default 3), COMPILE=0 skips torch.compile,
#   PARTS (default "step residual": which comparisons run), MALLOCS (default "default heap"), ROUNDS (default 1:
#   step comparisons per setting, the sides alternating; medians over the rounds), RUNS (residual passes per side
#   and setting, default 3); the summary gives medians with their range. Single step runs vary by about 15 % on a
#   shared 2-core machine: ROUNDS=3 for numbers to publish.
set -euo pipefail
build=${1:-build}
pip_build=${2:-build-pip}
here=$(cd "$(dirname "$0")" && pwd)
threads=${THREADS:-2}
iters=${ITERS:-3}
parts=" ${PARTS:-step residual} "
read -r -a mallocs <<<"${MALLOCS:-default heap}"
runs=${RUNS:-3}
rounds=${ROUNDS:-1}
data=$here/../../shared/data
source "$here/baseline.sh"
require_python bench/compare.sh torch h5py PIL
[ -x "$build/rave" ] || { echo "bench/compare.sh: $build/rave is missing (cmake --build $build --target rave)" >&2; exit 1; }
pip_python=$here/../.torch-pip/bin/python
sides=("1.13 $build $python")
if [ -x "$pip_build/rave" ] && "$pip_python" -c "import h5py" 2>/dev/null; then
  sides+=("2.11 $pip_build $pip_python")
else
  echo "bench/compare.sh: no LibTorch 2.11 side ($pip_build/rave, or $pip_python with h5py, missing: TORCH=pip scripts/setup.sh; .torch-pip/bin/pip install h5py)" >&2
fi

mkdir -p "$scratch/backlit" "$scratch/welllit"
find "$data/backlit" -maxdepth 1 -type f -exec ln -s {} "$scratch/backlit/" \;
find "$data/welllit" -maxdepth 1 -type f | sort | head -n 34 | xargs -I{} ln -s {} "$scratch/welllit/"

heap_tunables=glibc.malloc.mmap_threshold=4294967296:glibc.malloc.trim_threshold=4294967296
# malloc_setting NAME: the malloc environment both sides inherit (the header says what each means).
malloc_setting() {
  case "$1" in
    default) unset GLIBC_TUNABLES ;;
    heap) export GLIBC_TUNABLES=$heap_tunables ;;
    *) echo "bench/compare.sh: MALLOCS: unknown setting '$1' (default or heap)" >&2; exit 2 ;;
  esac
}
# tagged JSON_LINE: the line with the malloc setting it ran under as its first field (nothing for nothing, so that
# record still sees a benchmark that printed nothing).
tagged() { [ -z "$1" ] || printf '{"malloc": "%s", %s\n' "$malloc" "${1#\{}"; }

equal_settings "$threads"
malloc=default
record "$(tagged "$(rave_bench "$build" sgemm --n 2048 --repeats 5)")"
for malloc in "${mallocs[@]}"; do
  malloc_setting "$malloc"
  for side in "${sides[@]}"; do
    read -r version rave_build side_python <<<"$side"
    forms=(batched)
    [ "$version" = 1.13 ] && forms=(loop batched)
    [[ $parts == *" step "* ]] || forms=()
    for ((round = 0; round < rounds; ++round)); do
      for precision in fp32 bf16; do
        [ ${#forms[@]} -gt 0 ] || break
        record "$(tagged "$(rave_bench "$rave_build" step --precision $precision --iters "$iters" --save-weights "$scratch/step.h5")")"
        for form in "${forms[@]}"; do
          record "$(tagged "$("$side_python" "$here/rave_reference.py" step --weights "$scratch/step.h5" --form "$form" --precision $precision --iters "$iters" --threads "$threads")")"
        done
        if [ "$version" != 1.13 ] && [ "${COMPILE:-1}" = 1 ]; then
          record "$(tagged "$("$side_python" "$here/rave_reference.py" step --weights "$scratch/step.h5" --compile --precision $precision --iters "$iters" --threads "$threads")")"
        fi
      done
    done
    [[ $parts == *" residual "* ]] || continue
    for ((run = 0; run < runs; ++run)); do
      record "$(tagged "$(rave_bench "$rave_build" residual --backlit "$scratch/backlit" --welllit "$scratch/welllit" --out "$scratch/weights")")"
      record "$(tagged "$("$side_python" "$here/rave_reference.py" residual --prefix "$scratch/weights" --backlit "$scratch/backlit" --welllit "$scratch/welllit" --threads "$threads")")"
    done
  done
done
unset GLIBC_TUNABLES

cpu=$(lscpu | sed -n 's/^Model name: *//p' | head -n 1)
amx=false
grep -q amx_bf16 /proc/cpuinfo && amx=true
"$python" - "$cpu" "$amx" "$heap_tunables" "${lines[@]}" <<'PY'
import json, statistics, sys
cpu, amx, heap_tunables = sys.argv[1], sys.argv[2] == "true", sys.argv[3]
rows = [json.loads(line) for line in sys.argv[4:]]
sgemm = next(r for r in rows if r["bench"] == "sgemm")
flops = next((r["flops_per_step"] for r in rows if "flops_per_step" in r), 0)
summary = {"bench": "rave_compare_summary", "cpu": cpu, "amx": amx, "threads": sgemm["threads"],
           "mallocs": {"default": "glibc as shipped", "heap": f"GLIBC_TUNABLES={heap_tunables}"},
           "same_settings": len({(r.get("threads"), r.get("omp_wait_policy")) for r in rows if "omp_wait_policy" in r}) == 1,
           "omp_wait_policy": sgemm.get("omp_wait_policy") or next(r["omp_wait_policy"] for r in rows if "omp_wait_policy" in r),
           "sgemm_gflops": sgemm["gflops"], "step_gflop": round(flops / 1e9, 1) or None}
groups, failures = {}, []
for r in rows:
    if "libtorch" in r:
        groups.setdefault((".".join(r["libtorch"].split(".")[:2]), r["malloc"]), []).append(r)
for (version, malloc), group in groups.items():
    # Each step comparison ran ROUNDS times, alternating the sides: per form, the medians over the rounds.
    rounds_of = {}
    for r in group:
        if r["bench"] == "rave_step":
            rounds_of.setdefault(f'{r["impl"]}_{r["form"]}_{r["precision"]}', []).append(r)
    steps = {name: {"seconds_per_step": statistics.median(r["seconds_per_step"] for r in rs),
                    "cpu_seconds_per_step": statistics.median(r["cpu_seconds_per_step"] for r in rs),
                    "range": [min(r["seconds_per_step"] for r in rs), max(r["seconds_per_step"] for r in rs)],
                    "first_loss": rs[0]["first_loss"], "precision": rs[0]["precision"]} for name, rs in rounds_of.items()}
    side = {"steps": {}, "same_work": {}}
    for name, r in steps.items():
        gflops = flops / r["seconds_per_step"] / 1e9
        side["steps"][name] = {"seconds_per_step": r["seconds_per_step"], "cpu_seconds_per_step": r["cpu_seconds_per_step"],
                               "range": r["range"], "rounds": len(rounds_of[name]), "gflops": round(gflops, 1),
                               "share_of_sgemm": round(gflops / sgemm["gflops"], 3), "first_loss": r["first_loss"]}

    def speed(ours, theirs, target=None):
        entry = {"ratio": round(theirs["seconds_per_step"] / ours["seconds_per_step"], 2),
                 "cpu_ratio": round(theirs["cpu_seconds_per_step"] / ours["cpu_seconds_per_step"], 2)}
        if target is not None:
            entry.update(target=target, met=entry["ratio"] >= target)
        return entry

    targets = {("fp32", "pytorch_eager_batched_fp32"): 1.1, ("bf16", "pytorch_eager_batched_bf16"): 1.0}
    if version == "1.13":
        targets.update({("bf16", "pytorch_eager_batched_fp32"): 1.6, ("bf16", "pytorch_eager_loop_fp32"): 2.0})
    ratios = {}
    for precision in ("fp32", "bf16") if steps else ():
        for base in sorted(name for name in steps if not name.startswith("rave_")):
            ratios[f"rave_{precision}_over_{base}"] = speed(steps[f"rave_batched_{precision}"], steps[base],
                                                            targets.get((precision, base)))
    # bf16 over fp32 within rave: the AMX target applies only on a CPU that has AMX.
    if steps:
        ratios["rave_bf16_over_rave_fp32"] = speed(steps["rave_batched_bf16"], steps["rave_batched_fp32"],
                                                   1.6 if amx and version != "1.13" else None)
        side["step_speed"] = ratios
    # Same work: every PyTorch step loaded rave's models and images, so the fp32 first losses must agree.
    for name, r in steps.items():
        if name.startswith("rave_"):
            continue
        ours = steps[f'rave_batched_{r["precision"]}']["first_loss"]
        difference = abs(r["first_loss"] - ours) / abs(ours)
        side["same_work"][name] = {"first_loss_relative_difference": float(f"{difference:.2e}")}
        if r["precision"] == "fp32" and difference > 1e-3:
            failures.append(f"libtorch {version}, malloc {malloc}: {name} first loss {r['first_loss']} against rave's {ours}")
    # The residual pass is short (seconds), so each side runs it RUNS times: medians, with the range.
    passes = {impl: sorted(r["images_per_s"] for r in group if r["bench"] == "rave_residual" and (r["impl"] == "rave") == (impl == "rave"))
              for impl in ("rave", "reference_procedure")}
    if all(passes.values()):
        median = {impl: round(statistics.median(v), 2) for impl, v in passes.items()}
        ratio = round(median["rave"] / median["reference_procedure"], 2)
        side["residual_images_per_s"] = {
            **{impl: {"median": m, "range": [passes[impl][0], passes[impl][-1]]} for impl, m in median.items()},
            "ratio": ratio, "ratio_range": [round(passes["rave"][0] / passes["reference_procedure"][-1], 2),
                                            round(passes["rave"][-1] / passes["reference_procedure"][0], 2)],
            "target": 2.0, "met": ratio >= 2.0, "runs": len(passes["rave"]),
            "images": next(r["images"] for r in group if r["bench"] == "rave_residual"),
            "max_abs_diff": max(r["max_abs_diff_vs_rave"] for r in group if "max_abs_diff_vs_rave" in r)}
    summary.setdefault(f"libtorch_{version}", {})[f"malloc_{malloc}"] = side
# What the heap setting alone does to each side: its speed under the setting over its speed without it.
for version_key, sides_by_malloc in summary.items():
    if not version_key.startswith("libtorch_") or not {"malloc_default", "malloc_heap"} <= sides_by_malloc.keys():
        continue
    plain, heap = sides_by_malloc["malloc_default"], sides_by_malloc["malloc_heap"]
    effect = {name: round(r["seconds_per_step"] / heap["steps"][name]["seconds_per_step"], 2)
              for name, r in plain["steps"].items() if name in heap["steps"]}
    if "residual_images_per_s" in plain and "residual_images_per_s" in heap:
        for impl in ("rave", "reference_procedure"):
            effect[f"residual_{impl}"] = round(heap["residual_images_per_s"][impl]["median"] /
                                               plain["residual_images_per_s"][impl]["median"], 2)
    sides_by_malloc["malloc_effect"] = effect
summary["same_work_failures"] = failures
print(json.dumps(summary))
if failures or not summary["same_settings"]:
    sys.exit("bench/compare.sh: " + ("; ".join(failures) or "the two sides ran with different threads or wait policies"))
PY

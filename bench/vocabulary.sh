#!/usr/bin/env bash
# The vocabulary sweep of rave analyze / rave correct (full-size random-weight ViT-B/32 text encoder, 49,408
# ids) on 1 rank with every core, then on RANKS ranks sharing the cores, against the reference procedure (one
# id at a time over the full 77-token context, timed on SAMPLE evenly spread ids and extrapolated), and the
# cached rerun. The reference procedure runs in the same process as the sweep (same threads, same OpenMP wait
# policy). Prints every JSON line, then one summary object.
# Targets: >= 30x the reference on one process; near-linear speed-up with ranks that have their own cores
# (on a machine with fewer cores than ranks x threads the ranks only share them); cached rerun < 2 s. On a
# machine shared with other work compare the CPU-time fields of single-threaded runs (THREADS=1).
# Usage: bench/vocabulary.sh [BUILD_DIR]    environment: RANKS (default 2), SAMPLE (default 256), THREADS
#        (of every process; default: all cores for the 1-rank run, cores / RANKS for the other),
#        BATCH (default 512), VOCAB (default ../shared/fixtures/clip/bpe_simple_vocab_16e6.txt.gz)
set -euo pipefail
build=${1:-build}
here=$(cd "$(dirname "$0")" && pwd)
vocab=${VOCAB:-$here/../../shared/fixtures/clip/bpe_simple_vocab_16e6.txt.gz}
ranks=${RANKS:-2}
cores=$(nproc)
mpirun=(mpirun --allow-run-as-root --oversubscribe --mca btl_vader_single_copy_mechanism none)

one=$("$build/rave" bench vocabulary --vocab "$vocab" --batch "${BATCH:-512}" --sample "${SAMPLE:-256}" \
     --threads "${THREADS:-$cores}")
printf '%s\n' "$one"
threads=${THREADS:-$(( cores / ranks > 0 ? cores / ranks : 1 ))}
many=$("${mpirun[@]}" -np "$ranks" "$build/rave" bench vocabulary --vocab "$vocab" --batch "${BATCH:-512}" \
       --threads "$threads" --skip-reference)
printf '%s\n' "$many"

python3 - "$one" "$many" <<'PY'
import json, sys
one, many = (json.loads(line) for line in sys.argv[1:])
print(json.dumps({
    "bench": "vocabulary_summary",
    "cores": one["threads"],
    "omp_wait_policy": one["omp_wait_policy"],
    "sweep_seconds_1_rank": one["sweep_seconds"],
    "reference_extrapolated_seconds": one["reference_extrapolated_seconds"],
    "speedup_vs_reference": one["speedup"],
    "speedup_vs_reference_cpu_time": one["speedup_cpu_time"],
    "max_abs_diff_vs_reference": one["max_abs_diff_vs_reference"],
    f"sweep_seconds_{many['ranks']}_ranks": many["sweep_seconds"],
    "rank_speedup": round(one["sweep_seconds"] / many["sweep_seconds"], 2),
    "rank0_cpu_share": round(many["sweep_cpu_seconds_rank0"] / one["sweep_cpu_seconds_rank0"], 2),
    "cached_rerun_seconds": one["cached_rerun_seconds"],
}))
PY

#!/usr/bin/env bash
# dry_run_memory.sh RAVE SCRATCH: `rave train --dry-run` estimates the peak memory per rank of the run it checks
# within 25 % of what the run then measures, at two sizes (the weight-free encoders, so that the enhancer's
# activations, which grow with batch and size, are most of the memory).
set -euo pipefail
rave=$1 scratch=$2
rm -rf "$scratch" && mkdir -p "$scratch"
"$rave" synth --out "$scratch/data" --count 8 --size 96 --test-fraction 0 >/dev/null 2>&1
common=(--backlit "$scratch/data/train/backlit" --welllit "$scratch/data/train/welllit" --clip photometric
        --clip-identity pixels --threads 1 --loader-threads 1)
for size_batch in "96 2" "192 3"; do
  read -r size batch <<<"$size_batch"
  flags=("${common[@]}" --image-size "$size" --batch-size "$batch" --run-dir "$scratch/run$size")
  estimate=$("$rave" train --dry-run "${flags[@]}" 2>&1 | sed -n 's/.*estimated peak memory per rank: \([0-9]*\) MiB.*/\1/p')
  measured=$("$rave" train "${flags[@]}" --max-steps 3 --reconstruction-steps 1 2>&1 |
             sed -n 's/.*peak memory per rank: \([0-9]*\) MiB.*/\1/p')
  [ -n "$estimate" ] && [ -n "$measured" ] || { echo "dry_run_memory: no figure at ${size}x$size"; exit 1; }
  echo "${size}x$size batch $batch: estimated $estimate MiB, measured $measured MiB"
  awk -v e="$estimate" -v m="$measured" 'BEGIN { d = (e - m) / m; exit !(d <= 0.25 && d >= -0.25) }' ||
    { echo "dry_run_memory: the estimate is more than 25 % off"; exit 1; }
done

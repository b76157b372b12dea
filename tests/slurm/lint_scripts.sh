#!/usr/bin/env bash
# lint_scripts.sh: `bash -n` and shellcheck over the shell scripts of the Slurm templates, the local launcher, the
# GPU machine's build scripts (scripts/gpu_*.sh), the fuzzing scripts (scripts/fuzz.sh, tests/fuzz/) and their tests. Exits 77 (skipped) after `bash -n` when shellcheck
# is not installed.
set -euo pipefail
cd "$(dirname "$0")/../.."
scripts=(slurm/*.sbatch slurm/common.sh scripts/launch.sh scripts/gpu_*.sh scripts/fuzz.sh tests/slurm/*.sh tests/fuzz/*.sh)
for script in "${scripts[@]}"; do bash -n "$script"; done
if ! command -v shellcheck >/dev/null; then
  echo "lint_scripts.sh: SKIP: shellcheck is not installed (apt-get install shellcheck); bash -n passed"
  exit 77
fi
shellcheck -x "${scripts[@]}"  # -x: follow `source slurm/common.sh`
echo "lint_scripts.sh: ${#scripts[@]} scripts pass bash -n and shellcheck"

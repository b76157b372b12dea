#!/usr/bin/env bash
# Side-by-side: LibTorch sgemm through OpenBLAS (what scripts/setup.sh installs) and through Debian's
# reference BLAS, in one run; prints both JSON lines and the ratio.
# Usage: bench/blas.sh [BUILD_DIR] [N]
set -euo pipefail
build=${1:-build}
n=${2:-2048}
reference_dir=/usr/lib/x86_64-linux-gnu/blas
[ -e "$reference_dir/libblas.so.3" ] || { echo "bench/blas.sh: reference BLAS not found in $reference_dir (apt-get install libblas3)" >&2; exit 1; }
# The same threads and wait policy for both: only the BLAS library differs.
export OMP_NUM_THREADS=${THREADS:-$(nproc)} OPENBLAS_NUM_THREADS=${THREADS:-$(nproc)} OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-PASSIVE}
openblas=$("$build/rave" bench sgemm --n "$n" --repeats 5 2>/dev/null)
reference=$(LD_LIBRARY_PATH=$reference_dir "$build/rave" bench sgemm --n "$n" --repeats 2 2>/dev/null)
echo "$openblas"
echo "$reference"
python3 - "$openblas" "$reference" <<'PY'
import json, sys
o, r = json.loads(sys.argv[1]), json.loads(sys.argv[2])
print(json.dumps({"bench": "sgemm_openblas_vs_reference", "n": o["n"],
                  "openblas_seconds": o["best_seconds"], "reference_seconds": r["best_seconds"],
                  "speedup": round(r["best_seconds"] / o["best_seconds"], 1)}))
PY

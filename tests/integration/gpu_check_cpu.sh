#!/usr/bin/env bash
# scripts/gpu_check.sh on the CPU (the CTest gpu_check.cpu): skipped (77) without a PyTorch that has h5py, then the
# script must pass and its summary must hold every part: smoke, the four steps with their PyTorch twins (same
# work) and the loader.
set -euo pipefail
out=$1
if ! "$PYTHON" -c "import torch, h5py" 2>/dev/null; then
  echo "gpu_check_cpu.sh: SKIP: $PYTHON has no torch and h5py (TORCH=pip scripts/setup.sh makes .torch-pip/)"
  exit 77
fi
rm -rf "$out"
"$(dirname "$0")/../../scripts/gpu_check.sh" "$out"
"$PYTHON" - "$out/summary.json" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
assert not s["failures"], s["failures"]
assert s["smoke"]["failed"] == 0 and s["smoke"]["passed"] >= 6, s["smoke"]
assert len(s["steps"]) == 2 and all(step["first_loss_relative_difference"] <= 1e-3 or step["precision"] == "bf16"
                                    for step in s["steps"]), s["steps"]
assert len(s["loader"]) == 2, s["loader"]
print("gpu_check_cpu.sh: summary holds smoke, 2 step pairs and 2 loader runs")
PY

#!/usr/bin/env bash
# Side by side in one run: `rave enhance` and a PyTorch eager script of the same network
# (bench/enhance_torch.py on Debian's python3-torch), on the same 2048x1536 JPEG photos, with the same threads
# and OpenMP wait policy (OMP_WAIT_POLICY, PASSIVE unless exported). Throughput is megapixels/s of the file loop
# (decode, network, encode; process start-up excluded, the first image cold on both sides), peak RSS the whole
# process's maximum resident set (GNU time). The network alone is also timed on both sides the same way (one
# untimed run, then the median of FORWARD_ITERS: rave bench enhance and enhance_torch.py --forward-only).
# Prints every JSON line, then one summary object with the ratios (throughput rave / PyTorch, > 1: rave is
# faster; peak RSS rave / PyTorch, < 1: rave needs less) and the settings.
# Usage: bench/enhance.sh [BUILD_DIR]     environment: IMAGES=N (default 2), THREADS=N (default: all cores),
#        FORWARD_ITERS=N (default 1),
#        WEIGHTS=FILE.pth (default: ../shared/fixtures/enhancer/rave_paired.pth)
set -euo pipefail
build=${1:-build}
here=$(cd "$(dirname "$0")" && pwd)
threads=${THREADS:-$(nproc)}
images=${IMAGES:-2}
weights=${WEIGHTS:-$here/../../shared/fixtures/enhancer/rave_paired.pth}
photos=$here/../../shared/data/backlit
source "$here/baseline.sh"
require_python bench/enhance.sh torch PIL
equal_settings "$threads"
forward_iters=${FORWARD_ITERS:-1}
[ -x /usr/bin/time ] || { echo "bench/enhance.sh: needs GNU time (apt-get install -y time)" >&2; exit 1; }

# The backlit photos brought to exactly 2048x1536 (aspect ratio not kept), saved as JPEG like the originals.
mkdir -p "$scratch/in"
"$python" - "$photos" "$scratch/in" "$images" <<'PY'
import os, sys
from PIL import Image
source, target, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
names = sorted(n for n in os.listdir(source) if n.lower().endswith(".jpg"))
for i in range(count):
    image = Image.open(os.path.join(source, names[i % len(names)])).convert("RGB").resize((2048, 1536), Image.LANCZOS)
    image.save(os.path.join(target, f"photo{i:03d}.jpg"), quality=95)
PY
"$build/rave" import --from "$weights" --to "$scratch/weights.h5" >/dev/null 2>&1

peak_kib() { sed -n 's/^peak_kib=//p' "$1"; }

/usr/bin/time -f "peak_kib=%M" -o "$scratch/rave.time" "$build/rave" enhance --threads "$threads" \
  --checkpoint "$scratch/weights.h5" --input "$scratch/in" --output "$scratch/out_rave" >"$scratch/rave.log" 2>&1
record "$("$python" - "$scratch/rave.log" "$(peak_kib "$scratch/rave.time")" "$threads" <<'PY'
import json, os, re, sys
log, peak_kib, threads = open(sys.argv[1]).read(), int(sys.argv[2]), int(sys.argv[3])
m = re.search(r"enhanced (\d+) of \d+ images on \d+ rank\(s\) \(([\d.]+) megapixels\) in ([\d.]+) s: ([\d.]+) megapixels/s",
              log)
if not m:
    sys.exit("bench/enhance.sh: rave enhance failed:\n" + log)
print(json.dumps({"bench": "enhance", "impl": "rave", "images": int(m[1]), "megapixels": float(m[2]),
                  "seconds": float(m[3]), "megapixels_per_s": float(m[4]), "peak_rss_mib": peak_kib / 1024,
                  "threads": threads, "omp_wait_policy": os.environ.get("OMP_WAIT_POLICY", "")}))
PY
)"
/usr/bin/time -f "peak_kib=%M" -o "$scratch/torch.time" "$python" "$here/enhance_torch.py" --threads "$threads" \
  --weights "$weights" --input "$scratch/in" --output "$scratch/out_torch" >"$scratch/torch.json" 2>/dev/null
record "$("$python" -c 'import json, sys; r = json.load(open(sys.argv[1])); r["peak_rss_mib"] = int(sys.argv[2]) / 1024; print(json.dumps(r))' \
  "$scratch/torch.json" "$(peak_kib "$scratch/torch.time")")"
record "$(rave_bench "$build" enhance --height 1536 --width 2048 --warmup 1 --iters "$forward_iters")"
record "$("$python" "$here/enhance_torch.py" --threads "$threads" --forward-only 2048x1536 --warmup 1 --iters "$forward_iters")"

"$python" - "${lines[@]}" <<'PY'
import json, sys
rave, torch, forward, torch_forward = (json.loads(line) for line in sys.argv[1:])
ratio = lambda a, b: round(a / b, 3)
settings = {(r["threads"], r["omp_wait_policy"]) for r in (rave, torch, forward, torch_forward)}
print(json.dumps({
    "bench": "enhance_summary", "image": "2048x1536", "images": rave["images"], "threads": rave["threads"],
    "omp_wait_policy": rave["omp_wait_policy"], "same_settings": len(settings) == 1,
    "megapixels_per_s": {"rave": rave["megapixels_per_s"], "pytorch": torch["megapixels_per_s"],
                         "ratio": ratio(rave["megapixels_per_s"], torch["megapixels_per_s"])},
    "forward_megapixels_per_s": {"rave": forward["megapixels_per_s"], "pytorch": torch_forward["megapixels_per_s"],
                                 "ratio": ratio(forward["megapixels_per_s"], torch_forward["megapixels_per_s"])},
    "peak_rss_mib": {"rave": round(rave["peak_rss_mib"]), "pytorch": round(torch["peak_rss_mib"]),
                     "ratio": ratio(rave["peak_rss_mib"], torch["peak_rss_mib"])}}))
PY

#!/usr/bin/env bash
# Side by side in one run: rave's CLIP encoders (rave bench clip) and a PyTorch eager baseline
# (bench/clip_reference.py on Debian's python3-torch), same machine, same threads and OpenMP wait policy
# (OMP_WAIT_POLICY, PASSIVE unless exported), one warm-up batch each. Prints every JSON line, then one summary
# object with the ratios (rave / PyTorch; > 1 means rave is faster) and the settings both sides ran with.
#   image: ViT-B/32 encode_image and RN101 image_features, batch 32, fp32 and bf16 (targets: >= 1.0x)
#   text:  4,096 single-word prompts batched and cut to their length, against the reference procedure (one
#          prompt at a time, 77 tokens) on the first 256; embeddings compared (target: >= 20x, <= 1e-4)
# Usage: bench/clip.sh [BUILD_DIR]     environment: SCALE=full|quick, THREADS=N (default: all cores),
#        VOCAB=bpe_simple_vocab_16e6.txt.gz (default: ../shared/fixtures/clip/...)
set -euo pipefail
build=${1:-build}
here=$(cd "$(dirname "$0")" && pwd)
threads=${THREADS:-$(nproc)}
vocab=${VOCAB:-$here/../../shared/fixtures/clip/bpe_simple_vocab_16e6.txt.gz}
if [ "${SCALE:-full}" = quick ]; then
  batch=8 iters=2 prompts=1024 reference_prompts=64
else
  batch=32 iters=3 prompts=4096 reference_prompts=256
fi
source "$here/baseline.sh"
require_python bench/clip.sh torch h5py
equal_settings "$threads"

for model in vit rn101; do
  for precision in fp32 bf16; do
    record "$(rave_bench "$build" clip --model $model --precision $precision --batch $batch --iters $iters)"
    record "$("$python" "$here/clip_reference.py" image --model $model --precision $precision --batch $batch --iters $iters --threads "$threads")"
  done
done
record "$(rave_bench "$build" clip --tower text --vocab "$vocab" --out "$scratch/text" --prompts $prompts)"
record "$("$python" "$here/clip_reference.py" text --prefix "$scratch/text" --prompts $reference_prompts --threads "$threads")"

"$python" - "${lines[@]}" <<'PY'
import json, sys
rows = [json.loads(line) for line in sys.argv[1:]]
summary = {"bench": "clip_summary", "threads": rows[0]["threads"], "omp_wait_policy": rows[0]["omp_wait_policy"],
           "same_settings": len({(r["threads"], r["omp_wait_policy"]) for r in rows}) == 1}
for r in rows:
    if r["bench"] == "clip_image" and r["impl"] == "rave":
        base = next(b for b in rows if b["bench"] == "clip_image" and b["impl"] != "rave"
                    and b["model"] == r["model"] and b["precision"] == r["precision"])
        key = f'{r["model"]}_{r["precision"]}'
        summary[key + "_images_per_s"] = {"rave": r["images_per_s"], "pytorch": base["images_per_s"],
                                          "ratio": round(r["images_per_s"] / base["images_per_s"], 2)}
rave = next(r for r in rows if r["bench"] == "clip_text" and r["impl"] == "rave")
ref = next(r for r in rows if r["bench"] == "clip_text" and r["impl"] != "rave")
summary["text_tokens_per_s"] = {"rave": rave["tokens_per_s"], "reference_procedure": ref["tokens_per_s"],
                                "ratio": round(rave["tokens_per_s"] / ref["tokens_per_s"], 1),
                                "prompts": [rave["prompts"], ref["prompts"]],
                                "max_abs_diff": ref["max_abs_diff_vs_rave"]}
print(json.dumps(summary))
if not summary["same_settings"]:
    sys.exit("bench/clip.sh: the two sides ran with different threads or OpenMP wait policies")
PY

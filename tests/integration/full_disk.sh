#!/usr/bin/env bash
# full_disk.sh RAVE SCRATCH FIXTURES: writers on a full disk (a filled 2 MiB tmpfs) - HDF5 files (import,
# residual) and images (enhance, plot) - fail with exit 1 and a message naming the file and the errno, leave neither
# the file nor its temporary behind, and do not crash.
# Exits 77 (skipped) where no tmpfs can be mounted (not root, or a container without the capability).
set -u
rave=$1 scratch=$2 fixtures=$3
disk=$scratch/disk
mkdir -p "$disk"
umount "$disk" 2>/dev/null
if ! mount -t tmpfs -o size=2m tmpfs "$disk" 2>/dev/null; then
  echo "skipped: cannot mount a tmpfs at $disk (needs root and CAP_SYS_ADMIN)"
  exit 77
fi
trap 'umount "$disk"' EXIT
head -c $((4 * 1024 * 1024)) /dev/zero > "$disk/fill" 2>/dev/null  # fills it: every write fails
expect_failure() {  # NAME TARGET COMMAND...: exit 1, ENOSPC named, nothing left at TARGET or TARGET.tmp
  local name=$1 target=$2
  shift 2
  output=$("$@" 2>&1)
  code=$?
  printf '%s\n' "$output" | tail -3
  [ "$code" -eq 1 ] || { echo "full_disk: $name exited with $code, expected 1"; exit 1; }
  grep -q "No space left on device" <<<"$output" || { echo "full_disk: $name did not name the error"; exit 1; }
  grep -q "$target" <<<"$output" || { echo "full_disk: $name did not name $target"; exit 1; }
  [ ! -s "$target" ] && [ ! -e "$target.tmp" ] || { echo "full_disk: $name left $target or its .tmp"; exit 1; }
}
expect_failure import "$disk/weights/rave_paired.h5" \
  "$rave" import --from "$fixtures/enhancer/rave_paired.pth" --to "$disk/weights/rave_paired.h5"
"$rave" synth --out "$scratch/data" --count 4 --size 32 --test-fraction 0 >/dev/null 2>&1
expect_failure residual "$disk/residual.h5" "$rave" residual --clip photometric --backlit "$scratch/data/train/backlit" \
  --welllit "$scratch/data/train/welllit" --out "$disk/residual.h5" --threads 1
# Images: rave enhance writing PNGs (before, small ones came out as 0-byte files and the run reported success).
"$rave" import --from "$fixtures/enhancer/rave_paired.pth" --to "$scratch/rave_paired.h5" >/dev/null 2>&1
output=$("$rave" enhance --checkpoint "$scratch/rave_paired.h5" --input "$scratch/data/train/backlit" \
         --output "$disk/enhanced" 2>&1)
code=$?
printf '%s\n' "$output" | tail -2
[ "$code" -eq 1 ] && grep -q "$disk/enhanced/scene_.*No space left on device" <<<"$output" ||
  { echo "full_disk: enhance exited with $code or did not name the image and the error"; exit 1; }
[ -z "$(find "$disk/enhanced" -name '*.png' 2>/dev/null)" ] || { echo "full_disk: enhance left images behind"; exit 1; }
# Plots (rave plot) write their PNGs the same way.
mkdir -p "$scratch/run"
printf '{"step":%d,"round":0,"stage":"reconstruction","loss":%d}\n' 1 3 2 2 3 1 > "$scratch/run/metrics.jsonl"
expect_failure plot "$disk/plots/losses.png" "$rave" plot "$scratch/run" --out "$disk/plots"
echo "full_disk: every writer failed cleanly"

// Procedural backlit scenes with ground truth, for the quickstart (`rave synth`): data that needs no download.
// Each scene is a bright sky (gradient, sun, halo, clouds) behind textured foreground things (hazy hills, a
// skyline, fields with furrows and roads, houses, trees), rendered twice:
//   welllit  the scene under good light: the ground truth;
//   backlit  the same scene exposed for the sky: the foreground gets a smooth, spatially varying fraction of the
//            light (darker toward the bottom, a little brighter where light wraps around near the sun) plus a
//            faint veiling flare around the sun.
// The two differ only in illumination, and the under-exposure is a per-pixel gain that is the same in all three
// channels, which is exactly what the enhancer's one-channel light map can undo (ALGORITHMS §2.5).
// A scene is a pure function of (seed, index, size), drawn with dist::SplitMix64, so every machine renders the
// same pixels, and scene i of a set does not depend on how many scenes the set has.
#pragma once

#include <torch/types.h>

#include <cstdint>
#include <filesystem>
#include <functional>

namespace rave::io {

struct ScenePair {
  torch::Tensor backlit;  // float32 [3,size,size] in [0,1]
  torch::Tensor welllit;  // float32 [3,size,size] in [0,1]
};

ScenePair render_scene(uint64_t seed, int64_t index, int64_t size);

struct SynthOptions {
  std::filesystem::path out;
  int64_t count = 64;
  int64_t size = 256;
  uint64_t seed = 0;
  double test_fraction = 0.2;
};

struct SynthCounts {
  int64_t train = 0;
  int64_t test = 0;
};

// How many of `count` scenes go to the test split: round(count * test_fraction), but at least one scene stays in
// each split when count >= 2 and 0 < test_fraction.
SynthCounts split_counts(int64_t count, double test_fraction);

// Renders scenes 0..count-1 and writes them as PNG files named by scene index:
//   out/train/backlit/scene_0000.png, out/train/welllit/scene_0000.png, ...   scenes [0, train)
//   out/test/backlit/scene_NNNN.png,  out/test/welllit/scene_NNNN.png         scenes [train, count)
// Existing files of the same names are replaced. `on_scene` runs after each scene (progress). UsageError for
// counts or sizes out of range, IoError naming the folder when it cannot be written.
SynthCounts write_scene_set(const SynthOptions& options, const std::function<void()>& on_scene = {});

}  // namespace rave::io

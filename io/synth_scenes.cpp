#include "io/synth_scenes.h"

#include <ATen/Parallel.h>
#include <torch/torch.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <system_error>
#include <vector>

#include "core/error.h"
#include "dist/random.h"
#include "io/image.h"
#include "io/options.h"
#include "io/synth_shapes.h"

namespace rave::io {
namespace {

using synth::Kind;
using synth::Noise;
using synth::Object;
using synth::Paint;
using synth::Rgb;

class Draw {
 public:
  explicit Draw(uint64_t seed) : rng_(seed) {}
  double uniform(double lo, double hi) { return lo + (hi - lo) * double(rng_.next() >> 11) * 0x1p-53; }
  size_t pick(size_t n) { return size_t(rng_.below(n)); }
  bool chance(double p) { return uniform(0, 1) < p; }
  uint64_t seed() { return rng_.next(); }
  // A colour varied in brightness and a little in hue, so no two objects of a palette entry look alike.
  Rgb vary(Rgb c, double amount) {
    const double s = uniform(1 - amount, 1 + amount);
    const auto channel = [&](double x) { return synth::clamp01(x * s * uniform(1 - amount / 2, 1 + amount / 2)); };
    const double r = channel(c.r), g = channel(c.g), b = channel(c.b);
    return {r, g, b};
  }

 private:
  dist::SplitMix64 rng_;
};

// Sky palettes: zenith, horizon, sun.
const std::array<std::array<Rgb, 3>, 4> kSkies = {{
    {{{0.18, 0.36, 0.72}, {0.95, 0.78, 0.55}, {1.0, 0.85, 0.6}}},  // golden hour
    {{{0.25, 0.5, 0.85}, {0.86, 0.9, 0.95}, {1.0, 0.97, 0.9}}},    // clear day
    {{{0.35, 0.3, 0.6}, {1.0, 0.6, 0.4}, {1.0, 0.75, 0.5}}},       // sunset
    {{{0.55, 0.62, 0.72}, {0.92, 0.9, 0.86}, {1.0, 0.96, 0.88}}},  // haze
}};
const std::array<Rgb, 7> kFacades = {{{0.72, 0.42, 0.32}, {0.85, 0.8, 0.7}, {0.6, 0.62, 0.64}, {0.55, 0.65, 0.78},
                                      {0.9, 0.86, 0.78}, {0.7, 0.58, 0.45}, {0.45, 0.5, 0.55}}};
const std::array<Rgb, 5> kWalls = {{{0.95, 0.92, 0.85}, {0.92, 0.82, 0.6}, {0.8, 0.55, 0.45}, {0.7, 0.8, 0.85},
                                    {0.88, 0.88, 0.9}}};
const std::array<Rgb, 4> kRoofs = {{{0.65, 0.3, 0.2}, {0.3, 0.3, 0.33}, {0.45, 0.3, 0.22}, {0.55, 0.2, 0.18}}};
// The first four are summer greens; autumn scenes draw from all six.
const std::array<Rgb, 6> kFoliage = {{{0.25, 0.5, 0.18}, {0.35, 0.58, 0.2}, {0.2, 0.42, 0.25}, {0.55, 0.6, 0.2},
                                      {0.8, 0.45, 0.15}, {0.7, 0.25, 0.12}}};
const std::array<Rgb, 5> kFields = {{{0.35, 0.58, 0.2}, {0.82, 0.7, 0.35}, {0.55, 0.48, 0.3}, {0.45, 0.62, 0.28},
                                     {0.55, 0.45, 0.65}}};

// How the backlit exposure falls on the foreground (see render()).
struct Exposure {
  double level = 0.25;  // typical fraction of the light the foreground gets
  double spread = 0.5;  // how much it varies across the picture (log scale)
  double wrap = 0.1;    // extra light wrapping around the silhouettes near the sun
  double flare = 0.02;  // veiling flare around the sun
  Noise noise;
};

struct Scene {
  synth::Sky sky;
  std::vector<synth::Hills> hills;
  std::vector<Object> skyline;  // stands on the horizon, behind the ground
  synth::Ground ground;
  std::vector<Object> things;  // on the ground, sorted far to near
  Exposure exposure;
};

Object tree(Draw& draw, double centre_u, double base, double height, bool autumn) {
  Object o;
  const bool conifer = draw.chance(0.4);
  o.kind = conifer ? Kind::conifer : Kind::broadleaf;
  const double width = height * (conifer ? draw.uniform(0.35, 0.55) : draw.uniform(0.6, 1.0));
  o.x0 = centre_u - width / 2;
  o.x1 = centre_u + width / 2;
  o.top = base - height;
  o.base = base;
  const size_t palette = autumn ? kFoliage.size() : 4;
  const Rgb foliage = kFoliage[draw.pick(palette)];
  o.main = draw.vary(conifer ? foliage * 0.7 : foliage, 0.15);
  o.third = draw.vary(kFoliage[draw.pick(palette)], 0.15);
  o.second = draw.vary({0.4, 0.28, 0.18}, 0.15);
  o.p0 = conifer ? double(4 + draw.pick(4)) : draw.uniform(0.25, 0.45);
  o.p1 = draw.chance(0.5) ? 1 : -1;
  o.seed = draw.seed();
  return o;
}

Object house(Draw& draw, double centre_u, double base, double scale) {
  Object o;
  o.kind = Kind::house;
  const double width = scale * draw.uniform(0.8, 1.4), wall = scale * draw.uniform(0.5, 0.75);
  o.p0 = scale * draw.uniform(0.3, 0.5);
  o.x0 = centre_u - width / 2;
  o.x1 = centre_u + width / 2;
  o.base = base;
  o.top = base - wall - o.p0;
  o.main = draw.vary(kWalls[draw.pick(kWalls.size())], 0.08);
  o.second = draw.vary({0.45, 0.3, 0.2}, 0.2);
  o.third = draw.vary(kRoofs[draw.pick(kRoofs.size())], 0.1);
  o.seed = draw.seed();
  return o;
}

std::vector<Object> skyline(Draw& draw, const synth::Sky& sky) {
  std::vector<Object> blocks;
  double x = draw.uniform(-0.08, 0.0);
  while (x < 1.02) {
    Object b;
    b.kind = Kind::building;
    const double width = draw.uniform(0.06, 0.17);
    b.x0 = x;
    b.x1 = x + width;
    b.base = sky.horizon_v + 0.02;
    b.top = sky.horizon_v - draw.uniform(0.06, 0.38);
    b.main = draw.vary(kFacades[draw.pick(kFacades.size())], 0.1);
    b.second = draw.vary({0.18, 0.22, 0.3}, 0.2);
    b.third = lerp(sky.horizon, sky.top, draw.uniform(0, 0.6)) * 0.75;
    b.p0 = draw.uniform(0.014, 0.028);
    b.p1 = draw.uniform(0.018, 0.03);
    b.p2 = (sky.sun_u < x + width / 2 ? -1 : 1) * draw.uniform(0.1, 0.25);  // the side away from the sun
    b.seed = draw.seed();
    blocks.push_back(b);
    x += width + (draw.chance(0.3) ? draw.uniform(0.0, 0.04) : 0);
  }
  return blocks;
}

Scene make_scene(uint64_t seed) {
  Draw draw(seed);
  Scene s;
  const auto& palette = kSkies[draw.pick(kSkies.size())];
  s.sky.top = draw.vary(palette[0], 0.1);
  s.sky.horizon = draw.vary(palette[1], 0.06);
  s.sky.sun_colour = palette[2];
  s.sky.cloud = draw.vary({0.95, 0.93, 0.92}, 0.04);
  s.sky.horizon_v = draw.uniform(0.48, 0.66);
  s.sky.sun_u = draw.uniform(0.15, 0.85);
  s.sky.sun_v = draw.uniform(0.12, s.sky.horizon_v - 0.12);
  s.sky.sun_radius = draw.uniform(0.02, 0.04);
  s.sky.glow = draw.uniform(0.5, 0.9);
  s.sky.cloud_cover = draw.uniform(0.0, 0.5);
  s.sky.cloud_scale = draw.uniform(2, 5);
  s.sky.clouds = Noise(draw.seed());
  const double horizon = s.sky.horizon_v;

  const int ranges = 1 + int(draw.pick(2));
  for (int i = 0; i < ranges; ++i) {
    synth::Hills h;
    h.ridge = Noise(draw.seed());
    h.texture = Noise(draw.seed());
    h.base_v = horizon + 0.01;
    h.amplitude = draw.uniform(0.06, 0.22) * (i == 0 ? 1.0 : 0.6);
    h.frequency = draw.uniform(1.5, 4);
    h.colour = draw.vary(i == 0 ? Rgb{0.35, 0.45, 0.4} : Rgb{0.3, 0.48, 0.25}, 0.15);
    h.haze = s.sky.horizon;
    h.haze_amount = i == 0 && ranges == 2 ? 0.5 : 0.3;  // the farther range is hazier
    s.hills.push_back(h);
  }

  enum Style { city, countryside, forest };
  const auto style = Style(draw.pick(3));
  if (style == city) s.skyline = skyline(draw, s.sky);

  const Rgb field = kFields[draw.pick(kFields.size())];
  s.ground.horizon_v = horizon;
  s.ground.vanishing_u = draw.uniform(0.3, 0.7);
  s.ground.colour = draw.vary(field, 0.1);
  s.ground.furrow = draw.vary(field * 0.75, 0.1);
  s.ground.furrow_frequency = draw.uniform(6, 14);
  s.ground.furrow_contrast = draw.chance(0.6) ? draw.uniform(0.3, 0.8) : 0.0;
  s.ground.road_width = draw.chance(0.4) ? draw.uniform(0.15, 0.4) : 0.0;
  s.ground.road = draw.vary({0.5, 0.48, 0.45}, 0.1);
  s.ground.noise = Noise(draw.seed());

  const bool autumn = draw.chance(0.3);
  const int count = style == forest ? 12 + int(draw.pick(10)) : 5 + int(draw.pick(6));
  for (int i = 0; i < count; ++i) {
    const double depth = draw.uniform(0.02, 1.0 - horizon - 0.08);  // how far below the horizon it stands
    const double base = horizon + depth, scale = 0.15 + 1.6 * depth;  // nearer is lower and bigger
    const double centre = draw.uniform(-0.05, 1.05);
    if (style == countryside && draw.chance(0.45)) {
      s.things.push_back(house(draw, centre, base, scale * 0.35));
    } else {
      s.things.push_back(tree(draw, centre, base, scale * draw.uniform(0.35, 0.7), autumn));
    }
  }
  // Up to two big trees framing the picture, rooted below its bottom edge.
  const int framing = int(draw.pick(3));
  for (int i = 0; i < framing; ++i) {
    const double centre = (i == 0) == draw.chance(0.5) ? draw.uniform(-0.1, 0.15) : draw.uniform(0.85, 1.1);
    s.things.push_back(tree(draw, centre, draw.uniform(1.02, 1.15), draw.uniform(0.55, 0.9), autumn));
  }
  std::stable_sort(s.things.begin(), s.things.end(), [](const Object& a, const Object& b) { return a.base < b.base; });

  s.exposure.noise = Noise(draw.seed());
  s.exposure.level = draw.uniform(0.16, 0.36);
  s.exposure.spread = draw.uniform(0.3, 0.8);
  s.exposure.wrap = draw.uniform(0.05, 0.25);
  s.exposure.flare = draw.uniform(0.0, 0.05);
  return s;
}

// Paints every pixel of both versions. Rows are independent, so they are shared among threads without changing
// a single value.
ScenePair render(const Scene& s, int64_t size) {
  ScenePair pair{torch::empty({3, size, size}), torch::empty({3, size, size})};
  auto backlit = pair.backlit.accessor<float, 3>();
  auto welllit = pair.welllit.accessor<float, 3>();
  const double pw = 1.0 / double(size);
  const Exposure& e = s.exposure;
  at::parallel_for(0, size, 8, [&](int64_t begin, int64_t end) {
    for (int64_t y = begin; y < end; ++y) {
      for (int64_t x = 0; x < size; ++x) {
        const double u = (double(x) + 0.5) * pw, v = (double(y) + 0.5) * pw;
        Paint front;  // everything in front of the sky, back to front
        for (const auto& h : s.hills) front = synth::over(front, h.at(u, v, pw));
        for (const auto& b : s.skyline) front = synth::over(front, b.at(u, v, pw));
        front = synth::over(front, s.ground.at(u, v, pw));
        for (const auto& t : s.things) front = synth::over(front, t.at(u, v, pw));
        const Rgb sky = s.sky.at(u, v, pw) * (1 - front.alpha);
        const Rgb lit = front.colour * front.alpha;
        // The backlit foreground gets a fraction of the light that varies slowly (log-normal noise at the scale
        // of the picture, darker toward the bottom) and grows near the sun, where light wraps around silhouettes.
        const double d = std::hypot(u - s.sky.sun_u, v - s.sky.sun_v);
        const double variation = std::exp(e.spread * 2 * (e.noise.fbm(u * 1.3, v * 1.3, 3) - 0.5));
        const double gain = std::min(0.8, e.level * variation * (1.2 - 0.45 * v) + e.wrap * std::exp(-d / 0.2));
        const Rgb flare = s.sky.sun_colour * (e.flare * std::exp(-d / 0.3));
        const Rgb well = sky + lit, back = sky + lit * gain + flare;
        welllit[0][y][x] = float(synth::clamp01(well.r));
        welllit[1][y][x] = float(synth::clamp01(well.g));
        welllit[2][y][x] = float(synth::clamp01(well.b));
        backlit[0][y][x] = float(synth::clamp01(back.r));
        backlit[1][y][x] = float(synth::clamp01(back.g));
        backlit[2][y][x] = float(synth::clamp01(back.b));
      }
    }
  });
  return pair;
}

void make_folder(const std::filesystem::path& folder) {
  std::error_code error;
  std::filesystem::create_directories(folder, error);
  if (error) {
    throw IoError("cannot create folder " + folder.string() + ": " + error.message(),
                  "choose an --out folder you can write to");
  }
}

}  // namespace

ScenePair render_scene(uint64_t seed, int64_t index, int64_t size) {
  if (size < 8) throw UsageError("synthetic scenes need a size of at least 8 pixels, got " + std::to_string(size));
  return render(make_scene(dist::stream_seed(seed, uint64_t(index))), size);
}

SynthCounts split_counts(int64_t count, double test_fraction) {
  check_range("count", count, 1, 1'000'000);
  if (!(test_fraction >= 0 && test_fraction < 1)) {
    throw UsageError("rave synth: --test-fraction must be in [0, 1), got " + std::to_string(test_fraction));
  }
  int64_t test = std::llround(double(count) * test_fraction);
  if (count >= 2 && test_fraction > 0) test = std::clamp<int64_t>(test, 1, count - 1);
  return {count - test, test};
}

SynthCounts write_scene_set(const SynthOptions& options, const std::function<void()>& on_scene) {
  if (options.out.empty()) throw UsageError("rave synth needs --out", "give the folder to write the scenes to");
  check_range("size", options.size, 16, 8192);
  const SynthCounts counts = split_counts(options.count, options.test_fraction);
  for (const char* split : {"train", "test"}) {
    for (const char* version : {"backlit", "welllit"}) make_folder(options.out / split / version);
  }
  // Wide enough for the largest index, so that listing the folder by name keeps scene order.
  const int digits = std::max(4, int(std::to_string(options.count - 1).size()));
  for (int64_t i = 0; i < options.count; ++i) {
    const ScenePair pair = render_scene(options.seed, i, options.size);
    char name[32];
    std::snprintf(name, sizeof name, "scene_%0*lld.png", digits, static_cast<long long>(i));
    const std::filesystem::path folder = options.out / (i < counts.train ? "train" : "test");
    write_image((folder / "backlit" / name).string(), pair.backlit);
    write_image((folder / "welllit" / name).string(), pair.welllit);
    if (on_scene) on_scene();
  }
  return counts;
}

}  // namespace rave::io

#include "io/synth_shapes.h"

#include <algorithm>
#include <cmath>

#include "dist/random.h"

namespace rave::io::synth {
namespace {

// Film-like shoulder: values above 0.85 roll off toward 1 instead of clipping, so the sun's halo stays smooth.
double shoulder(double x) { return x < 0.85 ? x : 0.85 + 0.15 * (1 - std::exp(-(x - 0.85) / 0.15)); }

// Coverage of the axis-aligned box [x0,x1] x [y0,y1].
double box(double u, double v, double x0, double x1, double y0, double y1, double pw) {
  return std::min({coverage(u - x0, pw), coverage(x1 - u, pw), coverage(v - y0, pw), coverage(y1 - v, pw)});
}

Paint building(const Object& o, double u, double v, double pw) {
  const double a = std::min(coverage(u - o.x0, pw), coverage(o.x1 - u, pw)) * coverage(v - o.top, pw);
  if (a <= 0) return {};
  const Noise noise(o.seed);
  const double width = o.x1 - o.x0;
  Rgb c = o.main * (0.86 + 0.28 * noise.fbm(u * 30, v * 30, 4));  // weathering
  // The side wall away from the sun is in shade: it gives the block its volume.
  const double side = o.p2 * width;
  if ((side > 0 && u > o.x1 - side) || (side < 0 && u < o.x0 - side)) c = c * 0.72;
  if (v < o.top + 0.012) c = c * 0.8;  // parapet
  const double cell_w = o.p0, cell_h = o.p1;
  const double lu = (u - o.x0 - cell_w * 0.5) / cell_w, lv = (v - o.top - 0.02) / cell_h;
  if (lu > 0 && lv > 0 && u < o.x1 - cell_w * 0.4) {
    const double fu = lu - std::floor(lu), fv = lv - std::floor(lv);
    const double window = std::min({coverage(fu - 0.22, pw / cell_w), coverage(0.78 - fu, pw / cell_w),
                                    coverage(fv - 0.25, pw / cell_h), coverage(0.75 - fv, pw / cell_h)});
    // Each window is dark glass, a reflection of the sky, or (rarely) lit from inside.
    const double r = noise.lattice(int64_t(std::floor(lu)), int64_t(std::floor(lv)) + 1000);
    const Rgb glass = r > 0.88 ? Rgb{0.95, 0.82, 0.5} : lerp(o.second, o.third, r / 0.88);
    c = lerp(c, glass * (0.9 + 0.2 * fv), window);
  }
  return {a, c};
}

Paint conifer(const Object& o, double u, double v, double pw) {
  const double cu = 0.5 * (o.x0 + o.x1), half = 0.5 * (o.x1 - o.x0), height = o.base - o.top;
  const Noise noise(o.seed);
  const double trunk_w = half * 0.14;
  Paint out{std::min(coverage(trunk_w - std::abs(u - cu), pw), coverage(o.base - v, pw)) *
                coverage(v - (o.base - 0.3 * height), pw),
            o.second * (0.8 + 0.3 * noise.fbm(u * 80, v * 20, 3))};
  // Stacked tiers, each widening downwards, with ragged edges.
  const double bottom = o.base - 0.12 * height;
  const double t = (v - o.top) / (bottom - o.top);
  if (t > 0 && t < 1) {
    const double tier = t * o.p0 - std::floor(t * o.p0);
    const double w = half * (0.15 + 0.85 * t) * (0.65 + 0.35 * tier) * (0.85 + 0.3 * noise.value(v * 200, 3.5));
    const double a = std::min(coverage(w - std::abs(u - cu), pw), coverage(bottom - v, pw)) * coverage(v - o.top, pw);
    const double lit = 0.75 + 0.5 * smoothstep(-half, half, (u - cu) * o.p1);
    const Rgb c = o.main * ((0.7 + 0.6 * noise.fbm(u * 90, v * 90, 3)) * lit * (0.85 + 0.25 * tier));
    out = over(out, {a, c});
  }
  return out;
}

Paint broadleaf(const Object& o, double u, double v, double pw) {
  const double cu = 0.5 * (o.x0 + o.x1), half = 0.5 * (o.x1 - o.x0), height = o.base - o.top;
  const Noise noise(o.seed);
  const double trunk = o.p0;
  const double crown_v = o.top + (1 - trunk) * height * 0.5, crown_r = (1 - trunk) * height * 0.5;
  Paint out;
  if (trunk > 0) {
    const double w = half * 0.09 * (1 + 0.6 * smoothstep(crown_v, o.base, v));  // flares toward the roots
    out = {std::min(coverage(w - std::abs(u - cu), pw), coverage(o.base - v, pw)) * coverage(v - crown_v, pw),
           o.second * (0.75 + 0.4 * noise.fbm(u * 60, v * 15, 3))};
  }
  // A lumpy crown: an ellipse whose radius is modulated by noise around its rim (noise on the unit circle, so
  // the outline closes up without a seam).
  const double du = (u - cu) / half, dv = (v - crown_v) / crown_r;
  const double angle = std::atan2(dv, du);
  const double rim = 0.8 + 0.35 * noise.fbm(std::cos(angle) * 2.5 + 10, std::sin(angle) * 2.5 + 10, 4);
  const double a = coverage((rim - std::hypot(du, dv)) * std::min(half, crown_r), pw);
  if (a > 0) {
    const double leaves = (0.75 + 0.5 * noise.fbm(u * 25, v * 25, 2)) * (0.7 + 0.6 * noise.fbm(u * 140, v * 140, 2));
    const double lit = 0.8 + 0.4 * clamp01(0.5 - 0.5 * dv + 0.3 * du * o.p1);
    const Rgb c = lerp(o.main, o.third, noise.fbm(u * 9, v * 9, 2)) * (leaves * lit);
    out = over(out, {a, c});
  }
  return out;
}

Paint house(const Object& o, double u, double v, double pw) {
  const double w = o.x1 - o.x0, cu = 0.5 * (o.x0 + o.x1), roof_h = o.p0, eaves = o.top + roof_h;
  const Noise noise(o.seed);
  Paint out;
  const double wall = box(u, v, o.x0, o.x1, eaves, o.base, pw);
  if (wall > 0) {
    Rgb c = o.main * (0.88 + 0.22 * noise.fbm(u * 40, v * 40, 3));
    const double storey = o.base - eaves;
    c = lerp(c, o.second * 0.6, box(u, v, cu - w * 0.08, cu + w * 0.08, o.base - storey * 0.6, o.base + pw, pw));
    for (const double at : {0.22, 0.78}) {
      const double x = o.x0 + at * w, hw = w * 0.09, y0 = eaves + storey * 0.25, y1 = eaves + storey * 0.6;
      c = lerp(c, Rgb{0.93, 0.93, 0.9}, box(u, v, x - hw * 1.25, x + hw * 1.25, y0 - hw * 0.25, y1 + hw * 0.25, pw));
      c = lerp(c, Rgb{0.25, 0.32, 0.42} * (0.8 + 0.4 * (v - y0) / (y1 - y0)), box(u, v, x - hw, x + hw, y0, y1, pw));
    }
    out = {wall, c};
  }
  const double roof_half = (w * 0.5 + w * 0.08) * clamp01((v - o.top) / roof_h);
  const double roof =
      std::min(coverage(roof_half - std::abs(u - cu), pw), coverage(eaves + 0.006 - v, pw)) * coverage(v - o.top, pw);
  if (roof > 0) {
    const double tiles = 0.8 + 0.2 * std::sin((v - o.top) / roof_h * 40) + 0.15 * noise.fbm(u * 50, v * 50, 3);
    out = over(out, {roof, o.third * tiles});
  }
  return out;
}

}  // namespace

double clamp01(double x) { return std::min(1.0, std::max(0.0, x)); }

double smoothstep(double edge0, double edge1, double x) {
  const double t = clamp01((x - edge0) / (edge1 - edge0));
  return t * t * (3 - 2 * t);
}

double coverage(double d, double pw) { return clamp01(d / pw + 0.5); }

double Noise::lattice(int64_t i, int64_t j) const {
  const uint64_t h = dist::mix64(seed_ ^ dist::mix64(uint64_t(i) * 0x9e3779b97f4a7c15ULL + uint64_t(j)));
  return double(h >> 11) * 0x1p-53;
}

double Noise::value(double x, double y) const {
  const double fx = std::floor(x), fy = std::floor(y);
  const auto i = int64_t(fx), j = int64_t(fy);
  const double tx = x - fx, ty = y - fy;
  const double sx = tx * tx * (3 - 2 * tx), sy = ty * ty * (3 - 2 * ty);
  const double top = lattice(i, j) * (1 - sx) + lattice(i + 1, j) * sx;
  const double bottom = lattice(i, j + 1) * (1 - sx) + lattice(i + 1, j + 1) * sx;
  return top * (1 - sy) + bottom * sy;
}

double Noise::fbm(double x, double y, int octaves) const {
  double sum = 0, amplitude = 1, total = 0;
  for (int o = 0; o < octaves; ++o) {
    // A separate lattice per octave; 2.03 rather than 2 keeps the octaves' lattices from lining up.
    sum += amplitude * Noise(dist::mix64(seed_ + uint64_t(o))).value(x, y);
    total += amplitude;
    amplitude *= 0.5;
    x *= 2.03;
    y *= 2.03;
  }
  return sum / total;
}

Paint over(const Paint& below, const Paint& top) {
  if (top.alpha <= 0) return below;
  const double alpha = top.alpha + below.alpha * (1 - top.alpha);
  return {alpha, lerp(below.colour, top.colour, top.alpha / alpha)};
}

Rgb Sky::at(double u, double v, double pw) const {
  Rgb c = lerp(top, horizon, std::pow(clamp01(v / horizon_v), 1.8));
  const double d = std::hypot(u - sun_u, v - sun_v);
  c = c + sun_colour * (glow * (0.55 * std::exp(-d / 0.05) + 0.35 * std::exp(-d / 0.22)));
  if (v < horizon_v + 0.02) {
    // Clouds are stretched horizontally, thin out toward the horizon and catch the sun's colour near it.
    const double n = clouds.fbm(u * cloud_scale, v * cloud_scale * 3.2, 5);
    const double a = smoothstep(1 - cloud_cover, 1.22 - cloud_cover, n) * smoothstep(horizon_v + 0.02, horizon_v - 0.15, v);
    const double shade = 0.78 + 0.3 * clouds.fbm(u * cloud_scale * 3 + 7, v * cloud_scale * 6, 3);
    c = lerp(c, lerp(cloud * shade, sun_colour * 1.1, 0.7 * std::exp(-d / 0.12)), a * 0.85);
  }
  c = lerp(c, Rgb{1, 0.99, 0.95}, coverage(sun_radius - d, pw));
  return {shoulder(c.r), shoulder(c.g), shoulder(c.b)};
}

Paint Hills::at(double u, double v, double pw) const {
  const double ridge_v = base_v - amplitude * (0.25 + 0.75 * ridge.fbm(u * frequency, 0.5, 5));
  const double a = coverage(v - ridge_v, pw);
  if (a <= 0) return {};
  const double slope = smoothstep(ridge_v, ridge_v + 0.25, v);  // slopes darken a little downwards
  const Rgb c = colour * ((0.82 + 0.36 * texture.fbm(u * 14, v * 14, 4)) * (1 - 0.15 * slope));
  return {a, lerp(c, haze, haze_amount)};
}

Paint Ground::at(double u, double v, double pw) const {
  const double a = coverage(v - (horizon_v + 0.004 * std::sin(u * 9)), pw);
  if (a <= 0) return {};
  // Perspective: a point at height v below the horizon lies at distance ~ 1/depth on the ground plane.
  const double depth = std::max(v - horizon_v, 0.004), z = 1.0 / depth;
  const double across = (u - vanishing_u) * z;
  const double near = smoothstep(0.0, 0.15, depth);  // furrows and grain blur out toward the horizon
  const double furrows = 0.5 + 0.5 * std::sin(across * furrow_frequency);
  Rgb c = lerp(colour, furrow,
               furrow_contrast * furrows * near + 0.4 * noise.fbm(across * 0.5, z * 1.5, 3) * (1 - furrow_contrast));
  c = c * (0.9 + 0.35 * noise.fbm(u * 60, v * 60 + z * 0.3, 4) * near);
  if (road_width > 0) {
    const double centre = vanishing_u + 0.6 * depth * (vanishing_u - 0.5);
    const Rgb asphalt = road * (0.85 + 0.3 * noise.fbm(across * 3, z * 3, 3));
    c = lerp(c, asphalt, coverage(road_width * depth - std::abs(u - centre), pw));
  }
  return {a, c * (0.9 + 0.15 * smoothstep(0, 0.4, depth))};
}

Paint Object::at(double u, double v, double pw) const {
  // Crowns and roofs reach a little beyond the box.
  const double margin = 0.3 * (x1 - x0) + pw;
  if (u < x0 - margin || u > x1 + margin || v < top - pw || v > base + pw) return {};
  switch (kind) {
    case Kind::building: return building(*this, u, v, pw);
    case Kind::conifer: return conifer(*this, u, v, pw);
    case Kind::broadleaf: return broadleaf(*this, u, v, pw);
    case Kind::house: return house(*this, u, v, pw);
  }
  return {};
}

}  // namespace rave::io::synth

// The painters of `rave synth` (synth_scenes.h): colours, value noise, and one small struct per kind of thing in
// a scene (sky, hill range, ground plane, building, tree, house) that says how much of a pixel it covers and with
// which well-lit colour. Coordinates are fractions of the picture side (u to the right, v downwards), so a scene
// looks the same at every size; `pw` is the width of one pixel in those units and sets the anti-aliased edges.
// Everything is plain double arithmetic on values drawn from dist::SplitMix64, so a scene is the same on every
// machine and does not depend on the order in which pixels are painted.
#pragma once

#include <cstdint>

namespace rave::io::synth {

struct Rgb {
  double r = 0, g = 0, b = 0;
};
inline Rgb operator+(Rgb a, Rgb b) { return {a.r + b.r, a.g + b.g, a.b + b.b}; }
inline Rgb operator*(Rgb a, double s) { return {a.r * s, a.g * s, a.b * s}; }
inline Rgb lerp(Rgb a, Rgb b, double t) { return a * (1 - t) + b * t; }

double clamp01(double x);
double smoothstep(double edge0, double edge1, double x);
// Coverage of a pixel by the region where the signed distance d is positive: a one-pixel-wide ramp.
double coverage(double d, double pw);

// Value noise: a random value at every integer lattice point (a hash of the point, so any point can be evaluated
// alone, in any order), smoothly interpolated in between.
class Noise {
 public:
  explicit Noise(uint64_t seed = 0) : seed_(seed) {}
  double lattice(int64_t i, int64_t j) const;  // in [0,1)
  double value(double x, double y) const;      // in [0,1)
  // Sum of `octaves` octaves of value noise, each twice the frequency and half the amplitude of the last; [0,1).
  double fbm(double x, double y, int octaves) const;

 private:
  uint64_t seed_;
};

// What one object puts on a pixel: its coverage and its colour under good light (not premultiplied).
struct Paint {
  double alpha = 0;
  Rgb colour;
};

// Paint `top` over `below` (both not premultiplied).
Paint over(const Paint& below, const Paint& top);

struct Sky {
  Rgb top, horizon, sun_colour, cloud;
  double horizon_v = 0.5;
  double sun_u = 0.5, sun_v = 0.3, sun_radius = 0.03;
  double glow = 0.7;          // strength of the halo around the sun
  double cloud_cover = 0.3;   // 0: clear
  double cloud_scale = 3;
  Noise clouds;

  Rgb at(double u, double v, double pw) const;
};

// A ridge line above the horizon, hazed toward the horizon colour with distance.
struct Hills {
  double base_v = 0.5, amplitude = 0.1, frequency = 2;
  Rgb colour, haze;
  double haze_amount = 0.3;
  Noise ridge, texture;

  Paint at(double u, double v, double pw) const;
};

// The ground plane below the horizon: a field with perspective furrows and optionally a road to the vanishing point.
struct Ground {
  double horizon_v = 0.5, vanishing_u = 0.5;
  double furrow_frequency = 10, furrow_contrast = 0;  // contrast 0: no furrows
  double road_width = 0;                              // 0: no road
  Rgb colour, furrow, road;
  Noise noise;

  Paint at(double u, double v, double pw) const;
};

enum class Kind { building, conifer, broadleaf, house };

// An object standing on the ground (or on the horizon, for a skyline), inside the box [x0,x1] x [top,base].
struct Object {
  Kind kind = Kind::broadleaf;
  double x0 = 0, x1 = 0, top = 0, base = 0;
  // building: facade, window glass, sky reflection; trees: foliage, bark, second foliage; house: wall, door, roof.
  Rgb main, second, third;
  // building: window cell width, cell height, signed width fraction of the shaded side wall;
  // conifer: tiers, lit side (+1 right, -1 left); broadleaf: trunk fraction of the height (0: a bush), lit side;
  // house: roof height.
  double p0 = 0, p1 = 0, p2 = 0;
  uint64_t seed = 0;  // of its textures

  Paint at(double u, double v, double pw) const;
};

}  // namespace rave::io::synth

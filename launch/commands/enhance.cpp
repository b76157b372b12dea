// rave enhance: full-resolution inference with a trained or imported enhancer, one image at a time, in
// inference mode. Distributed: under mpirun each rank takes every world_size-th file (rank r: files r, r+W, ...).
// The cond* convolutions pad by reflection unless --padding says otherwise, whatever padding the checkpoint
// records for its training: the reference protocol (models::kEvaluationPadding). Photos are read upright (their
// EXIF orientation applied) unless --exif ignore.
//
// Memory: the network keeps every activation at the input's full resolution (up to 64 channels), so the peak
// grows linearly with the pixel count and does not accumulate over images. Inference mode frees each activation
// as soon as the next layer has consumed it and runs the activations in place; what remains at the widest point
// is a handful of 64-channel float maps (the block input kept for the residual sum, its reflect-padded copy, the
// convolution library's reordered input and output). kPeakBytesPerPixel below is the measured figure; a
// 12-megapixel photo (4000x3000) peaks at about 20 GB, so the log warns before large images. --tile N bounds the
// peak by running the convolutions tile by tile (Enhancer::forward_tiled; the same light map up to float
// rounding), and --max-side bounds it by downscaling (--max-side 2048: at most ~7 GB).
#include <spdlog/spdlog.h>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <map>
#include <optional>

#include "core/error.h"
#include "core/process_memory.h"
#include "core/progress.h"
#include "dist/communicator.h"
#include "dist/per_rank.h"
#include "io/checkpoint.h"
#include "io/dataset.h"
#include "io/image.h"
#include "io/option_binder.h"
#include "io/resize.h"
#include "launch/commands/all.h"
#include "launch/commands/exif_option.h"
#include "models/enhancer.h"

namespace rave::launch {
namespace {

namespace fs = std::filesystem;
// Every flag of rave enhance (io/option_binder.h) with its default.
struct EnhanceFlags {
  std::optional<std::string> checkpoint;
  std::optional<std::string> input;
  std::optional<std::string> output;
  bool light_map = false;
  int max_side = 0;
  std::string padding = models::kEvaluationPadding;
  std::string format = "png";
  int64_t tile = 0;
  io::ExifOrientation exif = io::kEnhanceExifOrientation;
};

void bind(io::OptionBinder& b, EnhanceFlags& f) {
  b.command_line_only();
  b.bind("checkpoint", f.checkpoint, "enhancer checkpoint (.h5, from rave train or rave import)");
  b.bind("input", f.input, "image file or folder");
  b.bind("output", f.output, "output folder");
  b.bind("light-map", f.light_map, "also save the light map (<name>_light.png, clipped to [0,1])");
  b.bind("max-side", f.max_side, "downscale inputs whose longer side exceeds N (0: never)");
  b.bind("padding", f.padding,
         "cond* padding: reflect (how both papers run every model) or zeros (how they train, and what a rave "
         "checkpoint records as its training padding)");
  b.bind("format", f.format, "output format: png, or same (as the input file)");
  b.bind("tile", f.tile,
         "run images larger than N x N in tiles of N x N: far less memory, the same light map up to float rounding "
         "(a few 8-bit values per megapixel move by one level); 0: whole images");
  bind_exif(b, f.exif);
}

// Peak resident memory per input pixel (fp32, CPU, measured with bench/enhance.sh); the fixed part (LibTorch,
// the weights) adds ~0.25 GB.
constexpr double kPeakBytesPerPixel = 1700;

std::vector<fs::path> list_inputs(const std::string& input) {
  if (fs::is_directory(input)) return io::list_images(input);
  if (!fs::exists(input)) throw IoError(input + ": no such file or folder", "--input takes an image or a folder");
  return {input};
}

// The image as float32 [3,H,W]; with max_side > 0 and a longer side above it, resized like PIL's
// resize(..., ANTIALIAS) to longer side = max_side, shorter side = round(short * max_side / long) (half to even,
// as Python's round).
torch::Tensor load(const fs::path& path, int max_side, io::ExifOrientation orientation) {
  if (max_side <= 0) return io::read_image(path.string(), orientation);
  const torch::Tensor u8 = io::read_image_u8(path.string(), orientation);
  const int64_t h = u8.size(0), w = u8.size(1), longer = std::max(h, w);
  if (longer <= max_side) return io::to_float_chw(u8);
  const auto scaled = [&](int64_t side) { return int64_t(std::nearbyint(double(side) * max_side / double(longer))); };
  return io::to_float_chw(io::resize_pil(u8, h == longer ? max_side : scaled(h), w == longer ? max_side : scaled(w),
                                         io::PilFilter::lanczos));
}

fs::path output_name(const fs::path& input, const fs::path& folder, bool same_format) {
  return folder / (input.stem().string() + (same_format ? input.extension().string() : ".png"));
}

// The longest image side --max-side and --tile take: 65536, far beyond any camera's.
constexpr int64_t kMaxSide = 1 << 16;

int run(const Invocation& invocation) {
  const EnhanceFlags flags = io::read_flags<EnhanceFlags>(invocation.options);
  const std::string command = "rave enhance";
  const std::string& checkpoint_path = io::required_value(flags.checkpoint, "checkpoint", command);
  const std::string& input = io::required_value(flags.input, "input", command);
  const fs::path folder = io::required_value(flags.output, "output", command);
  const std::string& format = flags.format;
  if (format != "png" && format != "same") throw UsageError("--format must be png or same, got '" + format + "'");
  const bool same_format = format == "same", light_maps = flags.light_map;
  const int max_side = flags.max_side;
  const int64_t tile = flags.tile;
  if (max_side != 0) io::check_range("max-side", max_side, 16, kMaxSide, ", or 0: never");
  // Tiles smaller than 64 mostly recompute their borders: Enhancer::forward_tiled grows each stage's tile by up to
  // 12 pixels a side.
  if (tile != 0) io::check_range("tile", tile, 64, kMaxSide, ", or 0: no tiles");
  const int rank = invocation.context ? invocation.context->rank() : 0;
  const int world = invocation.context ? invocation.context->world_size() : 1;
  const torch::Device device = invocation.context ? invocation.context->device() : torch::Device(torch::kCPU);

  const io::Checkpoint checkpoint = io::Checkpoint::read(checkpoint_path);
  models::Enhancer enhancer = models::load_enhancer(checkpoint, flags.padding);
  enhancer->eval();
  enhancer->to(device);

  const std::vector<fs::path> inputs = list_inputs(input);
  // Two inputs must not write one output ("a.jpg" and "a.png" both give a.png).
  std::map<fs::path, fs::path> owners;
  for (const fs::path& input : inputs) {
    const auto [owner, fresh] = owners.emplace(output_name(input, folder, same_format), input);
    if (!fresh) {
      throw UsageError(input.string() + " and " + owner->second.string() + " would both be written to " +
                           owner->first.string(), "use --format same, or rename one of them");
    }
  }
  fs::create_directories(folder);
  spdlog::info("enhancing {} images with {} (cond* padding {}; trained with {}) into {}", inputs.size(),
               checkpoint.path, models::conv_padding_name(enhancer->options().cond_padding()),
               checkpoint.enhancer_padding, folder.string());

  std::vector<size_t> mine;
  for (size_t i = size_t(rank); i < inputs.size(); i += size_t(world)) mine.push_back(i);
  core::Progress progress("enhance", int64_t(mine.size()), rank == 0, "img");
  int64_t failed = 0;
  double megapixels = 0;
  const auto start = std::chrono::steady_clock::now();
  for (const size_t i : mine) {
    const fs::path& input = inputs[i];
    torch::Tensor x;
    try {
      x = load(input, max_side, flags.exif);
    } catch (const IoError& e) {
      spdlog::warn("skipped ({} unreadable so far): {}", ++failed, e.what());
      progress.advance();
      continue;
    }
    const double pixels = double(x.size(1)) * double(x.size(2));
    if (pixels * kPeakBytesPerPixel > 4e9) {
      spdlog::info("{}: {}x{}, expect ~{:.1f} GB peak memory (--tile 1024 or --max-side reduce it)", input.string(),
                   x.size(2), x.size(1), pixels * kPeakBytesPerPixel / 1e9);
    }
    torch::Tensor enhanced, light;
    {
      torch::InferenceMode inference;
      const torch::Tensor batch = x.unsqueeze(0).to(device);
      light = enhancer->forward_tiled(batch, tile);
      enhanced = models::apply_light_map(batch, light)[0].cpu();
      light = light_maps ? light[0].cpu() : torch::Tensor();
    }
    io::write_image(output_name(input, folder, same_format).string(), enhanced);
    if (light_maps) io::write_image((folder / (input.stem().string() + "_light.png")).string(), light);
    megapixels += pixels / 1e6;
    progress.advance();
  }
  progress.finish();
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  // Totals over all ranks, counted after everyone has finished (an exception for an unreadable file would abort
  // the other ranks in the middle of theirs), so that rank 0 reports the whole job and every rank the same exit
  // code; the slowest rank's time and the largest peak stand for the job.
  // Row r: rank r's unreadable files, megapixels, seconds and peak RSS.
  const torch::Tensor mine_row =
      torch::tensor({double(failed), megapixels, seconds, core::peak_resident_mib()}, torch::kFloat64);
  const torch::Tensor per_rank =
      invocation.context ? dist::gather_rows(*dist::make_communicator(*invocation.context, "mpi"), mine_row)
                         : mine_row.unsqueeze(0);
  const torch::Tensor sums = per_rank.sum(0), maxima = std::get<0>(per_rank.max(0));
  const int64_t failed_everywhere = int64_t(sums[0].item<double>());
  const double total_megapixels = sums[1].item<double>(), job_seconds = maxima[2].item<double>();
  if (rank == 0) {
    spdlog::info("enhanced {} of {} images on {} rank(s) ({:.1f} megapixels) in {:.1f} s: {:.2f} megapixels/s, "
                 "peak RSS per rank {:.0f} MiB",
                 int64_t(inputs.size()) - failed_everywhere, inputs.size(), world, total_megapixels, job_seconds,
                 total_megapixels / std::max(job_seconds, 1e-9), maxima[3].item<double>());
  }
  if (failed_everywhere > 0) {
    if (rank == 0) {
      spdlog::error("{} of {} images could not be read (see the warnings above)", failed_everywhere, inputs.size());
    }
    return 1;
  }
  return 0;
}

}  // namespace

Command enhance_command() {
  return {"enhance", "enhance backlit images with a checkpoint", true, io::declare_flags<EnhanceFlags>, run};
}

}  // namespace rave::launch

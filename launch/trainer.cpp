#include "launch/trainer.h"

#include <spdlog/spdlog.h>
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <memory>
#include <optional>

#include "core/cpu_block_cache.h"
#include "core/error.h"
#include "core/process_memory.h"
#include "core/progress.h"
#include "dist/communicator.h"
#include "dist/gradient_reducer.h"
#include "dist/per_rank.h"
#include "dist/random.h"
#include "dist/shard_sampler.h"
#include "dist/stop_signal.h"
#include "guidance/encoders.h"
#include "io/batch_loader.h"
#include "io/checkpoint.h"
#include "io/dataset.h"
#include "io/image.h"
#include "io/state_archive.h"
#include "launch/method.h"
#include "launch/metrics_log.h"
#include "launch/optimizer_state.h"
#include "launch/training_step.h"
#include "models/enhancer.h"

namespace rave::launch {
namespace {

namespace fs = std::filesystem;

class Trainer {
 public:
  Trainer(const dist::Context& context, const TrainerOptions& options);
  int run();

 private:
  // What names checkpoints and metrics lines: enhancer steps, plus the method's own steps.
  int64_t iteration() const { return method_->iteration(); }
  bool rounds_done() const { return options_.rounds > 0 && schedule_.round() > options_.rounds; }
  // Where the run ends, when that is known: --max-steps, or the planned end of round --rounds (the current
  // round's extensions so far included, later rounds at their planned length). A round that is being extended
  // ends only once a last step's loss is at or below the threshold: until then only --max-steps, if it comes
  // first, is known.
  std::optional<int64_t> planned_end() const {
    if (options_.rounds == 0) return options_.max_steps;
    const ScheduleState& s = schedule_.state();
    const int64_t rounds_end =
        s.step - s.step_in_round + s.round_length + (options_.rounds - s.round) * options_.schedule.round_steps;
    if (s.extensions > 0 && options_.max_steps > rounds_end) return std::nullopt;
    return std::min(options_.max_steps, rounds_end);
  }
  // One enhancer step on the next batch of this rank's shard.
  StepResult enhancer_step(io::BatchLoader& loader);
  // After every step of every phase: metrics line, progress, checkpoint, re-initialisation, sync check, sample.
  void end_of_step(const StepResult& result);
  std::string progress_line(int64_t round, Stage stage, const StepNumbers& numbers) const;
  std::string extension_text(const StepDecision& decision, int64_t round, double extension_metric) const;
  void resume(const std::string& path);
  // Replaces the network by a fresh one (§4.2.4) and restarts its optimiser.
  void reinitialise();
  // Adam over the enhancer's parameters as the reference builds it, with no state.
  std::unique_ptr<torch::optim::Adam> new_optimizer() const {
    return std::make_unique<torch::optim::Adam>(enhancer_->parameters(),
                                                reference_adam(options_.learning_rate, options_.weight_decay));
  }
  io::Checkpoint checkpoint() const;
  fs::path save();
  void write_sample(const torch::Tensor& x);
  // Collective: every rank reports, rank 0 logs the largest.
  void log_peak_memory() const;

  const dist::Context& context_;
  TrainerOptions options_;
  dist::StopSignal stop_signal_;  // from the start: a signal during set-up stops the run after its first step
  std::unique_ptr<dist::Communicator> communicator_;
  std::unique_ptr<guidance::GuidanceEncoder> guidance_encoder_;
  std::unique_ptr<guidance::IdentityEncoder> identity_encoder_;
  models::Enhancer enhancer_;
  std::unique_ptr<torch::optim::Adam> optimizer_;
  std::unique_ptr<dist::GradientReducer> reducer_;
  Schedule schedule_;
  std::unique_ptr<Method> method_;  // RAVE, CLIP-LIT or CLIP-LIT-Latent: everything that differs between them
  dist::SamplerState sampler_state_;
  Reinitialisations reinitialisations_;
  std::optional<io::CheckpointFolder> checkpoints_;  // rank 0
  std::optional<MetricsLog> metrics_;                // rank 0

  // The loop's clock and what the end of a run reports.
  struct Clock {
    std::chrono::steady_clock::time_point start, last_step, last_progress;
    int64_t first_step = 0;  // the enhancer step the run started from
    double data_wait = 0;    // seconds spent waiting for batches
  } clock_;
  torch::Tensor last_input_;  // of the latest enhancer step, for the final sample grid
};

Trainer::Trainer(const dist::Context& context, const TrainerOptions& options)
    : context_(context), options_(options), schedule_(options.schedule) {
  check_options(options_);
  communicator_ = dist::make_communicator(context_, options_.backend, options_.collective_timeout);
  guidance_encoder_ = guidance::make_guidance_encoder(options_.clip);
  identity_encoder_ = guidance::make_identity_encoder(options_.clip_identity);
  guidance_encoder_->to(context_.device());
  identity_encoder_->to(context_.device());

  // The same seed on every rank, and rank 0's values broadcast anyway: replicas start identical.
  torch::manual_seed(options_.seed);
  enhancer_ = models::Enhancer(models::EnhancerOptions().cond_padding(torch::kZeros));
  enhancer_->to(context_.device());
  optimizer_ = new_optimizer();
  reducer_ = std::make_unique<dist::GradientReducer>(*communicator_, enhancer_->named_parameters());

  if (context_.is_root()) {
    fs::create_directories(fs::path(options_.run_dir) / "samples");
    checkpoints_.emplace(fs::path(options_.run_dir) / "checkpoints", options_.keep_checkpoints);
  }
  communicator_->barrier();
  method_ = make_method({context_, *communicator_, options_, *guidance_encoder_, enhancer_, schedule_});

  const std::string resume_from = resume_path(options_);
  if (resume_from.empty()) {
    method_->start();
  } else {
    resume(resume_from);
    if (reinitialisations_.pending) reinitialise();
  }
  reducer_->broadcast_parameters(0);
  if (context_.is_root()) metrics_.emplace((fs::path(options_.run_dir) / "metrics.jsonl").string(), iteration());
}

void Trainer::resume(const std::string& path) {
  const io::Checkpoint checkpoint = io::Checkpoint::read(path);
  check_resumable(checkpoint, options_, context_.world_size());
  models::load_enhancer_state(enhancer_, checkpoint.group("enhancer"), path);
  load_adam_state(*optimizer_, enhancer_->named_parameters(), checkpoint.group("optimizer/enhancer"), path);
  method_->guidance().load_state(checkpoint.group("guidance"), path);
  method_->restore(checkpoint);

  io::StateArchive trainer(checkpoint, "trainer");
  ScheduleState state;
  state.serialize(trainer);
  schedule_.restore(state);
  reinitialisations_ = {};
  reinitialisations_.serialize(trainer);
  io::StateArchive sampler(checkpoint, "sampler");
  sampler_state_.serialize(sampler);
  if (checkpoint.world_size != context_.world_size()) {
    sampler_state_ = dist::reshard(sampler_state_, int(checkpoint.world_size), context_.world_size(),
                                   int64_t(io::list_images(options_.backlit).size()));
    spdlog::warn("--allow-world-size-change: {} was written by {} rank(s), this run has {}; the data is re-sharded "
                 "(epoch {}, {} items into each rank's shard) and a step now averages {} ranks' gradients",
                 path, checkpoint.world_size, context_.world_size(), sampler_state_.epoch, sampler_state_.position,
                 context_.world_size());
  }
  spdlog::info("resumed from {} at step {} (round {}, {})", path, schedule_.step(), schedule_.round(),
               stage_name(schedule_.stage()));
}

io::Checkpoint Trainer::checkpoint() const {
  io::Checkpoint c;
  c.method = options_.method;
  c.step = method_->iteration();
  c.round = method_->round();
  c.stage = method_->stage();
  c.world_size = context_.world_size();
  c.seed = int64_t(options_.seed);
  c.config = options_.config_ini;
  c.enhancer_padding = "zeros";
  c.set_group("enhancer", models::enhancer_state(enhancer_));
  c.set_group("optimizer/enhancer", adam_state(*optimizer_, enhancer_->named_parameters()));
  c.set_group("guidance", method_->guidance().state());
  io::StateArchive trainer;
  trainer.write(schedule_.state());
  trainer.write(reinitialisations_);
  c.set_group("trainer", trainer.tensors());
  io::StateArchive sampler;
  sampler.write(sampler_state_);
  c.set_group("sampler", sampler.tensors());
  method_->store(c);
  return c;
}

fs::path Trainer::save() {
  const fs::path saved = checkpoints_->save(checkpoint());
  spdlog::info("checkpoint {}", saved.string());
  return saved;
}

void Trainer::reinitialise() {
  // A freshly constructed network (every parameter, biases included, drawn as at construction) from a seed every
  // rank derives alike, and a new optimiser.
  ++reinitialisations_.count;
  reinitialisations_.pending = false;
  torch::manual_seed(dist::stream_seed(options_.seed, uint64_t(1000 + reinitialisations_.count)));
  models::reinitialise(enhancer_);
  optimizer_ = new_optimizer();
  spdlog::warn("re-initialised the enhancer at step {} (PSNR window mean {:.2f} dB below {} dB); warm-up is now {} steps",
               schedule_.step(), schedule_.window_mean(), options_.schedule.reinit_below_psnr,
               schedule_.state().reconstruction_steps);
}

std::string Trainer::progress_line(int64_t round, Stage stage, const StepNumbers& numbers) const {
  const int64_t step = schedule_.step();
  const ScheduleState& s = schedule_.state();
  const std::optional<int64_t> end = planned_end();
  const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - clock_.start).count();
  const double steps_per_second = double(step - clock_.first_step) / elapsed;
  std::string extension;
  if (s.extensions > 0) {
    const int64_t planned = s.round_length - s.extensions * options_.schedule.extension_steps;
    extension = fmt::format(", {} + {} extension steps", planned, s.step_in_round - planned);
  }
  return fmt::format("step {}{} round {} ({}{}): loss {:.4f} guidance {:.4f} identity {:.4f} PSNR_Y {:.2f} dB | "
                     "{:.2f} steps/s, elapsed {}, ETA {}",
                     step, end ? "/" + std::to_string(std::max(*end, step)) : std::string(), round, stage_name(stage),
                     extension, numbers.loss, numbers.guidance, numbers.identity, numbers.psnr_y, steps_per_second,
                     core::format_duration(elapsed),
                     end ? core::format_duration(double(std::max(*end, step) - step) / steps_per_second)
                         : fmt::format("unknown while round {} is extended", s.round));
}

std::string Trainer::extension_text(const StepDecision& decision, int64_t round, double extension_metric) const {
  if (decision.extension == Extension::none) return "";
  const ScheduleOptions& o = options_.schedule;
  const int64_t extensions =
      decision.extension == Extension::extended ? schedule_.state().extensions : o.max_extensions;
  return extension_warning(decision.extension, "round " + std::to_string(round), "guidance + 0.9 identity",
                           extension_metric, o.extension_threshold, o.extension_steps, extensions, o.max_extensions);
}

void Trainer::log_peak_memory() const {
  // Each rank's resident peak and its device's; the largest is what a rank needs (rave train --dry-run estimates
  // the same figures).
  const torch::Device device = context_.device();
  const torch::Tensor peaks = dist::gather_rows(
      *communicator_,
      torch::tensor({core::peak_resident_mib(), device.is_cuda() ? core::device_peak_mib(device.index()) : 0.0},
                    torch::kFloat64));
  const torch::Tensor largest = std::get<0>(peaks.max(0));
  if (!context_.is_root()) return;
  spdlog::info("peak memory per rank: {:.0f} MiB resident{}", largest[0].item<double>(),
               device.is_cuda() ? fmt::format(", {:.0f} MiB on the GPU", largest[1].item<double>()) : std::string());
}

void Trainer::write_sample(const torch::Tensor& x) {
  torch::NoGradGuard no_grad;
  const torch::Tensor input = x.slice(0, 0, 1);
  const torch::Tensor light = enhancer_->forward(input);
  const torch::Tensor grid = torch::cat({input[0], models::apply_light_map(input, light)[0],
                                         light[0].clamp(0, 1).expand({3, -1, -1})},
                                        /*dim=*/2);
  const fs::path path = fs::path(options_.run_dir) / "samples" / ("step_" + std::to_string(schedule_.step()) + ".png");
  io::write_image(path.string(), grid.cpu());
}

StepResult Trainer::enhancer_step(io::BatchLoader& loader) {
  const auto asked = std::chrono::steady_clock::now();
  const io::Batch batch = loader.next();
  clock_.data_wait += std::chrono::duration<double>(std::chrono::steady_clock::now() - asked).count();
  sampler_state_ = batch.next_state;
  last_input_ = batch.images;
  const Stage stage = schedule_.stage();
  const int64_t round = schedule_.round();
  const StepNumbers numbers = training_step({enhancer_, *guidance_encoder_, *identity_encoder_, method_->guidance(),
                                             *optimizer_, *reducer_, *communicator_, options_.precision},
                                            batch.images, stage == Stage::reconstruction);
  const StepDecision decision = method_->after_enhancer_step({numbers.psnr_y, numbers.loss, numbers.extension});
  // The checkpoint and best-model snapshot of this step come first (end_of_step), then the re-initialisation it
  // decided: the reference saves the network that earned the best before replacing it.
  reinitialisations_.pending = decision.reinitialise;

  StepResult result;
  result.round = round;
  result.stage = stage_name(stage);
  result.numbers = {{"loss", numbers.loss},
                    {"guidance_loss", numbers.guidance},
                    {"identity_loss", numbers.identity},
                    {"psnr_y", numbers.psnr_y}};
  result.images = int64_t(batch.items.size());
  result.warning = extension_text(decision, round, numbers.extension);
  // A line every 50 steps, and at least every 30 s: CPU steps at 512x512 can take seconds each.
  const auto now = std::chrono::steady_clock::now();
  if (schedule_.step() % 50 == 0 || schedule_.step() == planned_end() ||
      now - clock_.last_progress > std::chrono::seconds(30)) {
    clock_.last_progress = now;
    result.progress = progress_line(round, stage, numbers);
  }
  if (decision.new_best) result.snapshot = "best_round" + std::to_string(round) + ".h5";
  if (schedule_.step() % options_.sample_every == 0) result.sample = batch.images;
  return result;
}

void Trainer::end_of_step(const StepResult& result) {
  const auto now = std::chrono::steady_clock::now();
  const double seconds = std::chrono::duration<double>(now - clock_.last_step).count();
  clock_.last_step = now;
  if (metrics_) {
    nlohmann::json line = result.numbers;
    line["step"] = iteration();
    line["round"] = result.round;
    line["stage"] = result.stage;
    line["images_per_second"] = double(result.images * context_.world_size()) / seconds;
    line["time"] = std::chrono::duration<double>(now - clock_.start).count();
    metrics_->write(line);
  }
  if (!result.warning.empty() && context_.is_root()) spdlog::warn(result.warning);
  if (!result.progress.empty()) spdlog::info(result.progress);
  if (context_.is_root()) {
    const bool periodic = iteration() % options_.checkpoint_every == 0;
    if (!result.snapshot.empty() || periodic) {
      const fs::path saved = save();
      if (!result.snapshot.empty()) checkpoints_->snapshot(saved, result.snapshot);
    }
  }
  if (reinitialisations_.pending) reinitialise();
  if (options_.check_sync_every > 0 && iteration() % options_.check_sync_every == 0) {
    reducer_->check_parameters_in_sync();
    method_->check_parameters_in_sync();
  }
  if (context_.is_root() && result.sample.defined()) write_sample(result.sample);
}

int Trainer::run() {
  io::ImageFolder folder(options_.backlit, options_.exif);
  dist::ShardSampler sampler(int64_t(folder.size()), context_.rank(), context_.world_size(), options_.seed);
  sampler.restore(sampler_state_);
  io::BatchLoaderOptions loading;
  loading.image_size = options_.image_size;
  loading.batch_size = options_.batch_size;
  loading.threads = options_.loader_threads;
  loading.seed = options_.seed;
  loading.cache_mib = options_.loader_cache_mib;
  loading.device = context_.device();
  io::BatchLoader loader(folder, std::move(sampler), loading);

  // The blocks that loading the encoders and the residual pass freed fit no training step: kept, they would stay
  // resident beside the step's own for the whole run (0.4 GB at 256x256 with CLIP ViT-B/32 and RN101).
  core::drop_cpu_block_cache();
  const std::optional<int64_t> end = planned_end();
  spdlog::info("training {} on {} backlit images: {} rank(s) x batch {} at {}x{}, steps {} -> {}{}", options_.method,
               folder.size(), context_.world_size(), options_.batch_size, options_.image_size, options_.image_size,
               schedule_.step(), end ? std::to_string(*end) : std::string("the end of the extended round"),
               options_.rounds > 0 ? " (end of round " + std::to_string(options_.rounds) + ")" : "");
  clock_.start = clock_.last_step = clock_.last_progress = std::chrono::steady_clock::now();
  clock_.first_step = schedule_.step();
  // One loop over every phase: an enhancer step, or a step of the method's own phase that is due.
  dist::StopDecision stop;
  while (schedule_.step() < options_.max_steps && !rounds_done() && !stop.stop()) {
    end_of_step(method_->own_phase_due() ? method_->own_step() : enhancer_step(loader));
    stop = stop_signal_.agree(*communicator_, context_.device());  // every rank stops after the same step
  }
  if (context_.is_root()) {
    const double loop = std::chrono::duration<double>(std::chrono::steady_clock::now() - clock_.start).count();
    const io::ResizedImageCacheStats cache = loader.cache_stats();
    spdlog::info("data loading: waited {:.1f} s for batches, {:.1f} % of the training loop; {} files decoded, "
                 "{} resized images kept ({:.0f} MiB)",
                 clock_.data_wait, loop > 0 ? 100 * clock_.data_wait / loop : 0.0, cache.decodes, cache.cached,
                 cache.cached_mib);
  }
  const bool stopped_early = stop.stop() && schedule_.step() < options_.max_steps && !rounds_done();
  if (context_.is_root()) {
    if (iteration() % options_.checkpoint_every != 0) save();  // else the loop just saved it
    if (last_input_.defined()) write_sample(last_input_);
    if (stopped_early) {
      spdlog::warn("stopped at step {} on request ({}); the checkpoint is complete: continue with --resume auto "
                   "(exit code {})",
                   iteration(), stop.describe(context_.world_size()), dist::kExitStopped);
    } else {
      spdlog::info("training finished at step {} ({}); run directory {}", schedule_.step(),
                   rounds_done() ? "end of round " + std::to_string(options_.rounds) : std::string("--max-steps"),
                   options_.run_dir);
    }
  }
  log_peak_memory();
  return stopped_early ? dist::kExitStopped : 0;
}

}  // namespace

void check_options(const TrainerOptions& options) {
  if (options.method != "rave" && !is_clip_lit_method(options.method)) {
    throw UsageError("unknown --method " + options.method, "use rave, clip-lit or clip-lit-latent");
  }
  if (options.backlit.empty()) throw UsageError("rave train needs --backlit (a folder of backlit images)");
}

std::string resume_path(const TrainerOptions& options) {
  if (options.resume != "auto") return options.resume;
  const auto latest = io::CheckpointFolder(fs::path(options.run_dir) / "checkpoints", options.keep_checkpoints).latest();
  if (!latest) spdlog::info("--resume auto: no checkpoint in {}/checkpoints, starting fresh", options.run_dir);
  return latest ? latest->string() : std::string();
}

void check_resumable(const io::Checkpoint& checkpoint, const TrainerOptions& options, int world_size) {
  if (checkpoint.method != options.method) {
    throw UsageError(checkpoint.path + " was written by --method " + checkpoint.method + ", this run is --method " +
                     options.method);
  }
  if (checkpoint.world_size != world_size && !options.allow_world_size_change) {
    throw UsageError(checkpoint.path + " was written by " + std::to_string(checkpoint.world_size) +
                         " rank(s), this run has " + std::to_string(world_size),
                     "resume with the same number of ranks (the data shards depend on it), or pass "
                     "--allow-world-size-change to re-shard the data and continue on another trajectory");
  }
}

int train(const dist::Context& context, const TrainerOptions& options) { return Trainer(context, options).run(); }

}  // namespace rave::launch

#include "launch/clip_lit_training.h"

#include <spdlog/spdlog.h>
#include <torch/torch.h>

#include "core/error.h"
#include "dist/random.h"
#include "guidance/intermediate_results.h"
#include "guidance/losses.h"
#include "io/state_archive.h"
#include "launch/optimizer_state.h"

namespace rave::launch {
namespace {

namespace fs = std::filesystem;

// Independent random streams of the run seed (dist::stream_seed): the guidance phases must not replay the
// enhancer loader's draws. The margin set's streams are further split by round.
enum Stream : uint64_t {
  kInitialisationDraws = 0x1001,
  kInitialisationOrder = 0x1002,
  kMarginPairing = 0x2001,
  kMarginDraws = 0x2002,
  kMarginOrder = 0x2003,
};

uint64_t stream(uint64_t seed, Stream tag, int64_t round = 0) {
  return dist::stream_seed(dist::stream_seed(seed, tag), uint64_t(round));
}

const std::string& required_welllit(const TrainerOptions& options) {
  if (options.welllit.empty()) {
    throw UsageError("--method " + options.method + " needs --welllit: its guidance learns from backlit and well-lit images");
  }
  return options.welllit;
}

}  // namespace

ClipLitTraining::ClipLitTraining(const dist::Context& context, dist::Communicator& communicator,
                                 const TrainerOptions& options, guidance::GuidanceEncoder& encoder,
                                 guidance::LearnedPair& pair, models::Enhancer enhancer, Schedule& enhancer_schedule)
    : context_(context),
      communicator_(communicator),
      options_(options),
      encoder_(encoder),
      pair_(pair),
      enhancer_(std::move(enhancer)),
      enhancer_schedule_(enhancer_schedule),
      schedule_(enhancer_schedule, options.clip_lit.schedule),
      backlit_folder_(options.backlit, options.exif),
      welllit_folder_(required_welllit(options), options.exif),
      backlit_(backlit_folder_, options.clip_lit.image_size),
      welllit_(welllit_folder_, options.clip_lit.image_size),
      initialisation_set_(backlit_, welllit_, stream(options.seed, kInitialisationDraws)),
      sampler_world_size_(context.world_size()) {
  if (options.clip_lit.batch_size <= 0 || options.clip_lit.image_size < 16) {
    throw UsageError("--guidance-batch-size must be positive and --guidance-image-size at least 16");
  }
  pair_.to(context.device());
  const double lr =
      options.clip_lit.learning_rate > 0 ? options.clip_lit.learning_rate : pair_.default_learning_rate();
  optimizer_ = std::make_unique<torch::optim::Adam>(pair_.named_parameters().values(),
                                                    reference_adam(lr, options.clip_lit.weight_decay));
  reducer_ = std::make_unique<dist::GradientReducer>(communicator_, pair_.named_parameters());
  // Rank 0's initial pair on every rank (a resumed run loads the same one everywhere anyway).
  reducer_->broadcast_parameters(0);
  pair_.freeze();
}

fs::path ClipLitTraining::results_folder(int64_t round) const {
  return fs::path(options_.run_dir) / "results" / ("round" + std::to_string(round));
}

std::vector<guidance::ItemDraw> ClipLitTraining::draw_items(int64_t dataset_size, uint64_t order_seed) {
  if (!sampler_) {
    if (sampler_world_size_ != context_.world_size()) {
      sampler_state_ = dist::reshard(sampler_state_, sampler_world_size_, context_.world_size(), dataset_size);
      spdlog::info("the guidance phase's data is re-sharded from {} to {} rank(s) (epoch {}, {} items into each "
                   "rank's shard)",
                   sampler_world_size_, context_.world_size(), sampler_state_.epoch, sampler_state_.position);
      sampler_world_size_ = context_.world_size();
    }
    sampler_.emplace(dataset_size, context_.rank(), context_.world_size(), order_seed);
    sampler_->restore(sampler_state_);
  }
  std::vector<guidance::ItemDraw> draws;
  for (int64_t i = 0; i < options_.clip_lit.batch_size; ++i) {
    const int64_t item = sampler_->next(1).front();
    draws.push_back({item, sampler_->state().epoch});
  }
  sampler_state_ = sampler_->state();
  return draws;
}

double ClipLitTraining::initialisation_step() {
  const guidance::InitialisationBatch batch = initialisation_set_.load(
      draw_items(initialisation_set_.size(), stream(options_.seed, kInitialisationOrder)));
  torch::Tensor loss;
  if (batch.images.defined()) {
    const torch::Tensor features =
        guidance::unit_features(encoder_, batch.images, context_.device(), options_.precision);
    loss = guidance::guidance_init_loss(features, batch.labels.to(context_.device()), pair_.vectors());
  }
  return finish_step(loss);
}

double ClipLitTraining::refinement_step() {
  const int64_t round = schedule_.round();
  if (!margin_set_ || margin_set_round_ != round) {
    // A new margin set for each refinement phase, over the results that exist now (newest first).
    std::vector<fs::path> folders;
    for (const int64_t r : schedule_.refinement_plan().result_rounds) folders.push_back(results_folder(r));
    margin_set_.emplace(backlit_, welllit_, folders, stream(options_.seed, kMarginPairing, round),
                        stream(options_.seed, kMarginDraws, round));
    margin_set_round_ = round;
  }
  const std::vector<torch::Tensor> members =
      margin_set_->load(draw_items(margin_set_->size(), stream(options_.seed, kMarginOrder, round)));
  torch::Tensor loss;
  if (members.front().defined()) {
    // Every image of every tuple through the encoder in one batch, then split back per member.
    const torch::Tensor features =
        guidance::unit_features(encoder_, torch::cat(members), context_.device(), options_.precision);
    const torch::Tensor s = guidance::backlit_probability(features, pair_.vectors());
    const std::vector<torch::Tensor> per_member = s.chunk(int64_t(members.size()));
    const torch::Tensor none;
    loss = guidance::ranking_loss(per_member.front(), per_member.back(), per_member.size() > 2 ? per_member[1] : none,
                                  per_member.size() > 3 ? per_member[2] : none);
  }
  return finish_step(loss);
}

double ClipLitTraining::finish_step(const torch::Tensor& loss) {
  optimizer_->zero_grad();
  // A rank whose whole batch was unreadable contributes a zero gradient and no loss.
  if (loss.defined()) loss.backward();
  reducer_->reduce();
  optimizer_->step();
  torch::Tensor numbers = torch::tensor({loss.defined() ? loss.item<double>() : 0.0, loss.defined() ? 1.0 : 0.0},
                                        torch::kFloat64);
  communicator_.all_reduce_sum(numbers);
  return numbers[1].item<double>() > 0 ? numbers[0].item<double>() / numbers[1].item<double>() : 0.0;
}

void ClipLitTraining::run_guidance_phase(const std::function<void()>& save, MetricsLog* metrics,
                                         std::chrono::steady_clock::time_point start,
                                         const std::function<bool()>& stop_requested) {
  if (schedule_.phase() == ClipLitPhase::enhancer) return;
  const ClipLitPhase phase = schedule_.phase();
  const int64_t round = schedule_.round();
  const int tuple_size = schedule_.refinement_plan().tuple_size;
  if (phase == ClipLitPhase::refinement) {
    spdlog::info("round {}: guidance refinement, {}-image tuples, {} steps planned", round, tuple_size,
                 schedule_.state().phase_length);
  } else {
    spdlog::info("guidance initialisation: {} steps planned", schedule_.state().phase_length);
  }
  const std::string phase_text =
      phase == ClipLitPhase::refinement ? "refinement of round " + std::to_string(round) : "guidance initialisation";
  const ClipLitScheduleOptions& rule = options_.clip_lit.schedule;
  auto last = std::chrono::steady_clock::now();
  bool finished = false;
  while (!finished) {
    const double loss = phase == ClipLitPhase::refinement ? refinement_step() : initialisation_step();
    const int64_t planned = schedule_.state().phase_length;  // the length a finishing step leaves unchanged
    const int64_t extensions = schedule_.state().extensions;
    const GuidanceStepDecision decision = schedule_.after_guidance_step(loss);
    finished = decision.phase_finished;
    if (decision.extension != Extension::none && context_.is_root()) {
      const int64_t counted = decision.extension == Extension::extended ? extensions + 1 : extensions;
      spdlog::warn(extension_warning(decision.extension, phase_text, "the loss", loss, rule.extension_threshold,
                                     rule.extension_steps, counted, rule.max_extensions));
    }
    const auto now = std::chrono::steady_clock::now();
    const double seconds = std::chrono::duration<double>(now - last).count();
    last = now;
    const int64_t images = options_.clip_lit.batch_size * (phase == ClipLitPhase::refinement ? tuple_size : 1);
    if (metrics != nullptr) {
      nlohmann::json line = {{"step", iteration()},
                             {"round", round},
                             {"stage", phase_name(phase)},
                             {"loss", loss},
                             {"images_per_second", double(images * context_.world_size()) / seconds},
                             {"time", std::chrono::duration<double>(now - start).count()}};
      if (phase == ClipLitPhase::refinement) line["tuple_size"] = tuple_size;
      metrics->write(line);
    }
    if (finished) {
      spdlog::info("{} finished after {} steps (iteration {}): loss {:.4f}", phase_name(phase), planned, iteration(),
                   loss);
    } else if (const ClipLitScheduleState& s = schedule_.state(); s.step_in_phase % 50 == 0) {
      // While extending, the phase ends when a last step's loss falls to the threshold: no planned length to show.
      const int64_t planned_length = s.phase_length - s.extensions * rule.extension_steps;
      spdlog::info("{} step {}{} (iteration {}): loss {:.4f}", phase_name(phase), s.step_in_phase,
                   s.extensions == 0 ? "/" + std::to_string(s.phase_length)
                                     : " (" + std::to_string(planned_length) + " + " +
                                           std::to_string(s.step_in_phase - planned_length) + " extension steps)",
                   iteration(), loss);
    }
    if (finished) {
      // The enhancer trains against the pair as this phase left it; the next phase draws its own items.
      pair_.freeze();
      sampler_.reset();
      sampler_state_ = {};
      sampler_world_size_ = context_.world_size();
      margin_set_.reset();
    }
    if (options_.check_sync_every > 0 && iteration() % options_.check_sync_every == 0) {
      reducer_->check_parameters_in_sync();
    }
    if (context_.is_root() && iteration() % options_.checkpoint_every == 0) save();
    if (!finished && stop_requested()) return;
  }
}

StepDecision ClipLitTraining::after_enhancer_step(const StepReport& report) {
  const ClipLitDecision decision = schedule_.after_enhancer_step(report);
  if (decision.keep_best) {
    best_enhancer_.clear();
    for (const auto& [name, tensor] : models::enhancer_state(enhancer_)) best_enhancer_[name] = tensor.clone();
  }
  if (decision.results_round > 0) {
    // The network of the round's latest best model, rebuilt from the copy taken then.
    models::Enhancer best(models::EnhancerOptions().cond_padding(torch::kZeros));
    models::load_enhancer_state(best, best_enhancer_, "the best model of round " +
                                                          std::to_string(decision.results_round));
    best->to(context_.device());
    const fs::path folder = results_folder(decision.results_round);
    guidance::write_intermediate_results(best, backlit_, folder, communicator_, context_.device());
    spdlog::info("round {}: intermediate results of its best model in {}", decision.results_round, folder.string());
    best_enhancer_.clear();
  }
  return decision.enhancer;
}

void ClipLitTraining::store(io::Checkpoint& checkpoint) const {
  if (schedule_.phase() != ClipLitPhase::enhancer) {
    checkpoint.round = schedule_.round();
    checkpoint.stage = phase_name(schedule_.phase());
  }
  checkpoint.step = iteration();
  checkpoint.set_group("optimizer/guidance", adam_state(*optimizer_, pair_.named_parameters()));
  io::StateArchive state;
  ClipLitScheduleState schedule = schedule_.state();
  schedule.serialize(state);
  io::StateArchive sampler("sampler_");  // the guidance phases' data position, beside the schedule
  dist::SamplerState sampler_state = sampler_state_;
  sampler_state.serialize(sampler);
  io::TensorMap group = state.tensors();
  group.insert(sampler.tensors().begin(), sampler.tensors().end());
  for (const auto& [name, tensor] : best_enhancer_) group["best_enhancer/" + name] = tensor;
  checkpoint.set_group("clip_lit", group);
}

void ClipLitTraining::restore(const io::Checkpoint& checkpoint) {
  load_adam_state(*optimizer_, pair_.named_parameters(), checkpoint.group("optimizer/guidance"), checkpoint.path);
  ClipLitScheduleState s;
  io::StateArchive state(checkpoint, "clip_lit");
  s.serialize(state);
  schedule_.restore(s);
  sampler_state_ = {};
  io::StateArchive sampler(checkpoint, "clip_lit", "sampler_");
  sampler_state_.serialize(sampler);
  // Only a guidance phase has a position to carry over; an enhancer phase's next guidance phase starts afresh.
  sampler_world_size_ = s.phase == ClipLitPhase::enhancer ? context_.world_size() : int(checkpoint.world_size);
  sampler_.reset();
  best_enhancer_.clear();
  for (const auto& [name, tensor] : checkpoint.group("clip_lit/best_enhancer")) best_enhancer_[name] = tensor.clone();
  if (s.best_round > 0 && best_enhancer_.empty()) {
    throw IoError(checkpoint.path + ": the best model of round " + std::to_string(s.best_round) +
                  " (clip_lit/best_enhancer) is missing");
  }
}

}  // namespace rave::launch

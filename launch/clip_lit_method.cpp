#include "launch/clip_lit_method.h"

#include <spdlog/spdlog.h>
#include <torch/torch.h>

#include <filesystem>
#include <map>
#include <optional>

#include "core/error.h"
#include "dist/gradient_reducer.h"
#include "dist/random.h"
#include "dist/shard_sampler.h"
#include "guidance/guidance_datasets.h"
#include "guidance/intermediate_results.h"
#include "guidance/losses.h"
#include "io/state_archive.h"
#include "launch/clip_lit_schedule.h"
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
    throw UsageError("--method " + options.method +
                     " needs --welllit: its guidance learns from backlit and well-lit images");
  }
  return options.welllit;
}

class ClipLitMethod : public Method {
 public:
  ClipLitMethod(const MethodParts& parts, std::unique_ptr<guidance::LearnedPair> pair);

  guidance::Guidance& guidance() override { return *pair_; }
  void start() override {}  // the learned pair starts from its own initialisation

  int64_t iteration() const override { return schedule_.iteration(); }
  int64_t round() const override { return guidance_phase() ? schedule_.round() : enhancer_schedule_.round(); }
  std::string stage() const override {
    return guidance_phase() ? phase_name(schedule_.phase()) : stage_name(enhancer_schedule_.stage());
  }

  bool own_phase_due() const override { return guidance_phase(); }
  StepResult own_step() override;
  // The enhancer schedule's after_step, plus: keep the weights of a guided phase's new best model, and write
  // the intermediate results when its round ends.
  StepDecision after_enhancer_step(const StepReport& report) override;
  void check_parameters_in_sync() override { reducer_->check_parameters_in_sync(); }

  void store(io::Checkpoint& checkpoint) const override;
  void restore(const io::Checkpoint& checkpoint) override;

 private:
  bool guidance_phase() const { return schedule_.phase() != ClipLitPhase::enhancer; }
  void announce_phase() const;
  // One guidance step on this rank's batch; returns the ranks' mean loss.
  double initialisation_step();
  double refinement_step();
  double finish_step(const torch::Tensor& loss);
  // The next batch of items from the current phase's sampler (made on first use, seeded with `order_seed`).
  std::vector<guidance::ItemDraw> draw_items(int64_t dataset_size, uint64_t order_seed);
  fs::path results_folder(int64_t round) const;

  const dist::Context& context_;
  dist::Communicator& communicator_;
  const TrainerOptions& options_;
  guidance::GuidanceEncoder& encoder_;
  std::unique_ptr<guidance::LearnedPair> pair_;
  models::Enhancer enhancer_;
  Schedule& enhancer_schedule_;
  ClipLitSchedule schedule_;
  std::unique_ptr<torch::optim::Adam> optimizer_;
  std::unique_ptr<dist::GradientReducer> reducer_;

  io::ImageFolder backlit_folder_, welllit_folder_;
  guidance::ResizedImages backlit_, welllit_;
  guidance::InitialisationSet initialisation_set_;
  std::optional<guidance::MarginSet> margin_set_;  // of the current refinement phase
  int64_t margin_set_round_ = 0;
  // This rank's sampler over the current guidance phase's dataset, and where it stands; a position restored
  // from a checkpoint of another world size (--allow-world-size-change) is re-sharded when the sampler is made.
  std::optional<dist::ShardSampler> sampler_;
  dist::SamplerState sampler_state_;
  int sampler_world_size_;
  bool phase_announced_ = false;                         // the current guidance phase's first line is logged
  std::map<std::string, torch::Tensor> best_enhancer_;  // empty: no best model in this guided phase yet
};

ClipLitMethod::ClipLitMethod(const MethodParts& parts, std::unique_ptr<guidance::LearnedPair> pair)
    : context_(parts.context),
      communicator_(parts.communicator),
      options_(parts.options),
      encoder_(parts.guidance_encoder),
      pair_(std::move(pair)),
      enhancer_(parts.enhancer),
      enhancer_schedule_(parts.schedule),
      schedule_(parts.schedule, parts.options.clip_lit.schedule),
      backlit_folder_(parts.options.backlit, parts.options.exif),
      welllit_folder_(required_welllit(parts.options), parts.options.exif),
      backlit_(backlit_folder_, parts.options.clip_lit.image_size),
      welllit_(welllit_folder_, parts.options.clip_lit.image_size),
      initialisation_set_(backlit_, welllit_, stream(parts.options.seed, kInitialisationDraws)),
      sampler_world_size_(parts.context.world_size()) {
  const TrainerOptions& options = parts.options;
  if (options.clip_lit.batch_size <= 0 || options.clip_lit.image_size < 16) {
    throw UsageError("--guidance-batch-size must be positive and --guidance-image-size at least 16");
  }
  pair_->to(context_.device());
  const double lr =
      options.clip_lit.learning_rate > 0 ? options.clip_lit.learning_rate : pair_->default_learning_rate();
  optimizer_ = std::make_unique<torch::optim::Adam>(pair_->named_parameters().values(),
                                                    reference_adam(lr, options.clip_lit.weight_decay));
  reducer_ = std::make_unique<dist::GradientReducer>(communicator_, pair_->named_parameters());
  // Rank 0's initial pair on every rank (a resumed run loads the same one everywhere anyway).
  reducer_->broadcast_parameters(0);
  pair_->freeze();
}

fs::path ClipLitMethod::results_folder(int64_t round) const {
  return fs::path(options_.run_dir) / "results" / ("round" + std::to_string(round));
}

std::vector<guidance::ItemDraw> ClipLitMethod::draw_items(int64_t dataset_size, uint64_t order_seed) {
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

double ClipLitMethod::initialisation_step() {
  const guidance::InitialisationBatch batch = initialisation_set_.load(
      draw_items(initialisation_set_.size(), stream(options_.seed, kInitialisationOrder)));
  torch::Tensor loss;
  if (batch.images.defined()) {
    const torch::Tensor features =
        guidance::unit_features(encoder_, batch.images, context_.device(), options_.precision);
    loss = guidance::guidance_init_loss(features, batch.labels.to(context_.device()), pair_->vectors());
  }
  return finish_step(loss);
}

double ClipLitMethod::refinement_step() {
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
    const torch::Tensor s = guidance::backlit_probability(features, pair_->vectors());
    const std::vector<torch::Tensor> per_member = s.chunk(int64_t(members.size()));
    const torch::Tensor none;
    loss = guidance::ranking_loss(per_member.front(), per_member.back(), per_member.size() > 2 ? per_member[1] : none,
                                  per_member.size() > 3 ? per_member[2] : none);
  }
  return finish_step(loss);
}

double ClipLitMethod::finish_step(const torch::Tensor& loss) {
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

void ClipLitMethod::announce_phase() const {
  if (schedule_.phase() == ClipLitPhase::refinement) {
    spdlog::info("round {}: guidance refinement, {}-image tuples, {} steps planned", schedule_.round(),
                 schedule_.refinement_plan().tuple_size, schedule_.state().phase_length);
  } else {
    spdlog::info("guidance initialisation: {} steps planned", schedule_.state().phase_length);
  }
}

StepResult ClipLitMethod::own_step() {
  if (!phase_announced_) announce_phase();
  phase_announced_ = true;
  const ClipLitPhase phase = schedule_.phase();
  const int64_t round = schedule_.round();
  const int tuple_size = schedule_.refinement_plan().tuple_size;
  const double loss = phase == ClipLitPhase::refinement ? refinement_step() : initialisation_step();
  const int64_t planned = schedule_.state().phase_length;  // the length a finishing step leaves unchanged
  const int64_t extensions = schedule_.state().extensions;
  const GuidanceStepDecision decision = schedule_.after_guidance_step(loss);

  StepResult result;
  result.round = round;
  result.stage = phase_name(phase);
  result.numbers = {{"loss", loss}};
  if (phase == ClipLitPhase::refinement) result.numbers["tuple_size"] = tuple_size;
  result.images = options_.clip_lit.batch_size * (phase == ClipLitPhase::refinement ? tuple_size : 1);
  const ClipLitScheduleOptions& rule = options_.clip_lit.schedule;
  if (decision.extension != Extension::none) {
    const std::string phase_text =
        phase == ClipLitPhase::refinement ? "refinement of round " + std::to_string(round) : "guidance initialisation";
    const int64_t counted = decision.extension == Extension::extended ? extensions + 1 : extensions;
    result.warning = extension_warning(decision.extension, phase_text, "the loss", loss, rule.extension_threshold,
                                       rule.extension_steps, counted, rule.max_extensions);
  }
  if (decision.phase_finished) {
    result.progress = fmt::format("{} finished after {} steps (iteration {}): loss {:.4f}", phase_name(phase), planned,
                                  iteration(), loss);
    // The enhancer trains against the pair as this phase left it; the next phase draws its own items.
    pair_->freeze();
    sampler_.reset();
    sampler_state_ = {};
    sampler_world_size_ = context_.world_size();
    margin_set_.reset();
    phase_announced_ = false;
  } else if (const ClipLitScheduleState& s = schedule_.state(); s.step_in_phase % 50 == 0) {
    // While extending, the phase ends when a last step's loss falls to the threshold: no planned length to show.
    const int64_t planned_length = s.phase_length - s.extensions * rule.extension_steps;
    result.progress = fmt::format("{} step {}{} (iteration {}): loss {:.4f}", phase_name(phase), s.step_in_phase,
                                  s.extensions == 0 ? "/" + std::to_string(s.phase_length)
                                                    : " (" + std::to_string(planned_length) + " + " +
                                                          std::to_string(s.step_in_phase - planned_length) +
                                                          " extension steps)",
                                  iteration(), loss);
  }
  return result;
}

StepDecision ClipLitMethod::after_enhancer_step(const StepReport& report) {
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

void ClipLitMethod::store(io::Checkpoint& checkpoint) const {
  checkpoint.set_group("optimizer/guidance", adam_state(*optimizer_, pair_->named_parameters()));
  io::StateArchive state;
  state.write(schedule_.state());
  io::StateArchive sampler("sampler_");  // the guidance phases' data position, beside the schedule
  sampler.write(sampler_state_);
  io::TensorMap group = state.tensors();
  group.insert(sampler.tensors().begin(), sampler.tensors().end());
  for (const auto& [name, tensor] : best_enhancer_) group["best_enhancer/" + name] = tensor;
  checkpoint.set_group("clip_lit", group);
}

void ClipLitMethod::restore(const io::Checkpoint& checkpoint) {
  load_adam_state(*optimizer_, pair_->named_parameters(), checkpoint.group("optimizer/guidance"), checkpoint.path);
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

}  // namespace

std::unique_ptr<Method> make_clip_lit_method(const MethodParts& parts, std::unique_ptr<guidance::LearnedPair> pair) {
  return std::make_unique<ClipLitMethod>(parts, std::move(pair));
}

}  // namespace rave::launch

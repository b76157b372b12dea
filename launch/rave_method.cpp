// RAVE as a training method (ALGORITHMS §4.1.4, §4.6): a fixed residual vector, computed on every rank from the
// backlit and well-lit folders (or read from --residual) before the first step, and no phases of its own.
#include "launch/rave_method.h"

#include <spdlog/spdlog.h>

#include <filesystem>

#include "core/error.h"
#include "guidance/rave_guidance.h"
#include "guidance/residual_file.h"
#include "guidance/residual_pass.h"
#include "io/dataset.h"

namespace rave::launch {
namespace {

namespace fs = std::filesystem;

class RaveMethod : public Method {
 public:
  // A resumed run's vector comes from its checkpoint (restore fills this empty one through guidance()).
  explicit RaveMethod(const MethodParts& parts)
      : parts_(parts), guidance_(std::make_unique<guidance::RaveGuidance>(guidance::ResidualVector{})) {
    guidance_->to(parts.context.device());
  }

  guidance::Guidance& guidance() override { return *guidance_; }
  void start() override;

  int64_t iteration() const override { return parts_.schedule.step(); }
  int64_t round() const override { return parts_.schedule.round(); }
  std::string stage() const override { return stage_name(parts_.schedule.stage()); }

  bool own_phase_due() const override { return false; }
  StepResult own_step() override { throw Error("RAVE has no phases besides the enhancer's"); }
  StepDecision after_enhancer_step(const StepReport& report) override { return parts_.schedule.after_step(report); }
  void check_parameters_in_sync() override {}  // nothing of its own is trained

  // The residual vector is all of RAVE's state, in /guidance.
  void store(io::Checkpoint&) const override {}
  void restore(const io::Checkpoint&) override {}

 private:
  guidance::ResidualFile computed_residual() const;
  void keep_residual_copy() const;

  MethodParts parts_;
  std::unique_ptr<guidance::RaveGuidance> guidance_;
};

void RaveMethod::start() {
  const TrainerOptions& options = parts_.options;
  guidance::ResidualVector vector;
  if (!options.residual.empty()) {
    const guidance::ResidualFile file = guidance::read_residual_file_for(options.residual, parts_.guidance_encoder);
    spdlog::info("residual vector from {} (encoder {}, tau {:.6f})", options.residual, file.encoder, file.vector.tau);
    vector = file.vector;
    if (parts_.context.is_root()) keep_residual_copy();
  } else {
    const guidance::ResidualFile file = computed_residual();
    if (parts_.context.is_root()) {
      guidance::write_residual_file((fs::path(options.run_dir) / "residual.h5").string(), file);
    }
    spdlog::info("residual vector: {} well-lit and {} backlit images, tau {:.6f}", file.vector.n_pos,
                 file.vector.n_neg, file.vector.tau);
    vector = file.vector;
  }
  guidance_ = std::make_unique<guidance::RaveGuidance>(vector);
  guidance_->to(parts_.context.device());
}

guidance::ResidualFile RaveMethod::computed_residual() const {
  const TrainerOptions& options = parts_.options;
  if (options.welllit.empty()) {
    throw UsageError("RAVE needs --welllit (or --residual FILE) to compute its residual vector");
  }
  io::ImageFolder backlit(options.backlit, options.exif), welllit(options.welllit, options.exif);
  guidance::ResidualPassOptions pass;
  pass.device = parts_.context.device();
  guidance::ResidualFile file;
  file.vector = guidance::compute_residual(parts_.guidance_encoder, backlit, welllit, parts_.communicator, pass);
  file.encoder = parts_.guidance_encoder.name();
  for (const auto& f : backlit.files()) file.backlit_files.push_back(f.filename().string());
  for (const auto& f : welllit.files()) file.welllit_files.push_back(f.filename().string());
  file.note = "computed by rave train";
  return file;
}

void RaveMethod::keep_residual_copy() const {
  // The run directory documents the run on its own (rave report reads residual.h5 from it), so a vector given
  // with --residual is copied in, through a temporary file so that no half copy is left behind.
  const std::string& residual = parts_.options.residual;
  const fs::path target = fs::path(parts_.options.run_dir) / "residual.h5";
  std::error_code error;
  if (fs::equivalent(residual, target, error)) return;
  const fs::path temporary = target.string() + ".tmp";
  fs::copy_file(residual, temporary, fs::copy_options::overwrite_existing, error);
  if (!error) fs::rename(temporary, target, error);
  if (error) {
    const std::string reason = error.message();
    fs::remove(temporary, error);
    throw IoError(target.string() + ": cannot copy " + residual + " there: " + reason);
  }
}

}  // namespace

std::unique_ptr<Method> make_rave_method(const MethodParts& parts) { return std::make_unique<RaveMethod>(parts); }

}  // namespace rave::launch

#include "guidance/intermediate_results.h"

#include <torch/torch.h>

#include "dist/shard_sampler.h"
#include "io/image.h"

namespace rave::guidance {

std::filesystem::path intermediate_result_path(const std::filesystem::path& folder,
                                               const std::filesystem::path& backlit_file) {
  return folder / (backlit_file.stem().string() + ".png");
}

void write_intermediate_results(models::Enhancer& enhancer, ResizedImages& backlit, const std::filesystem::path& folder,
                                dist::Communicator& communicator, const torch::Device& device) {
  std::filesystem::create_directories(folder);
  const dist::ShardSampler sampler(int64_t(backlit.size()), communicator.rank(), communicator.world_size(), 0,
                                   dist::ShardMode::kExact);
  torch::NoGradGuard no_grad;
  for (const int64_t item : sampler.shard(0)) {
    const std::optional<torch::Tensor> image = backlit.get(size_t(item));
    if (!image) continue;
    const torch::Tensor x = io::to_float_chw(*image).unsqueeze(0).to(device);
    const torch::Tensor enhanced = models::apply_light_map(x, enhancer->forward(x));
    io::write_image(intermediate_result_path(folder, backlit.folder().files()[size_t(item)]).string(),
                    enhanced[0].cpu());
  }
  communicator.barrier();
}

}  // namespace rave::guidance

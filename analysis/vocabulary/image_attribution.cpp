#include "analysis/vocabulary/image_attribution.h"

#include <torch/torch.h>

#include <algorithm>

#include "analysis/vocabulary/span.h"
#include "core/error.h"
#include "core/progress.h"
#include "dist/shard_sampler.h"

namespace rave::analysis {

FolderEmbeddings embed_folder(guidance::GuidanceEncoder& encoder, io::ImageFolder& folder,
                              dist::Communicator* communicator, int64_t batch_size, const torch::Device& device) {
  const int rank = communicator ? communicator->rank() : 0;
  const int world_size = communicator ? communicator->world_size() : 1;
  const auto n = int64_t(folder.size());
  const std::vector<int64_t> items =
      dist::ShardSampler(n, rank, world_size, 0, dist::ShardMode::kExact).shard(0);
  // Rows of other ranks and of unreadable files stay zero; `readable` marks the rows that were filled.
  torch::Tensor rows = torch::zeros({n, encoder.dim()}, torch::kFloat64);
  torch::Tensor readable = torch::zeros({n}, torch::kInt64);
  core::Progress progress("embedding " + folder.folder().string(), int64_t(items.size()), rank == 0, "img");
  c10::InferenceMode inference;
  for (size_t start = 0; start < items.size(); start += size_t(batch_size)) {
    std::vector<torch::Tensor> batch;
    std::vector<int64_t> index;
    for (size_t i = start; i < std::min(items.size(), start + size_t(batch_size)); ++i) {
      if (auto image = folder.read_u8(size_t(items[i]))) {
        batch.push_back(encoder.preprocess_file_image(*image));
        index.push_back(items[i]);
      }
    }
    progress.advance(int64_t(std::min(items.size(), start + size_t(batch_size)) - start));
    if (batch.empty()) continue;
    const torch::Tensor at = torch::tensor(index, torch::kLong);
    rows.index_copy_(0, at, unit(encoder.encode(torch::stack(batch).to(device)).cpu()));
    readable.index_fill_(0, at, 1);
  }
  progress.finish();
  if (world_size > 1) {
    communicator->all_reduce_sum(rows);
    communicator->all_reduce_sum(readable);
  }
  FolderEmbeddings result;
  std::vector<int64_t> kept;
  for (int64_t i = 0; i < n; ++i) {
    if (readable[i].item<int64_t>()) {
      kept.push_back(i);
      result.files.push_back(folder.files()[size_t(i)].filename().string());
    }
  }
  result.embeddings = rows.index_select(0, torch::tensor(kept, torch::kLong));
  return result;
}

Attribution attribute_direction(const FolderEmbeddings& welllit, const FolderEmbeddings& backlit,
                                const torch::Tensor& direction) {
  if (welllit.files.empty() || backlit.files.empty()) {
    throw Error("the attribution needs at least one readable well-lit and one backlit image");
  }
  const torch::Tensor d = unit(direction.flatten());
  const torch::Tensor m_pos = welllit.embeddings.mean(0), m_neg = backlit.embeddings.mean(0);
  const double delta = (unit(m_pos) - unit(m_neg)).norm().item<double>();
  const double scale_pos = 1.0 / (double(welllit.files.size()) * m_pos.norm().item<double>() * delta);
  const double scale_neg = -1.0 / (double(backlit.files.size()) * m_neg.norm().item<double>() * delta);
  Attribution attribution;
  for (const auto* set : {&welllit, &backlit}) {
    const bool is_welllit = set == &welllit;
    const torch::Tensor cosines = torch::mv(set->embeddings, d);
    for (size_t i = 0; i < set->files.size(); ++i) {
      const double c = cosines[int64_t(i)].item<double>();
      attribution.images.push_back({set->files[i], is_welllit, c, c * (is_welllit ? scale_pos : scale_neg)});
      attribution.total += attribution.images.back().contribution;
    }
  }
  std::stable_sort(
      attribution.images.begin(), attribution.images.end(),
      [](const ImageContribution& a, const ImageContribution& b) { return a.contribution > b.contribution; });
  return attribution;
}

}  // namespace rave::analysis

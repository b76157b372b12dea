#include "dist/shard_sampler.h"

#include <algorithm>
#include <string>

#include "core/error.h"
#include "dist/random.h"

namespace rave::dist {

ShardSampler::ShardSampler(int64_t dataset_size, int rank, int world_size, uint64_t seed, ShardMode mode)
    : dataset_size_(dataset_size), rank_(rank), world_size_(world_size), seed_(seed), mode_(mode) {
  if (dataset_size <= 0) {
    throw UsageError("cannot shard an empty dataset", "check that the image folders contain supported images");
  }
  if (world_size <= 0 || rank < 0 || rank >= world_size) {
    throw Error("ShardSampler: rank " + std::to_string(rank) + " outside a world of " + std::to_string(world_size));
  }
  current_ = shard(0);
}

int64_t ShardSampler::shard_size() const {
  if (mode_ == ShardMode::kPadded) return (dataset_size_ + world_size_ - 1) / world_size_;
  return rank_ < dataset_size_ ? (dataset_size_ - rank_ + world_size_ - 1) / world_size_ : 0;
}

std::vector<int64_t> ShardSampler::shard(int64_t epoch) const {
  const std::vector<int64_t> order = shuffled_indices(dataset_size_, seed_, static_cast<uint64_t>(epoch));
  std::vector<int64_t> items;
  items.reserve(static_cast<size_t>(shard_size()));
  // Positions past the end (padded mode only) wrap around to the start of the same permutation.
  for (int64_t i = 0, position = rank_; i < shard_size(); ++i, position += world_size_) {
    items.push_back(order[static_cast<size_t>(position % dataset_size_)]);
  }
  return items;
}

std::vector<int64_t> ShardSampler::next(int64_t count) {
  if (count > 0 && current_.empty()) {
    throw Error("ShardSampler: rank " + std::to_string(rank_) + " has no items (" + std::to_string(dataset_size_) +
                " items over " + std::to_string(world_size_) + " ranks, exact mode)");
  }
  std::vector<int64_t> items;
  items.reserve(static_cast<size_t>(std::max<int64_t>(count, 0)));
  while (static_cast<int64_t>(items.size()) < count) {
    if (state_.position == static_cast<int64_t>(current_.size())) {
      state_ = {state_.epoch + 1, 0};
      current_ = shard(state_.epoch);
    }
    items.push_back(current_[static_cast<size_t>(state_.position++)]);
  }
  return items;
}

SamplerState reshard(const SamplerState& state, int old_world_size, int new_world_size, int64_t dataset_size) {
  if (old_world_size <= 0 || new_world_size <= 0 || dataset_size <= 0) {
    throw Error("reshard: world sizes and dataset size must be positive (got " + std::to_string(old_world_size) +
                ", " + std::to_string(new_world_size) + ", " + std::to_string(dataset_size) + ")");
  }
  const int64_t handed_out = state.position * old_world_size;  // permutation entries the old world visited
  if (handed_out >= dataset_size) return {state.epoch + 1, 0};
  return {state.epoch, handed_out / new_world_size};
}

void ShardSampler::restore(const SamplerState& state) {
  if (state.epoch < 0 || state.position < 0 || state.position > shard_size()) {
    throw Error("sampler state (epoch " + std::to_string(state.epoch) + ", position " + std::to_string(state.position) +
                    ") does not fit a shard of " + std::to_string(shard_size()) + " items",
                "the checkpoint was written with another dataset size or number of ranks");
  }
  state_ = state;
  current_ = shard(state_.epoch);
}

}  // namespace rave::dist

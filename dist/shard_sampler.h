// Which dataset items each rank visits, epoch after epoch. Every rank draws the same permutation of the
// dataset from (seed, epoch) and takes every world_size-th position of it starting at its rank, so the shards
// are disjoint and together cover the dataset without any communication.
#pragma once

#include <cstdint>
#include <vector>

namespace rave::dist {

enum class ShardMode {
  // Training: every rank gets ceil(n / world_size) items, so all ranks run the same number of steps; the
  // permutation is extended by wrapping around to its start, which repeats a few items in that epoch.
  kPadded,
  // Passes that must see each item exactly once (the residual vector's means): no padding, no duplicates;
  // the first n % world_size ranks get one item more than the others.
  kExact,
};

// Where a rank stands in its stream of items; all that resume needs besides the sampler's arguments. In
// padded mode it is the same on every rank, so rank 0's copy in the checkpoint serves all of them.
struct SamplerState {
  int64_t epoch = 0;
  int64_t position = 0;  // items of this epoch's shard already handed out

  // Checkpointed through io/state_archive.h.
  template <class Archive>
  void serialize(Archive& a) {
    a("epoch", epoch);
    a("position", position);
  }
};

// Where each rank of a padded-mode world of `new_world_size` ranks continues when a run that stood at `state` with
// `old_world_size` ranks resumes with another number of ranks (--allow-world-size-change). The shards differ, so
// the best a new world can do is to continue the same epoch's permutation from where the old world stopped:
// the old ranks handed out its first position * old_world_size entries, and the new ranks start at that count
// rounded down to a multiple of new_world_size, so no item is skipped and fewer than new_world_size are seen twice.
// An epoch whose real items were all handed out (only padding was left) continues with the next epoch.
SamplerState reshard(const SamplerState& state, int old_world_size, int new_world_size, int64_t dataset_size);

class ShardSampler {
 public:
  ShardSampler(int64_t dataset_size, int rank, int world_size, uint64_t seed, ShardMode mode = ShardMode::kPadded);

  // This rank's items of `epoch`, in visiting order.
  std::vector<int64_t> shard(int64_t epoch) const;
  // Items per epoch on this rank.
  int64_t shard_size() const;

  // The next `count` items; after the last item of an epoch's shard comes the first of the next epoch's.
  std::vector<int64_t> next(int64_t count);

  const SamplerState& state() const { return state_; }
  // Continues from a state returned by state() (of a sampler built with the same arguments).
  void restore(const SamplerState& state);

 private:
  int64_t dataset_size_;
  int rank_;
  int world_size_;
  uint64_t seed_;
  ShardMode mode_;
  SamplerState state_;
  std::vector<int64_t> current_;  // shard(state_.epoch)
};

}  // namespace rave::dist

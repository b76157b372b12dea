#include "dist/gradient_reducer.h"

#include <torch/torch.h>

#include <algorithm>
#include <cstring>

#include "core/error.h"
#include "dist/random.h"

namespace rave::dist {
namespace {

// 64-bit hash of a tensor's bytes (in logical element order): enough to tell replicas that drifted apart.
uint64_t hash_bytes(const torch::Tensor& tensor) {
  const auto host = tensor.detach().to(torch::kCPU).contiguous();
  const auto* bytes = static_cast<const unsigned char*>(host.data_ptr());
  const size_t size = host.numel() * host.element_size();
  uint64_t hash = mix64(size);
  for (size_t i = 0; i < size; i += sizeof(uint64_t)) {
    uint64_t word = 0;
    std::memcpy(&word, bytes + i, std::min(sizeof word, size - i));
    hash = mix64(hash ^ word);
  }
  return hash;
}

}  // namespace

GradientReducer::GradientReducer(Communicator& communicator,
                                 const torch::OrderedDict<std::string, torch::Tensor>& parameters,
                                 GradientReducerOptions options)
    : communicator_(communicator) {
  for (const auto& item : parameters) {
    names_.push_back(item.key());
    parameters_.push_back(item.value());
  }
  // Buckets are filled in reverse registration order, roughly the order in which backward produces the
  // gradients; a bucket holds one dtype on one device (it is reduced as one flat tensor).
  Bucket bucket;
  int64_t bucket_bytes = 0;
  int64_t limit = options.first_bucket_bytes;
  for (size_t i = parameters_.size(); i-- > 0;) {
    const torch::Tensor& p = parameters_[i];
    if (!p.requires_grad()) continue;
    const int64_t bytes = p.numel() * static_cast<int64_t>(p.element_size());
    if (!bucket.members.empty()) {
      const torch::Tensor& first = parameters_[bucket.members.front()];
      if (bucket_bytes + bytes > limit || first.scalar_type() != p.scalar_type() || first.device() != p.device()) {
        add_bucket(std::move(bucket));
        bucket = {};
        bucket_bytes = 0;
        limit = options.bucket_bytes;
      }
    }
    bucket.members.push_back(i);
    bucket.offsets.push_back(bucket.numel);
    bucket.numel += p.numel();
    bucket_bytes += bytes;
  }
  if (!bucket.members.empty()) add_bucket(std::move(bucket));
}

void GradientReducer::add_bucket(Bucket bucket) {
  const torch::Tensor& first = parameters_[bucket.members.front()];
  bucket.buffer = torch::empty({bucket.numel + static_cast<int64_t>(bucket.members.size())},
                               torch::TensorOptions().dtype(first.scalar_type()).device(first.device()));
  buckets_.push_back(std::move(bucket));
}

void GradientReducer::broadcast_parameters(int root) {
  torch::NoGradGuard no_grad;
  for (const torch::Tensor& p : parameters_) communicator_.broadcast(p, root);
}

void GradientReducer::reduce() {
  torch::NoGradGuard no_grad;
  std::vector<torch::Tensor> counts;  // per bucket: on how many ranks each member had a gradient
  for (Bucket& bucket : buckets_) {
    std::vector<double> present(bucket.members.size(), 0.0);
    for (size_t j = 0; j < bucket.members.size(); ++j) {
      const torch::Tensor& grad = parameters_[bucket.members[j]].grad();
      auto slot = bucket.buffer.narrow(0, bucket.offsets[j], parameters_[bucket.members[j]].numel());
      if (grad.defined()) {
        slot.copy_(grad.reshape(-1));
        present[j] = 1.0;
      } else {
        slot.zero_();
      }
    }
    // The presence flags ride in the bucket's tail: one collective settles both the sums and which
    // gradients exist anywhere, and every rank then decides the same.
    auto tail = bucket.buffer.narrow(0, bucket.numel, static_cast<int64_t>(bucket.members.size()));
    tail.copy_(torch::tensor(present, torch::kFloat64));
    communicator_.all_reduce_sum(bucket.buffer);
    bucket.buffer.narrow(0, 0, bucket.numel).div_(communicator_.world_size());
    counts.push_back(tail.to(torch::kFloat64));
  }
  if (buckets_.empty()) return;
  const auto on_host = torch::cat(counts).to(torch::kCPU);  // one device-to-host copy per step
  const auto* count = on_host.data_ptr<double>();
  for (const Bucket& bucket : buckets_) {
    for (size_t j = 0; j < bucket.members.size(); ++j, ++count) {
      if (*count == 0.0) continue;
      torch::Tensor& p = parameters_[bucket.members[j]];
      const auto mean = bucket.buffer.narrow(0, bucket.offsets[j], p.numel()).view(p.sizes());
      if (p.grad().defined()) {
        p.mutable_grad().copy_(mean);
      } else {
        p.mutable_grad() = mean.clone();
      }
    }
  }
}

void GradientReducer::check_parameters_in_sync() {
  if (parameters_.empty()) return;
  std::vector<int64_t> hashes;
  for (const torch::Tensor& p : parameters_) hashes.push_back(static_cast<int64_t>(hash_bytes(p)));
  const auto mine = torch::tensor(hashes, torch::kInt64).to(parameters_.front().device());
  const auto reference = mine.clone();
  communicator_.broadcast(reference, 0);
  const auto differing = mine.ne(reference).to(torch::kInt64);
  communicator_.all_reduce_sum(differing);
  const auto on_host = differing.to(torch::kCPU);
  std::string report;
  for (size_t i = 0; i < parameters_.size(); ++i) {
    const int64_t ranks = on_host[static_cast<int64_t>(i)].item<int64_t>();
    if (ranks == 0) continue;
    report += (report.empty() ? "" : ", ") + names_[i] + " (" + std::to_string(ranks) + " rank(s))";
  }
  if (!report.empty()) {
    throw DistError("replicas diverged: parameters that differ from rank 0's: " + report,
                    "every rank must apply the same update; look for rank-dependent code or a nondeterministic "
                    "operation outside the gradient reducer");
  }
}

std::vector<std::vector<std::string>> GradientReducer::bucket_layout() const {
  std::vector<std::vector<std::string>> layout;
  for (const Bucket& bucket : buckets_) {
    layout.emplace_back();
    for (size_t i : bucket.members) layout.back().push_back(names_[i]);
  }
  return layout;
}

}  // namespace rave::dist

#include "io/state_archive.h"

#include <utility>

#include "core/error.h"

namespace rave::io {

StateArchive::StateArchive(const Checkpoint& checkpoint, const std::string& group, std::string prefix)
    : reading_(true),
      prefix_(std::move(prefix)),
      tensors_(checkpoint.group(group)),
      file_(checkpoint.path.empty() ? "checkpoint" : checkpoint.path),
      group_(group) {}

const torch::Tensor& StateArchive::at(const std::string& name, const std::vector<int64_t>& shape) const {
  return dataset_at(tensors_, prefix_ + name, file_, group_, shape);
}

void StateArchive::check(bool ok, const std::string& name, const std::string& problem) const {
  if (!ok) {
    throw IoError(file_ + ": dataset '/" + group_ + "/" + prefix_ + name + "': " + problem,
                  "the checkpoint is damaged or was not written by rave train");
  }
}

void StateArchive::operator()(const std::string& name, int64_t& field) {
  if (!reading_) {
    tensors_[prefix_ + name] = torch::tensor(field, torch::kInt64);
    return;
  }
  const torch::Tensor& value = at(name, kScalarShape);
  check(!value.is_floating_point(), name,
        std::string("an integer was expected, found ") + c10::toString(value.scalar_type()));
  field = value.item<int64_t>();
}

void StateArchive::operator()(const std::string& name, double& field) {
  if (!reading_) {
    tensors_[prefix_ + name] = torch::tensor(field, torch::kFloat64);
    return;
  }
  field = at(name, kScalarShape).item<double>();
}

void StateArchive::operator()(const std::string& name, bool& field) {
  int64_t number = field ? 1 : 0;
  (*this)(name, number);
  if (reading_) {
    check(number == 0 || number == 1, name, std::to_string(number) + " is not 0 or 1");
    field = number == 1;
  }
}

void StateArchive::operator()(const std::string& name, std::vector<double>& field) {
  if (!reading_) {
    tensors_[prefix_ + name] = torch::tensor(field, torch::kFloat64);
    return;
  }
  const torch::Tensor& stored = dataset_at(tensors_, prefix_ + name, file_, group_);
  check(stored.dim() == 1, name, "a list was expected, found " + std::to_string(stored.dim()) + " dimensions");
  const torch::Tensor values = stored.to(torch::kFloat64).contiguous();
  field.assign(values.data_ptr<double>(), values.data_ptr<double>() + values.numel());
}

void StateArchive::operator()(const std::string& name, std::array<int64_t, 2>& field) {
  if (!reading_) {
    tensors_[prefix_ + name] = torch::tensor({field[0], field[1]}, torch::kInt64);
    return;
  }
  const torch::Tensor values = at(name, {2}).to(torch::kInt64);
  field = {values[0].item<int64_t>(), values[1].item<int64_t>()};
}

}  // namespace rave::io

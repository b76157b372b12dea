// One function per piece of training state names its fields once, for both directions, as LibTorch's optim::Adam
// serialises its state: writing, the fields become the datasets of a checkpoint group; reading, they are taken back
// from one, each checked for its shape, with the file and the dataset named in every error. A field that is written
// but not read (or read under another name) cannot happen, and a round trip per struct is one test.
//
//   struct SamplerState {
//     int64_t epoch = 0, position = 0;
//     template <class Archive> void serialize(Archive& a) { a("epoch", epoch); a("position", position); }
//   };
//   writing: io::StateArchive out;  out.write(state);  checkpoint.set_group("sampler", out.tensors());
//   reading: io::StateArchive in(checkpoint, "sampler");  state.serialize(in);
#pragma once

#include <torch/types.h>

#include <array>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "io/checkpoint.h"

namespace rave::io {

class StateArchive {
 public:
  // Writing. `prefix` goes before every dataset name, for two structs in one group ("sampler_" + "epoch").
  explicit StateArchive(std::string prefix = "") : prefix_(std::move(prefix)) {}
  // Reading the datasets below `group` of `checkpoint`, with names that begin with `prefix`.
  StateArchive(const Checkpoint& checkpoint, const std::string& group, std::string prefix = "");

  bool reading() const { return reading_; }

  // Numbers are 0-d datasets (int64, float64; a bool is an int64 0 or 1), lists 1-d ones.
  void operator()(const std::string& name, int64_t& field);
  void operator()(const std::string& name, double& field);
  void operator()(const std::string& name, bool& field);
  void operator()(const std::string& name, std::vector<double>& field);
  void operator()(const std::string& name, std::array<int64_t, 2>& field);

  // An enum stored as its number; reading refuses numbers past `last`.
  template <class Enum>
  void enumeration(const std::string& name, Enum& field, Enum last) {
    int64_t number = static_cast<int64_t>(field);
    (*this)(name, number);
    if (reading_) {
      check(number >= 0 && number <= static_cast<int64_t>(last), name, std::to_string(number) + " is out of range");
      field = static_cast<Enum>(number);
    }
  }

  // A field that checkpoints of older rave versions lack: reading leaves it as it is when the dataset is absent.
  template <class T>
  void optional(const std::string& name, T& field) {
    if (reading_ && !tensors_.count(prefix_ + name)) return;
    (*this)(name, field);
  }

  // Writing a whole state struct; it is copied because serialize() takes its fields by reference for both directions.
  template <class State>
  void write(State state) {
    state.serialize(*this);
  }

  // Writing: the datasets of the group, by name inside it.
  const TensorMap& tensors() const { return tensors_; }

 private:
  // The dataset `name` of the group being read, of shape `shape`.
  const torch::Tensor& at(const std::string& name, const std::vector<int64_t>& shape) const;
  // IoError naming the file and the dataset unless `ok`.
  void check(bool ok, const std::string& name, const std::string& problem) const;

  bool reading_ = false;
  std::string prefix_;
  TensorMap tensors_;
  std::string file_;
  std::string group_;
};

}  // namespace rave::io

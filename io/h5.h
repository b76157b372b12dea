// A small typed layer over the HDF5 C API: one File class that reads and writes torch tensors, strings and
// attributes by path ("enhancer/cond1.weight"). Errors are IoErrors naming the file and the object; HDF5's
// own error-stack printing is switched off so a user sees one clear line. Checkpoints (io/checkpoint) and
// model state files (models/clip) build on it, and every rave file is read through File::open, which verifies
// what the writer recorded: the whole-file SHA-256 of the header (io/h5_seal) and the manifest of datasets.
#pragma once

#include <hdf5.h>
#include <torch/types.h>

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "io/h5_seal.h"

namespace rave::io::h5 {

// Owns one HDF5 identifier and closes it with the matching H5?close.
class Handle {
 public:
  Handle() = default;
  explicit Handle(hid_t id) : id_(id) {}
  ~Handle();
  Handle(Handle&& other) noexcept : id_(other.release()) {}
  Handle& operator=(Handle&& other) noexcept;
  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;

  hid_t get() const { return id_; }
  bool valid() const { return id_ >= 0; }
  hid_t release();

 private:
  hid_t id_ = -1;
};

struct WriteOptions {
  // Checksums: the Fletcher-32 filter (chunked storage), or for a 0-d dataset a CRC-32 attribute; read() verifies
  // both. Empty datasets have none.
  bool checksum = true;
  // Deflate level 1..9, 0 = none.
  int deflate = 0;
};

class File {
 public:
  // Opens an existing file read-only. IoError when it is missing or not HDF5; for a file rave wrote, when its
  // length or SHA-256 differ from its header's (checked before HDF5 parses it) or its datasets from its manifest
  // (the root attribute `manifest`: a dataset missing, unreachable or added). Files without them (other tools,
  // older rave) open with only their datasets' checksums, or with Unsealed::refuse are an IoError before HDF5
  // parses a byte.
  static File open(const std::string& path, Unsealed unsealed = Unsealed::accept);
  // Creates (truncates) a file for writing, and missing parent folders. The content is built in memory and
  // written to `path` by close(), every write checked, after rave's header (io/h5_seal) and with the manifest
  // of its datasets; a write that fails removes the file.
  static File create(const std::string& path);

  // A created file destroyed without close() (an exception while writing it) is removed: no empty or partial
  // file stays behind.
  ~File();
  File(File&&) noexcept = default;
  File& operator=(File&&) noexcept = default;

  const std::string& path() const { return path_; }
  // Whether open() verified the file's length and SHA-256 against rave's header (false: a file without one).
  bool sealed() const { return sealed_; }
  // Whether the file lists its datasets in a manifest (open() checked it against the file's datasets).
  bool has_manifest() const;
  void flush();
  void close();

  bool exists(const std::string& name) const;  // dataset or group
  // Dataset paths below `group`, recursively, relative to it, in HDF5's name order. IoError when an object
  // cannot be reached (damaged metadata).
  std::vector<std::string> datasets(const std::string& group = "/") const;
  // Attributes of the root and of every object below it.
  int64_t attribute_count() const;
  std::vector<int64_t> shape(const std::string& name) const;
  // Whether the dataset holds strings (read_strings) rather than numbers (read).
  bool is_text(const std::string& name) const;
  // Whether the dataset carries the Fletcher-32 filter (its chunks are verified whenever they are read).
  bool checksummed(const std::string& name) const;

  // Numeric datasets: float32/64, int8/16/32/64, uint8 and bool map to the torch dtype of the same kind
  // (0-d dataset -> 0-d tensor). IoError when the dimensions claim more data than the file stores for it.
  torch::Tensor read(const std::string& name) const;
  // A 0-d numeric dataset (tau, a count): IoError naming the file and the dataset when it has another shape.
  torch::Tensor read_scalar(const std::string& name) const;
  // Writes a contiguous CPU copy of `tensor`; intermediate groups are created.
  void write(const std::string& name, const torch::Tensor& tensor, const WriteOptions& options = {});

  // Strings (variable-length UTF-8, as h5py writes them; fixed-length also read).
  std::string read_string(const std::string& name) const;
  std::vector<std::string> read_strings(const std::string& name) const;
  void write_string(const std::string& name, const std::string& value);
  void write_strings(const std::string& name, const std::vector<std::string>& values);

  // Attributes of any object ("/" for the file).
  bool has_attribute(const std::string& object, const std::string& name) const;
  std::string attribute_string(const std::string& object, const std::string& name) const;
  std::vector<std::string> attribute_strings(const std::string& object, const std::string& name) const;
  int64_t attribute_int(const std::string& object, const std::string& name) const;
  double attribute_double(const std::string& object, const std::string& name) const;
  void set_attribute(const std::string& object, const std::string& name, const std::string& value);
  void set_attribute(const std::string& object, const std::string& name, const char* value);
  void set_attribute(const std::string& object, const std::string& name, int64_t value);
  void set_attribute(const std::string& object, const std::string& name, double value);

 private:
  File(std::string path, Handle file, bool sealed = false)
      : path_(std::move(path)), file_(std::move(file)), sealed_(sealed) {}
  [[noreturn]] void fail(const std::string& what, const std::string& object) const;
  bool created() const;  // by create(): built in memory
  // Calls `visit` with each object below `group` (opened) and its path relative to it; IoError when the
  // traversal cannot reach every object.
  void visit_objects(const std::string& group, const std::function<void(hid_t, const std::string&)>& visit) const;
  void write_manifest();
  void check_manifest() const;
  void check_stored_size(hid_t dataset, const std::string& name, uint64_t elements, uint64_t element_size) const;
  Handle open_dataset(const std::string& name) const;
  // The dataset's dimensions; IoError when its dataspace cannot be read or claims more than a tensor can hold.
  std::vector<hsize_t> dimensions(hid_t dataset, const std::string& name) const;
  Handle open_object(const std::string& object) const;
  Handle open_attribute(const std::string& object, const std::string& name) const;
  // An attribute that must hold exactly one value (IoError otherwise), for the readers of one value.
  Handle open_single_value_attribute(const std::string& object, const std::string& name) const;
  Handle create_dataset(const std::string& name, hid_t type, hid_t space, hid_t properties);
  // A scalar attribute, or with `length` a 1-D one of that many elements.
  void write_attribute(const std::string& object, const std::string& name, hid_t type, const void* data,
                       std::optional<hsize_t> length = std::nullopt);

  std::string path_;
  Handle file_;
  bool sealed_ = false;
};

}  // namespace rave::io::h5

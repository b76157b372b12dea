#include "io/h5.h"

#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <set>
#include <vector>

#include "core/error.h"
#include "io/file_write.h"
#include "io/h5_seal.h"

namespace rave::io::h5 {
namespace {

// HDF5's Fletcher-32 filter needs chunked storage, which a 0-d dataset cannot have. Scalars (tau, the schedule's
// counters, Adam's step) carry a CRC-32 of their bytes in this attribute instead, written and verified here.
constexpr const char* kScalarChecksum = "crc32";

// The root attribute listing every dataset the writer wrote (strings, HDF5's name order). A checksum proves the
// bytes of a dataset that is read; only a list from the writer shows that a dataset was removed, or can no longer
// be reached, after it wrote the file.
constexpr const char* kManifest = "manifest";

// Deflate's largest compression ratio: no stored byte expands to more than this many.
constexpr uint64_t kMaxCompression = 1032;

int64_t bytes_crc32(const torch::Tensor& scalar) {
  return int64_t(crc32(0L, static_cast<const Bytef*>(scalar.data_ptr()), uInt(scalar.nbytes())));
}

// HDF5 prints its whole error stack to stderr by default; rave reports one line instead.
void silence_hdf5() {
  static const bool silenced = [] {
    H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
    return true;
  }();
  (void)silenced;
}

// The innermost message of HDF5's current error stack (e.g. "data error detected by Fletcher32 checksum").
std::string hdf5_reason() {
  std::string reason;
  H5Ewalk2(
      H5E_DEFAULT, H5E_WALK_UPWARD,
      [](unsigned n, const H5E_error2_t* error, void* out) -> herr_t {
        if (n == 0 && error->desc) *static_cast<std::string*>(out) = error->desc;
        return 0;
      },
      &reason);
  H5Eclear2(H5E_DEFAULT);
  return reason;
}

hid_t native_type(const torch::ScalarType dtype) {
  switch (dtype) {
    case torch::kFloat32: return H5T_NATIVE_FLOAT;
    case torch::kFloat64: return H5T_NATIVE_DOUBLE;
    case torch::kInt64: return H5T_NATIVE_INT64;
    case torch::kInt32: return H5T_NATIVE_INT32;
    case torch::kInt16: return H5T_NATIVE_INT16;
    case torch::kInt8: return H5T_NATIVE_INT8;
    case torch::kUInt8: return H5T_NATIVE_UINT8;
    default: return -1;
  }
}

// The torch dtype a stored type is read as: the same kind, at least as wide.
torch::ScalarType tensor_type(hid_t file_type) {
  const size_t size = H5Tget_size(file_type);
  switch (H5Tget_class(file_type)) {
    case H5T_FLOAT: return size > 4 ? torch::kFloat64 : torch::kFloat32;
    case H5T_ENUM: return torch::kBool;  // h5py stores bool as an int8 enum {FALSE, TRUE}
    case H5T_INTEGER:
      if (H5Tget_sign(file_type) == H5T_SGN_NONE) return size == 1 ? torch::kUInt8 : torch::kInt64;
      return size == 1 ? torch::kInt8 : size == 2 ? torch::kInt16 : size == 4 ? torch::kInt32 : torch::kInt64;
    default: return torch::ScalarType::Undefined;
  }
}

Handle utf8_string_type() {
  Handle type(H5Tcopy(H5T_C_S1));
  H5Tset_size(type.get(), H5T_VARIABLE);
  H5Tset_cset(type.get(), H5T_CSET_UTF8);
  return type;
}

// The product of `dims`, saturated at the largest uint64_t (dimensions from a damaged file can overflow it).
uint64_t element_count(const std::vector<hsize_t>& dims) {
  uint64_t count = 1;
  for (const hsize_t d : dims) {
    if (d != 0 && count > UINT64_MAX / d) return UINT64_MAX;
    count *= d;
  }
  return count;
}

}  // namespace

Handle::~Handle() {
  if (valid()) H5Idec_ref(id_);
}

Handle& Handle::operator=(Handle&& other) noexcept {
  if (this != &other) {
    if (valid()) H5Idec_ref(id_);
    id_ = other.release();
  }
  return *this;
}

hid_t Handle::release() {
  const hid_t id = id_;
  id_ = -1;
  return id;
}

File File::open(const std::string& path, Unsealed unsealed) {
  silence_hdf5();
  // Before HDF5 reads a byte: a damaged file must be reported as damaged, not parsed (see io/h5_seal).
  const Seal seal = verify_seal(path);
  if (seal == Seal::not_hdf5 || H5Fis_hdf5(path.c_str()) <= 0) {
    throw IoError(path + ": missing, unreadable or not an HDF5 file", "check the path; h5ls can inspect HDF5 files");
  }
  if (seal == Seal::absent && unsealed == Unsealed::refuse) {
    throw IoError(path + ": no rave header with the file's SHA-256 (written by another tool, or by rave before it "
                      "wrote one): rave loads only checkpoints it can verify before libhdf5 parses them",
                  "rave inspect " + path + " --reseal NEW.h5 checks every dataset's checksum and writes NEW.h5 with "
                  "the header");
  }
  Handle handle(H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT));
  if (!handle.valid()) throw IoError(path + ": cannot open HDF5 file: " + hdf5_reason());
  File file(path, std::move(handle), seal == Seal::verified);
  file.check_manifest();
  return file;
}

File File::create(const std::string& path) {
  silence_hdf5();
  // Like every output of rave (run directories, enhanced images), a file may go into a folder that does not
  // exist yet: `rave import --to weights/x.h5` on a fresh checkout.
  const std::filesystem::path folder = std::filesystem::absolute(path).parent_path();
  std::error_code error;
  std::filesystem::create_directories(folder, error);
  if (error) throw IoError(path + ": cannot create the folder " + folder.string() + ": " + error.message());
  // The file is built in memory and written by close() with plain, checked writes: HDF5's own file driver, on a
  // full disk, leaves the library holding a file it can neither flush nor close, and the process crashed at exit.
  // The path is created empty now, so that an unwritable folder is reported before the work, not after it.
  if (!std::ofstream(path, std::ios::binary | std::ios::trunc)) {
    throw IoError(path + ": cannot create the file: " + std::strerror(errno), "check that the folder is writable");
  }
  Handle access(H5Pcreate(H5P_FILE_ACCESS));
  // The userblock: room for rave's header before the HDF5 data, filled in by close().
  Handle creation(H5Pcreate(H5P_FILE_CREATE));
  Handle file;
  if (access.valid() && creation.valid() && H5Pset_fapl_core(access.get(), 1 << 20, /*backing_store=*/0) >= 0 &&
      H5Pset_userblock(creation.get(), kSealSize) >= 0) {
    file = Handle(H5Fcreate(path.c_str(), H5F_ACC_TRUNC, creation.get(), access.get()));
  }
  if (!file.valid()) throw IoError(path + ": cannot create HDF5 file: " + hdf5_reason());
  return File(path, std::move(file));
}

void File::fail(const std::string& what, const std::string& object) const {
  const std::string reason = hdf5_reason();
  throw IoError(path_ + ": " + what + " '" + object + "'" + (reason.empty() ? "" : ": " + reason));
}

void File::flush() {
  if (H5Fflush(file_.get(), H5F_SCOPE_GLOBAL) < 0) fail("cannot flush", "/");
}

File::~File() {
  if (!file_.valid() || !created()) return;
  file_ = Handle();  // discards the image
  std::remove(path_.c_str());
}

bool File::created() const {
  const Handle access(H5Fget_access_plist(file_.get()));
  return access.valid() && H5Pget_driver(access.get()) == H5FD_CORE;
}

void File::close() {
  if (!file_.valid()) return;
  if (!created()) {
    if (H5Fclose(file_.release()) < 0) fail("cannot close", "/");
    return;
  }
  write_manifest();
  if (H5Fflush(file_.get(), H5F_SCOPE_GLOBAL) < 0) fail("cannot flush", "/");
  // HDF5's image of the file leaves the userblock out: it goes after the room for the header, which is then
  // computed over it, so that the file is assembled without a second copy of its content.
  const ssize_t size = H5Fget_file_image(file_.get(), nullptr, 0);
  if (size < 0) fail("cannot serialise", "/");
  std::vector<char> bytes(kSealSize + size_t(size), 0);
  char* image = bytes.data() + kSealSize;
  if (H5Fget_file_image(file_.get(), image, size_t(size)) != size) fail("cannot serialise", "/");
  if (size < 8 || std::memcmp(image, kHdf5Signature, 8) != 0) {
    throw IoError(path_ + ": HDF5's image of the file does not start with its superblock",
                  "this HDF5 library lays out file images unlike the ones rave was tested with; please report it");
  }
  const std::string header = seal_header(image, size_t(size));
  std::memcpy(bytes.data(), header.data(), kSealSize);
  if (H5Fclose(file_.release()) < 0) fail("cannot close", "/");
  write_whole_file(path_, bytes.data(), bytes.size());
}

bool File::has_manifest() const { return has_attribute("/", kManifest); }

void File::write_manifest() {
  const auto names = datasets();
  Handle type = utf8_string_type();
  std::vector<const char*> raw;
  for (const auto& name : names) raw.push_back(name.c_str());
  write_attribute("/", kManifest, type.get(), raw.data(), raw.size());
}

void File::check_manifest() const {
  if (!has_manifest()) return;
  const auto listed = attribute_strings("/", kManifest);
  const auto found = datasets();
  if (listed == found) return;
  const std::set<std::string> in_list(listed.begin(), listed.end()), in_file(found.begin(), found.end());
  std::vector<std::string> missing, unlisted;
  std::set_difference(in_list.begin(), in_list.end(), in_file.begin(), in_file.end(), std::back_inserter(missing));
  std::set_difference(in_file.begin(), in_file.end(), in_list.begin(), in_list.end(), std::back_inserter(unlisted));
  const auto quoted = [](const std::vector<std::string>& names) {
    std::string text;
    for (size_t i = 0; i < names.size() && i < 5; ++i) text += (i ? ", '" : "'") + names[i] + "'";
    return names.size() > 5 ? text + " and " + std::to_string(names.size() - 5) + " more" : text;
  };
  std::string what = path_ + ": the file's datasets differ from the manifest rave wrote with them:";
  if (!missing.empty()) what += " missing " + quoted(missing) + (unlisted.empty() ? "" : ";");
  if (!unlisted.empty()) what += " not listed " + quoted(unlisted);
  throw IoError(what, kDamagedFileHint);
}

bool File::exists(const std::string& name) const {
  // H5Lexists needs every parent to exist, so walk the path one component at a time.
  std::string prefix;
  size_t start = name[0] == '/' ? 1 : 0;
  while (start <= name.size()) {
    const size_t slash = name.find('/', start);
    prefix = name.substr(0, slash);
    if (!prefix.empty() && prefix != "/" && H5Lexists(file_.get(), prefix.c_str(), H5P_DEFAULT) <= 0) return false;
    if (slash == std::string::npos) break;
    start = slash + 1;
  }
  return true;
}

void File::visit_objects(const std::string& group,
                         const std::function<void(hid_t, const std::string&)>& visit) const {
  struct Visit {
    hid_t group;
    const std::function<void(hid_t, const std::string&)>& visit;
  };
  Handle g(H5Gopen2(file_.get(), group.c_str(), H5P_DEFAULT));
  if (!g.valid()) fail("no group", group);
  Visit state{g.get(), visit};
  // A link that leads nowhere, or a traversal that stops early, means damaged metadata: listing only the objects
  // that could be reached would let a damaged file pass as complete.
  const herr_t visited = H5Lvisit(
      g.get(), H5_INDEX_NAME, H5_ITER_INC,
      [](hid_t, const char* name, const H5L_info_t*, void* data) -> herr_t {
        auto* v = static_cast<Visit*>(data);
        Handle object(H5Oopen(v->group, name, H5P_DEFAULT));
        if (!object.valid()) return -1;
        v->visit(object.get(), name);
        return 0;
      },
      &state);
  if (visited < 0) fail("cannot list every object below", group);
}

std::vector<std::string> File::datasets(const std::string& group) const {
  std::vector<std::string> names;
  visit_objects(group, [&](hid_t object, const std::string& name) {
    if (H5Iget_type(object) == H5I_DATASET) names.push_back(name);
  });
  return names;
}

int64_t File::attribute_count() const {
  const auto count = [&](hid_t object, const std::string& name) {
    hsize_t index = 0;
    int64_t n = 0;
    const herr_t iterated = H5Aiterate2(
        object, H5_INDEX_NAME, H5_ITER_INC, &index,
        [](hid_t, const char*, const H5A_info_t*, void* data) -> herr_t {
          ++*static_cast<int64_t*>(data);
          return 0;
        },
        &n);
    if (iterated < 0) fail("cannot list the attributes of", name);
    return n;
  };
  Handle root(H5Oopen(file_.get(), "/", H5P_DEFAULT));
  if (!root.valid()) fail("cannot open object", "/");
  int64_t total = count(root.get(), "/");
  visit_objects("/", [&](hid_t object, const std::string& name) { total += count(object, name); });
  return total;
}

void File::check_stored_size(hid_t dataset, const std::string& name, uint64_t elements, uint64_t element_size) const {
  // The dimensions come from the file: a damaged or crafted header can claim 2^40 elements, which must be reported
  // as damage, not met with an allocation of terabytes. What the data takes must fit in what the file stores for
  // it (compressed: at most deflate's ratio), and that in the file.
  Handle properties(H5Dget_create_plist(dataset));
  bool compressed = false;
  for (int i = 0, n = H5Pget_nfilters(properties.get()); i < n; ++i) {
    unsigned flags = 0, filter_config = 0;
    size_t values = 0;
    const H5Z_filter_t filter = H5Pget_filter2(properties.get(), unsigned(i), &flags, &values, nullptr, 0, nullptr,
                                               &filter_config);
    compressed |= filter != H5Z_FILTER_FLETCHER32;
  }
  const uint64_t stored = H5Dget_storage_size(dataset);
  hsize_t file_size = 0;
  H5Fget_filesize(file_.get(), &file_size);
  const uint64_t limit = stored > file_size ? 0 : compressed ? stored * kMaxCompression : stored;
  const bool fits = elements == 0 || (element_size != 0 && elements <= limit / element_size);
  H5Eclear2(H5E_DEFAULT);
  if (fits) return;
  throw IoError(path_ + ": dataset '" + name + "' claims " + std::to_string(elements) + " elements of " +
                    std::to_string(element_size) + " bytes, but the file stores " + std::to_string(stored) +
                    " bytes for it: the file is damaged",
                kDamagedFileHint);
}

Handle File::open_dataset(const std::string& name) const {
  if (!exists(name)) throw IoError(path_ + ": missing dataset '" + name + "'");
  Handle dataset(H5Dopen2(file_.get(), name.c_str(), H5P_DEFAULT));
  if (!dataset.valid()) fail("cannot open dataset", name);
  return dataset;
}

std::vector<hsize_t> File::dimensions(hid_t dataset, const std::string& name) const {
  Handle space(H5Dget_space(dataset));
  const int rank = H5Sget_simple_extent_ndims(space.get());
  std::vector<hsize_t> dims(size_t(std::max(0, rank)));
  if (rank < 0 || H5Sget_simple_extent_dims(space.get(), dims.data(), nullptr) < 0) {
    fail("cannot read the dimensions of dataset", name);
  }
  for (const hsize_t d : dims) {
    if (d > hsize_t(INT64_MAX)) {
      throw IoError(path_ + ": dataset '" + name + "' claims a dimension of " + std::to_string(d) +
                        ": the file is damaged",
                    kDamagedFileHint);
    }
  }
  return dims;
}

std::vector<int64_t> File::shape(const std::string& name) const {
  Handle dataset = open_dataset(name);
  const auto dims = dimensions(dataset.get(), name);
  return {dims.begin(), dims.end()};
}

bool File::is_text(const std::string& name) const {
  Handle dataset = open_dataset(name);
  Handle type(H5Dget_type(dataset.get()));
  return H5Tget_class(type.get()) == H5T_STRING;
}

bool File::checksummed(const std::string& name) const {
  Handle dataset = open_dataset(name);
  Handle properties(H5Dget_create_plist(dataset.get()));
  unsigned flags = 0;
  size_t count = 0;
  const bool found = H5Pget_filter_by_id2(properties.get(), H5Z_FILTER_FLETCHER32, &flags, &count, nullptr, 0,
                                          nullptr, nullptr) >= 0;
  H5Eclear2(H5E_DEFAULT);  // "filter not found" is an answer here, not an error
  return found || has_attribute(name, kScalarChecksum);
}

torch::Tensor File::read(const std::string& name) const {
  Handle dataset = open_dataset(name);
  Handle file_type(H5Dget_type(dataset.get()));
  const torch::ScalarType dtype = tensor_type(file_type.get());
  if (dtype == torch::ScalarType::Undefined) throw IoError(path_ + ": dataset '" + name + "' is not numeric");
  const auto dims = dimensions(dataset.get(), name);
  check_stored_size(dataset.get(), name, element_count(dims), H5Tget_size(file_type.get()));
  torch::Tensor tensor = torch::empty(std::vector<int64_t>(dims.begin(), dims.end()),
                                      dtype == torch::kBool ? torch::kUInt8 : dtype);
  if (tensor.numel() > 0 &&
      H5Dread(dataset.get(), native_type(tensor.scalar_type()), H5S_ALL, H5S_ALL, H5P_DEFAULT, tensor.data_ptr()) < 0) {
    fail("cannot read dataset", name);
  }
  if (tensor.dim() == 0 && has_attribute(name, kScalarChecksum) &&
      attribute_int(name, kScalarChecksum) != bytes_crc32(tensor)) {
    throw IoError(path_ + ": dataset '" + name + "' fails its checksum (CRC-32): the file is damaged",
                  "use another copy, or resume from an older checkpoint");
  }
  return dtype == torch::kBool ? tensor.to(torch::kBool) : tensor;
}

torch::Tensor File::read_scalar(const std::string& name) const {
  torch::Tensor value = read(name);
  if (value.dim() != 0) {
    throw IoError(path_ + ": dataset '" + name + "' has shape " + c10::str(value.sizes()) + ", expected a scalar",
                  "the file is damaged or was not written by rave");
  }
  return value;
}

Handle File::create_dataset(const std::string& name, hid_t type, hid_t space, hid_t properties) {
  if (exists(name)) throw IoError(path_ + ": dataset '" + name + "' already exists");
  Handle links(H5Pcreate(H5P_LINK_CREATE));
  H5Pset_create_intermediate_group(links.get(), 1);
  Handle dataset(H5Dcreate2(file_.get(), name.c_str(), type, space, links.get(), properties, H5P_DEFAULT));
  if (!dataset.valid()) fail("cannot create dataset", name);
  return dataset;
}

void File::write(const std::string& name, const torch::Tensor& tensor, const WriteOptions& options) {
  torch::Tensor data = tensor.detach().to(torch::kCPU).contiguous();
  if (data.scalar_type() == torch::kBool) data = data.to(torch::kUInt8);
  const hid_t type = native_type(data.scalar_type());
  if (type < 0) {
    throw IoError(path_ + ": cannot store dataset '" + name + "' of dtype " +
                  std::string(c10::toString(data.scalar_type())));
  }
  const std::vector<hsize_t> dims(data.sizes().begin(), data.sizes().end());
  Handle space(dims.empty() ? H5Screate(H5S_SCALAR) : H5Screate_simple(int(dims.size()), dims.data(), nullptr));
  Handle properties(H5Pcreate(H5P_DATASET_CREATE));
  if (!dims.empty() && data.numel() > 0 && (options.checksum || options.deflate > 0)) {
    H5Pset_chunk(properties.get(), int(dims.size()), dims.data());
    if (options.deflate > 0) {
      H5Pset_shuffle(properties.get());
      H5Pset_deflate(properties.get(), unsigned(options.deflate));
    }
    if (options.checksum) H5Pset_fletcher32(properties.get());
  }
  Handle dataset = create_dataset(name, type, space.get(), properties.get());
  if (data.numel() > 0 && H5Dwrite(dataset.get(), type, H5S_ALL, H5S_ALL, H5P_DEFAULT, data.data_ptr()) < 0) {
    fail("cannot write dataset", name);
  }
  if (dims.empty() && options.checksum) {
    const int64_t crc = bytes_crc32(data);
    write_attribute(name, kScalarChecksum, H5T_NATIVE_INT64, &crc);
  }
}

std::vector<std::string> File::read_strings(const std::string& name) const {
  Handle dataset = open_dataset(name);
  Handle file_type(H5Dget_type(dataset.get()));
  if (H5Tget_class(file_type.get()) != H5T_STRING) throw IoError(path_ + ": dataset '" + name + "' is not text");
  Handle space(H5Dget_space(dataset.get()));
  // At least one stored byte per string, whatever the kind of string.
  check_stored_size(dataset.get(), name, element_count(dimensions(dataset.get(), name)), 1);
  const hssize_t count = H5Sget_simple_extent_npoints(space.get());
  if (count < 0) fail("cannot read the dimensions of dataset", name);
  std::vector<std::string> values;
  if (H5Tis_variable_str(file_type.get()) > 0) {
    Handle memory_type = utf8_string_type();
    std::vector<char*> raw(size_t(count), nullptr);
    if (H5Dread(dataset.get(), memory_type.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, raw.data()) < 0) {
      fail("cannot read text dataset", name);
    }
    for (char* s : raw) values.emplace_back(s ? s : "");
    H5Dvlen_reclaim(memory_type.get(), space.get(), H5P_DEFAULT, raw.data());
  } else {
    const size_t width = H5Tget_size(file_type.get());
    std::vector<char> buffer(width * size_t(count) + 1, '\0');
    if (H5Dread(dataset.get(), file_type.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, buffer.data()) < 0) {
      fail("cannot read text dataset", name);
    }
    for (hssize_t i = 0; i < count; ++i) {
      const char* s = buffer.data() + size_t(i) * width;
      values.emplace_back(s, strnlen(s, width));  // fixed-length strings are NUL- or space-padded
    }
  }
  return values;
}

std::string File::read_string(const std::string& name) const {
  const auto values = read_strings(name);
  if (values.size() != 1) throw IoError(path_ + ": dataset '" + name + "' holds " + std::to_string(values.size()) +
                                        " strings, expected one");
  return values[0];
}

void File::write_strings(const std::string& name, const std::vector<std::string>& values) {
  Handle type = utf8_string_type();
  const hsize_t count = values.size();
  Handle space(H5Screate_simple(1, &count, nullptr));
  Handle dataset = create_dataset(name, type.get(), space.get(), H5P_DEFAULT);
  std::vector<const char*> raw;
  for (const auto& v : values) raw.push_back(v.c_str());
  if (!raw.empty() && H5Dwrite(dataset.get(), type.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, raw.data()) < 0) {
    fail("cannot write text dataset", name);
  }
}

void File::write_string(const std::string& name, const std::string& value) {
  Handle type = utf8_string_type();
  Handle space(H5Screate(H5S_SCALAR));
  Handle dataset = create_dataset(name, type.get(), space.get(), H5P_DEFAULT);
  const char* raw = value.c_str();
  if (H5Dwrite(dataset.get(), type.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, &raw) < 0) fail("cannot write", name);
}

Handle File::open_object(const std::string& object) const {
  if (!exists(object)) throw IoError(path_ + ": missing object '" + object + "'");
  Handle handle(H5Oopen(file_.get(), object.c_str(), H5P_DEFAULT));
  if (!handle.valid()) fail("cannot open object", object);
  return handle;
}

bool File::has_attribute(const std::string& object, const std::string& name) const {
  if (!exists(object)) return false;
  return H5Aexists_by_name(file_.get(), object.c_str(), name.c_str(), H5P_DEFAULT) > 0;
}

Handle File::open_attribute(const std::string& object, const std::string& name) const {
  Handle owner = open_object(object);
  if (H5Aexists(owner.get(), name.c_str()) <= 0) {
    throw IoError(path_ + ": missing attribute '" + name + "' on '" + object + "'");
  }
  Handle attribute(H5Aopen(owner.get(), name.c_str(), H5P_DEFAULT));
  if (!attribute.valid()) fail("cannot open attribute", object + "@" + name);
  return attribute;
}

Handle File::open_single_value_attribute(const std::string& object, const std::string& name) const {
  Handle attribute = open_attribute(object, name);
  // HDF5 reads every element of an attribute into the buffer it is given: one value's buffer must not meet a list
  // (a damaged or crafted file), or the read writes past it.
  Handle space(H5Aget_space(attribute.get()));
  const hssize_t count = H5Sget_simple_extent_npoints(space.get());
  if (count != 1) {
    throw IoError(path_ + ": attribute '" + name + "' on '" + object + "' holds " + std::to_string(count) +
                      " values, expected one: the file is damaged",
                  kDamagedFileHint);
  }
  return attribute;
}

std::string File::attribute_string(const std::string& object, const std::string& name) const {
  Handle attribute = open_single_value_attribute(object, name);
  Handle file_type(H5Aget_type(attribute.get()));
  if (H5Tget_class(file_type.get()) != H5T_STRING) {
    throw IoError(path_ + ": attribute '" + name + "' on '" + object + "' is not text");
  }
  if (H5Tis_variable_str(file_type.get()) > 0) {
    Handle memory_type = utf8_string_type();
    char* raw = nullptr;
    if (H5Aread(attribute.get(), memory_type.get(), &raw) < 0) fail("cannot read attribute", object + "@" + name);
    std::string value = raw ? raw : "";
    Handle space(H5Aget_space(attribute.get()));
    H5Dvlen_reclaim(memory_type.get(), space.get(), H5P_DEFAULT, &raw);
    return value;
  }
  const size_t width = H5Tget_size(file_type.get());
  std::string buffer(width, '\0');
  if (H5Aread(attribute.get(), file_type.get(), buffer.data()) < 0) fail("cannot read attribute", object + "@" + name);
  return buffer.substr(0, strnlen(buffer.c_str(), width));
}

std::vector<std::string> File::attribute_strings(const std::string& object, const std::string& name) const {
  Handle attribute = open_attribute(object, name);
  Handle file_type(H5Aget_type(attribute.get()));
  if (H5Tget_class(file_type.get()) != H5T_STRING || H5Tis_variable_str(file_type.get()) <= 0) {
    throw IoError(path_ + ": attribute '" + name + "' on '" + object + "' is not a list of strings");
  }
  Handle space(H5Aget_space(attribute.get()));
  const hssize_t count = H5Sget_simple_extent_npoints(space.get());
  if (count < 0) fail("cannot read attribute", object + "@" + name);
  std::vector<char*> raw(size_t(count), nullptr);
  Handle memory_type = utf8_string_type();
  if (count > 0 && H5Aread(attribute.get(), memory_type.get(), raw.data()) < 0) {
    fail("cannot read attribute", object + "@" + name);
  }
  std::vector<std::string> values;
  for (char* s : raw) values.emplace_back(s ? s : "");
  if (count > 0) H5Dvlen_reclaim(memory_type.get(), space.get(), H5P_DEFAULT, raw.data());
  return values;
}

int64_t File::attribute_int(const std::string& object, const std::string& name) const {
  Handle attribute = open_single_value_attribute(object, name);
  int64_t value = 0;
  if (H5Aread(attribute.get(), H5T_NATIVE_INT64, &value) < 0) fail("attribute is not an integer:", object + "@" + name);
  return value;
}

double File::attribute_double(const std::string& object, const std::string& name) const {
  Handle attribute = open_single_value_attribute(object, name);
  double value = 0;
  if (H5Aread(attribute.get(), H5T_NATIVE_DOUBLE, &value) < 0) fail("attribute is not a number:", object + "@" + name);
  return value;
}

void File::write_attribute(const std::string& object, const std::string& name, hid_t type, const void* data,
                           std::optional<hsize_t> length) {
  Handle owner = open_object(object);
  if (H5Aexists(owner.get(), name.c_str()) > 0) H5Adelete(owner.get(), name.c_str());
  Handle space(length ? H5Screate_simple(1, &*length, nullptr) : H5Screate(H5S_SCALAR));
  Handle attribute(H5Acreate2(owner.get(), name.c_str(), type, space.get(), H5P_DEFAULT, H5P_DEFAULT));
  // An empty list has nothing to write (and HDF5 refuses the empty buffer).
  const bool empty = length && *length == 0;
  if (!attribute.valid() || (!empty && H5Awrite(attribute.get(), type, data) < 0)) {
    fail("cannot write attribute", object + "@" + name);
  }
}

void File::set_attribute(const std::string& object, const std::string& name, const std::string& value) {
  Handle type = utf8_string_type();
  const char* raw = value.c_str();
  write_attribute(object, name, type.get(), &raw);
}

void File::set_attribute(const std::string& object, const std::string& name, const char* value) {
  set_attribute(object, name, std::string(value));
}

void File::set_attribute(const std::string& object, const std::string& name, int64_t value) {
  write_attribute(object, name, H5T_NATIVE_INT64, &value);
}

void File::set_attribute(const std::string& object, const std::string& name, double value) {
  write_attribute(object, name, H5T_NATIVE_DOUBLE, &value);
}

}  // namespace rave::io::h5

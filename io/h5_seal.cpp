#include "io/h5_seal.h"

#include <cstring>
#include <filesystem>
#include <fstream>

#include "core/error.h"
#include "io/sha256.h"

namespace rave::io::h5 {
namespace {

constexpr const char* kMagic = "rave-hdf5 ";
constexpr int kVersion = 1;
constexpr const char* kNote =
    "# rave's header: HDF5 data follows at byte 512 (its userblock); see docs/checkpoint-format.md\n";

std::string header_text(int version, uint64_t length, const std::string& sha256) {
  std::string text = kMagic + std::to_string(version) + "\nlength " + std::to_string(length) + "\nsha256 " + sha256 +
                     "\n" + kNote;
  text.resize(kSealSize, '\0');
  return text;
}

bool signature_at(std::ifstream& in, uint64_t offset) {
  char bytes[8] = {};
  in.clear();
  in.seekg(std::streamoff(offset));
  return in.read(bytes, 8) && std::memcmp(bytes, kHdf5Signature, 8) == 0;
}

// The value after `key ` on the line starting at `at`; advances `at` past the line. Empty when absent.
std::string field(const std::string& header, size_t& at, const std::string& key) {
  const size_t end = header.find('\n', at);
  if (end == std::string::npos || header.compare(at, key.size(), key) != 0) return "";
  const std::string value = header.substr(at + key.size(), end - at - key.size());
  at = end + 1;
  return value;
}

bool all_of(const std::string& text, const char* alphabet) {
  return !text.empty() && text.find_first_not_of(alphabet) == std::string::npos;
}

}  // namespace

bool starts_like_hdf5(const char* start, std::size_t size) {
  const std::size_t magic = std::strlen(kMagic);
  return (size >= 8 && std::memcmp(start, kHdf5Signature, 8) == 0) ||
         (size >= magic && std::memcmp(start, kMagic, magic) == 0);
}

std::string seal_header(const char* body, std::size_t size) {
  Sha256 hash;
  hash.update(body, size);
  return header_text(kVersion, kSealSize + size, hash.hex());
}

Seal verify_seal(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Seal::not_hdf5;
  if (signature_at(in, 0)) return Seal::absent;
  std::error_code error;
  const uint64_t size = std::filesystem::file_size(path, error);
  if (error) return Seal::not_hdf5;
  std::string header(kSealSize, '\0');
  in.clear();
  in.seekg(0);
  in.read(header.data(), std::streamsize(kSealSize));
  header.resize(size_t(in.gcount()));
  if (header.compare(0, std::strlen(kMagic), kMagic) != 0) {
    for (uint64_t offset = kSealSize; offset + 8 <= size; offset *= 2) {
      if (!signature_at(in, offset)) continue;
      throw IoError(path + ": its HDF5 data starts at byte " + std::to_string(offset) +
                        " after a block that is not rave's header (damaged, or written by another tool)",
                    "use another copy of the file; a userblock of another tool can be removed with h5unjam");
    }
    return Seal::not_hdf5;
  }
  if (header.size() < kSealSize) {
    throw IoError(path + ": truncated: " + std::to_string(size) + " bytes, shorter than rave's header (" +
                      std::to_string(kSealSize) + ")",
                  kDamagedFileHint);
  }
  size_t at = std::strlen(kMagic);
  const std::string version = field(header, at, ""), length = field(header, at, "length "),
                    sha256 = field(header, at, "sha256 ");
  if (all_of(version, "0123456789") && version.size() < 9 && std::stoi(version) > kVersion) {
    throw IoError(path + ": written by a newer rave (header version " + version + ", this rave reads " +
                      std::to_string(kVersion) + ")",
                  "upgrade rave to read it");
  }
  // The header is rebuilt from the values it holds and compared whole: any other byte changed is damage too.
  const bool well_formed = version == std::to_string(kVersion) && all_of(length, "0123456789") &&
                           length.size() < 20 && sha256.size() == 64 && all_of(sha256, "0123456789abcdef");
  if (!well_formed || header != header_text(kVersion, std::stoull(length), sha256)) {
    throw IoError(path + ": damaged header (its first " + std::to_string(kSealSize) +
                      " bytes, where rave records the file's length and SHA-256)",
                  kDamagedFileHint);
  }
  const uint64_t expected = std::stoull(length);
  if (size != expected) {
    throw IoError(path + (size < expected ? ": truncated: " : ": extended: ") + std::to_string(size) +
                      " bytes, rave wrote " + std::to_string(expected),
                  kDamagedFileHint);
  }
  if (sha256_file(path, kSealSize) != sha256) {
    throw IoError(path + ": damaged: the SHA-256 of its content differs from the one rave recorded when writing it",
                  kDamagedFileHint);
  }
  return Seal::verified;
}

}  // namespace rave::io::h5

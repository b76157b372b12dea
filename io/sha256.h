// SHA-256 through OpenSSL's EVP interface: of bytes in memory, of a whole file, or of a file from an offset on
// (rave's HDF5 files hash everything after their header, io/h5_seal). CLIP downloads and imported weights are
// checked and recorded with it too.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

struct evp_md_ctx_st;

namespace rave::io {

class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;

  void update(const void* data, std::size_t size);
  // The digest as 64 lower-case hex digits; the object is spent afterwards.
  std::string hex();

 private:
  evp_md_ctx_st* context_;
};

// SHA-256 of the bytes of `path` from `offset` to its end, as lower-case hex. IoError when it cannot be read.
std::string sha256_file(const std::string& path, std::uint64_t offset = 0);

}  // namespace rave::io

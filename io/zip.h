// Read-only access to the entries of a zip archive whose entries are stored uncompressed, as torch.save and
// TorchScript write them. Parses the central directory (zip64 included), finds each entry's data behind its
// local header (PyTorch pads that header to align the data), and checks every entry's CRC-32 on reading.
#pragma once

#include <cstdint>
#include <fstream>
#include <map>
#include <string>
#include <vector>

namespace rave::io {

class ZipArchive {
 public:
  // Throws IoError naming the file when it is missing or not a zip archive.
  explicit ZipArchive(const std::string& path);

  const std::string& path() const { return path_; }
  // Entry names in central-directory order.
  const std::vector<std::string>& names() const { return names_; }
  bool contains(const std::string& name) const { return entries_.count(name) > 0; }
  uint64_t size(const std::string& name) const;
  // The bytes of one entry; IoError for a missing, compressed, truncated or corrupt (CRC) entry.
  std::string read(const std::string& name);

 private:
  struct Entry {
    uint64_t header_offset = 0;  // of the local file header
    uint64_t size = 0;
    uint16_t method = 0;
    uint32_t crc = 0;
  };
  const Entry& entry(const std::string& name) const;
  std::string read_at(uint64_t offset, uint64_t count, const std::string& what);

  std::string path_;
  std::ifstream stream_;
  uint64_t file_size_ = 0;
  std::vector<std::string> names_;
  std::map<std::string, Entry> entries_;
};

}  // namespace rave::io

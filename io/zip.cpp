#include "io/zip.h"

#include <zlib.h>

#include <algorithm>

#include "core/error.h"

namespace rave::io {
namespace {

// Record signatures and sizes of the zip format (PKWARE APPNOTE 6.3, sections 4.3.7-4.3.16).
constexpr uint32_t kLocalHeader = 0x04034b50, kCentralHeader = 0x02014b50, kEndRecord = 0x06054b50,
                   kZip64EndRecord = 0x06064b50, kZip64Locator = 0x07064b50;
constexpr size_t kLocalHeaderSize = 30, kCentralHeaderSize = 46, kEndRecordSize = 22, kZip64LocatorSize = 20,
                 kZip64EndRecordSize = 56;
constexpr uint16_t kZip64ExtraId = 0x0001;
constexpr uint32_t kSaturated32 = 0xffffffffu;

uint64_t little_endian(const std::string& bytes, size_t at, int width) {
  uint64_t value = 0;
  for (int i = width - 1; i >= 0; --i) value = (value << 8) | uint8_t(bytes[at + size_t(i)]);
  return value;
}

}  // namespace

ZipArchive::ZipArchive(const std::string& path) : path_(path), stream_(path, std::ios::binary) {
  if (!stream_) throw IoError(path + ": cannot open", "check the path");
  stream_.seekg(0, std::ios::end);
  file_size_ = uint64_t(stream_.tellg());
  const std::string hint = "expected a PyTorch zip checkpoint (torch.save of PyTorch >= 1.6)";
  if (file_size_ < kEndRecordSize) throw IoError(path + ": not a zip archive (too short)", hint);

  // The end record sits in the last 22 bytes plus a comment of up to 64 KiB: search backwards for it.
  const uint64_t tail_size = std::min<uint64_t>(file_size_, kEndRecordSize + 0xffff + kZip64LocatorSize);
  const uint64_t tail_start = file_size_ - tail_size;
  const std::string tail = read_at(tail_start, tail_size, "end of central directory");
  size_t end = std::string::npos;
  for (size_t at = tail.size() - kEndRecordSize + 1; at-- > 0;) {
    if (little_endian(tail, at, 4) == kEndRecord) {
      end = at;
      break;
    }
  }
  if (end == std::string::npos) throw IoError(path + ": not a zip archive (no end of central directory)", hint);
  uint64_t count = little_endian(tail, end + 10, 2);
  uint64_t directory_size = little_endian(tail, end + 12, 4);
  uint64_t directory_offset = little_endian(tail, end + 16, 4);
  if (end >= kZip64LocatorSize && little_endian(tail, end - kZip64LocatorSize, 4) == kZip64Locator) {
    const uint64_t record_offset = little_endian(tail, end - kZip64LocatorSize + 8, 8);
    const std::string record = read_at(record_offset, kZip64EndRecordSize, "zip64 end of central directory");
    if (little_endian(record, 0, 4) != kZip64EndRecord) throw IoError(path + ": corrupt zip64 end record", hint);
    count = little_endian(record, 32, 8);
    directory_size = little_endian(record, 40, 8);
    directory_offset = little_endian(record, 48, 8);
  }

  const std::string directory = read_at(directory_offset, directory_size, "central directory");
  size_t at = 0;
  for (uint64_t i = 0; i < count; ++i) {
    if (at + kCentralHeaderSize > directory.size() || little_endian(directory, at, 4) != kCentralHeader) {
      throw IoError(path + ": corrupt zip central directory (entry " + std::to_string(i) + ")", hint);
    }
    Entry e;
    e.method = uint16_t(little_endian(directory, at + 10, 2));
    e.crc = uint32_t(little_endian(directory, at + 16, 4));
    e.size = little_endian(directory, at + 24, 4);
    uint64_t compressed = little_endian(directory, at + 20, 4);
    e.header_offset = little_endian(directory, at + 42, 4);
    const size_t name_length = little_endian(directory, at + 28, 2);
    const size_t extra_length = little_endian(directory, at + 30, 2);
    const size_t comment_length = little_endian(directory, at + 32, 2);
    const size_t record_end = at + kCentralHeaderSize + name_length + extra_length + comment_length;
    if (record_end > directory.size()) throw IoError(path + ": corrupt zip central directory", hint);
    std::string name = directory.substr(at + kCentralHeaderSize, name_length);
    // Zip64: the saturated 32-bit fields are given, in this order, in the extra field with id 1.
    const size_t extra_end = at + kCentralHeaderSize + name_length + extra_length;
    for (size_t x = at + kCentralHeaderSize + name_length; x + 4 <= extra_end;) {
      const uint64_t id = little_endian(directory, x, 2), length = little_endian(directory, x + 2, 2);
      size_t field = x + 4;
      // A field's declared length may reach past the extra data, even past the directory: read only within both.
      const size_t field_end = std::min<size_t>(x + 4 + length, extra_end);
      if (id == kZip64ExtraId) {
        for (uint64_t* value : {&e.size, &compressed, &e.header_offset}) {
          if (*value == kSaturated32 && field + 8 <= field_end) {
            *value = little_endian(directory, field, 8);
            field += 8;
          }
        }
      }
      x += 4 + length;
    }
    if (e.method == 0 && compressed != e.size) throw IoError(path + ": corrupt zip entry '" + name + "'", hint);
    names_.push_back(name);
    entries_[name] = e;
    at = record_end;
  }
}

const ZipArchive::Entry& ZipArchive::entry(const std::string& name) const {
  const auto found = entries_.find(name);
  if (found == entries_.end()) throw IoError(path_ + ": missing zip entry '" + name + "'");
  return found->second;
}

uint64_t ZipArchive::size(const std::string& name) const { return entry(name).size; }

std::string ZipArchive::read_at(uint64_t offset, uint64_t count, const std::string& what) {
  if (offset > file_size_ || count > file_size_ - offset) {
    throw IoError(path_ + ": truncated file (" + what + " lies beyond its end)", "the download may be incomplete");
  }
  std::string bytes(count, '\0');
  stream_.clear();
  stream_.seekg(std::streamoff(offset));
  if (!stream_.read(bytes.data(), std::streamsize(count))) throw IoError(path_ + ": cannot read " + what);
  return bytes;
}

std::string ZipArchive::read(const std::string& name) {
  const Entry& e = entry(name);
  if (e.method != 0) {
    throw IoError(path_ + ": zip entry '" + name + "' is compressed (method " + std::to_string(e.method) + ")",
                  "PyTorch stores entries uncompressed; re-save the file with torch.save");
  }
  const std::string header = read_at(e.header_offset, kLocalHeaderSize, "local header of '" + name + "'");
  if (little_endian(header, 0, 4) != kLocalHeader) throw IoError(path_ + ": corrupt local header of '" + name + "'");
  const uint64_t data_offset =
      e.header_offset + kLocalHeaderSize + little_endian(header, 26, 2) + little_endian(header, 28, 2);
  std::string data = read_at(data_offset, e.size, "entry '" + name + "'");
  // zlib's crc32 takes a 32-bit length, so feed large entries in pieces.
  uLong crc = crc32(0L, Z_NULL, 0);
  constexpr size_t kPiece = size_t(1) << 30;
  for (size_t at = 0; at < data.size(); at += kPiece) {
    crc = crc32(crc, reinterpret_cast<const Bytef*>(data.data() + at), uInt(std::min(data.size() - at, kPiece)));
  }
  if (uint32_t(crc) != e.crc) {
    throw IoError(path_ + ": CRC-32 mismatch in zip entry '" + name + "'", "the file is corrupt; download it again");
  }
  return data;
}

}  // namespace rave::io

// Damage done to an HDF5 file the way a disk, a copy or a person does it, for the tests of what rave's readers
// refuse (issue 19): a byte of an attribute's value, of an object header or of a dataset's data flipped, a chunk
// address that points elsewhere, a truncation; and the edits that make a file look older (no header) or
// consistently altered (header recomputed). Header-only: the suites that use it link rave_io.
#pragma once

#include <gtest/gtest.h>
#include <hdf5.h>

#include <cstdint>
#include <fstream>
#include <functional>
#include <iterator>
#include <string>
#include <vector>

#include "io/h5_seal.h"

namespace rave::test {

inline std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

inline void write_file(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary | std::ios::trunc).write(bytes.data(), std::streamsize(bytes.size()));
}

inline std::string bytes_of(const void* value, size_t size) { return {static_cast<const char*>(value), size}; }

// XORs the byte at `offset` with `mask`.
inline void flip_byte(const std::string& path, size_t offset, unsigned char mask = 0x01) {
  std::string bytes = read_file(path);
  ASSERT_LT(offset, bytes.size());
  bytes[offset] = char(bytes[offset] ^ mask);
  write_file(path, bytes);
}

// XORs byte `byte` of the first place `value`'s bytes occur (an int64 attribute's value, a float in a dataset).
template <typename T>
void flip_value(const std::string& path, T value, size_t byte = 1, unsigned char mask = 0x01) {
  const size_t at = read_file(path).find(bytes_of(&value, sizeof value));
  ASSERT_NE(at, std::string::npos) << "value not found";
  flip_byte(path, at + byte, mask);
}

inline void truncate_file(const std::string& path, size_t size) { write_file(path, read_file(path).substr(0, size)); }

// Removes rave's header: what a file without one (an older rave, another tool) looks like. HDF5 finds its
// superblock at byte 0 instead of 512 and reads the rest as before.
inline void strip_header(const std::string& path) { write_file(path, read_file(path).substr(io::h5::kSealSize)); }

// Recomputes rave's header over the file's content: a file altered consistently, which only the manifest (and
// the datasets' own checksums) can still tell.
inline void reseal(const std::string& path) {
  std::string bytes = read_file(path);
  const std::string header = io::h5::seal_header(bytes.data() + io::h5::kSealSize, bytes.size() - io::h5::kSealSize);
  bytes.replace(0, io::h5::kSealSize, header);
  write_file(path, bytes);
}

// Where HDF5's relative addresses start in the file: 512 after rave's header, 0 without it.
inline uint64_t base_address(const std::string& path) { return read_file(path).compare(0, 4, "rave") == 0 ? 512 : 0; }

// The address of the first chunk of `dataset` as HDF5 stores it (relative to the base address).
inline haddr_t chunk_address(const std::string& path, const std::string& dataset) {
  const hid_t file = H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
  const hid_t data = H5Dopen2(file, dataset.c_str(), H5P_DEFAULT);
  const hid_t space = H5Dget_space(data);
  hsize_t offset[H5S_MAX_RANK] = {};
  unsigned mask = 0;
  haddr_t address = HADDR_UNDEF;
  hsize_t size = 0;
  EXPECT_GE(H5Dget_chunk_info(data, space, 0, offset, &mask, &address, &size), 0) << dataset;
  H5Sclose(space);
  H5Dclose(data);
  H5Fclose(file);
  return address;
}

// Makes the chunk index of `dataset` point at `target` (another dataset's chunk, or HADDR_UNDEF: "never
// written", which HDF5 reads as the fill value, zeros): the stored address is found by its 8 bytes.
inline void redirect_chunk(const std::string& path, const std::string& dataset, haddr_t target) {
  const haddr_t from = chunk_address(path, dataset);
  std::string bytes = read_file(path);
  // HDF5 1.10 reports the address as stored or as an absolute offset; the stored form is the one in the index.
  for (const haddr_t stored : {from, from - base_address(path)}) {
    const std::string pattern = bytes_of(&stored, 8);
    const size_t at = bytes.find(pattern);
    if (at == std::string::npos) continue;
    ASSERT_EQ(bytes.find(pattern, at + 1), std::string::npos) << "the chunk address occurs twice";
    const haddr_t replacement = target == HADDR_UNDEF ? target : target - (from - stored);
    bytes.replace(at, 8, bytes_of(&replacement, 8));
    write_file(path, bytes);
    return;
  }
  ADD_FAILURE() << "the chunk address of " << dataset << " is not in the file";
}

// Flips the version byte of `object`'s header (version 1 headers start with it): HDF5 can no longer open it.
inline void damage_object_header(const std::string& path, const std::string& object) {
  const hid_t file = H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
  H5O_info_t info;
  EXPECT_GE(H5Oget_info_by_name(file, object.c_str(), &info, H5P_DEFAULT), 0) << object;
  H5Fclose(file);
  const uint64_t at = base_address(path) + info.addr;
  ASSERT_EQ(read_file(path)[at], 1) << "not a version 1 object header at " << at;
  flip_byte(path, at, 0x06);
}

struct Damage {
  std::string what;
  std::function<void(const std::string&)> apply;
};

// The damage issue 19 lists, to a checkpoint holding enhancer/cond1.bias and optimizer/enhancer/exp_avg/cond1.bias
// (the same shape), guidance/residual, the int64 root attribute value `seed` and a large dataset of `value`s: each
// is refused by the whole-file hash, and most slipped past the datasets' own checksums (an attribute has none; a
// chunk pointing at another chunk carries that chunk's valid Fletcher-32; a chunk pointing nowhere reads as zeros).
inline std::vector<Damage> checkpoint_damages(int64_t seed, float value) {
  return {
      {"(a) an attribute's value", [=](const std::string& path) { flip_value(path, seed); }},
      {"(b) a chunk address pointing at another chunk",
       [](const std::string& path) {
         redirect_chunk(path, "optimizer/enhancer/exp_avg/cond1.bias", chunk_address(path, "enhancer/cond1.bias"));
       }},
      {"(b) a chunk address pointing nowhere",
       [](const std::string& path) { redirect_chunk(path, "enhancer/cond1.bias", HADDR_UNDEF); }},
      {"(b) an object header", [](const std::string& path) { damage_object_header(path, "guidance/residual"); }},
      {"(c) the data of a large dataset", [=](const std::string& path) { flip_value(path, value, 2); }},
      {"(d) a truncation", [](const std::string& path) { truncate_file(path, read_file(path).size() * 3 / 4); }},
  };
}

}  // namespace rave::test

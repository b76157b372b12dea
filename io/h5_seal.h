// The header rave writes at the start of every HDF5 file it creates, in the file's userblock: 512 bytes that
// HDF5, h5ls and h5py skip (the HDF5 data starts after them), holding the file's length and the SHA-256 of every
// byte after the header. io::h5::File::open checks both before HDF5 parses the file, so any damage (a dataset's
// data, an attribute, the metadata that says where data lies, a truncation) is reported as such, naming the file,
// and HDF5 never parses a damaged file: its parser trusts the addresses and sizes it reads, and crafted files
// can crash it. Files without the header (other tools, rave before it) still open, with only the checksums of
// their datasets.
//
// Layout (text, NUL-padded to 512 bytes):
//   rave-hdf5 1\n               magic and header version
//   length <decimal>\n          the whole file's length in bytes, header included
//   sha256 <64 hex digits>\n    SHA-256 of bytes 512 to the end
//   <a one-line note for a person who looks at the bytes>
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace rave::io::h5 {

// The userblock size rave's files are created with (HDF5 wants a power of two of at least 512).
inline constexpr std::size_t kSealSize = 512;
// What a user can do about a damaged file (the errors of io::h5 say what is damaged).
inline constexpr const char* kDamagedFileHint =
    "use another copy of the file, or resume from an older checkpoint";
// The 8 bytes HDF5's superblock starts with; HDF5 looks for them at byte 0, 512, 1024, 2048, ...
inline constexpr char kHdf5Signature[] = "\x89HDF\r\n\x1a\n";

// Whether a file's first `size` bytes begin like a file io::h5::File::open reads: HDF5's signature or rave's
// header (telling HDF5 files from other formats by their first bytes; 16 are enough).
bool starts_like_hdf5(const char* start, std::size_t size);

// The header of a file whose bytes after the header are `body`.
std::string seal_header(const char* body, std::size_t size);

// What File::open does with an HDF5 file that lacks rave's header (io/h5_seal), which libhdf5 can only parse
// unverified: its parser trusts the addresses and sizes it reads, and a damaged or crafted file can crash it.
enum class Unsealed {
  accept,  // other tools' files (fixtures, h5py-made residual files), and `rave inspect` of any file
  refuse,  // checkpoints loaded to train or enhance from: rave writes the header on every one
};

enum class Seal {
  verified,  // rave's header is present and the length and SHA-256 match
  absent,    // an HDF5 file starting at byte 0: written by another tool or by rave before the header existed
  not_hdf5,  // neither: missing, unreadable, or not HDF5 (the caller reports it)
};

// Checks the header of `path` against its content. IoError naming the file when the header says the file is
// truncated or extended (length), damaged (SHA-256), when the header itself is damaged or of a newer rave, and
// when the HDF5 data starts after a userblock that is not rave's header: rave cannot tell a header whose first
// bytes were damaged from another tool's userblock, and letting HDF5 parse the file would skip the check.
Seal verify_seal(const std::string& path);

}  // namespace rave::io::h5

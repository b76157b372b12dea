// The fuzzer's input as a file, for the readers that take a path (zip, .pth, checkpoint, image): rave reads untrusted
// bytes only from files, so the targets feed them the same way. One file per process, rewritten for every input.
#pragma once

#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <string>

namespace rave::fuzz {

// Writes `size` bytes to <temp>/rave-fuzz-<pid><extension> and removes the file when it goes out of scope.
class InputFile {
 public:
  InputFile(const std::uint8_t* data, std::size_t size, const std::string& extension)
      : path_((std::filesystem::temp_directory_path() / ("rave-fuzz-" + std::to_string(getpid()) + extension))
                  .string()) {
    std::FILE* file = std::fopen(path_.c_str(), "wb");
    // A harness that cannot write its input would test nothing: stop loudly.
    if (!file || std::fwrite(data, 1, size, file) != size || std::fclose(file) != 0) {
      std::perror(path_.c_str());
      std::abort();
    }
  }
  ~InputFile() { std::remove(path_.c_str()); }
  InputFile(const InputFile&) = delete;
  InputFile& operator=(const InputFile&) = delete;

  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

}  // namespace rave::fuzz

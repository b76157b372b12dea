#include "io/file_write.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "core/error.h"

namespace rave::io {
namespace {

[[noreturn]] void fail(const std::string& path, const std::string& what, int error) {
  ::unlink(path.c_str());
  throw IoError(path + ": " + what + ": " + std::strerror(error),
                error == ENOSPC || error == EDQUOT ? "free some space on the disk, or choose another folder"
                                                  : "check that the folder is writable");
}

}  // namespace

void write_whole_file(const std::string& path, const void* data, std::size_t size) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    const int error = errno;
    throw IoError(path + ": cannot open for writing: " + std::strerror(error), "check that the folder is writable");
  }
  const char* bytes = static_cast<const char*>(data);
  std::size_t written = 0;
  while (written < size) {
    const ssize_t n = ::write(fd, bytes + written, size - written);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const int error = n < 0 ? errno : ENOSPC;
      ::close(fd);
      fail(path, "cannot write " + std::to_string(size) + " bytes", error);
    }
    written += std::size_t(n);
  }
  if (::close(fd) != 0) fail(path, "cannot close after writing", errno);
}

}  // namespace rave::io

// The exception types of rave. Every error names what went wrong and, where one exists, how to fix it;
// launch/main turns them into one log line and an exit code (UsageError: 2, everything else: 1).
#pragma once

#include <stdexcept>
#include <string>

namespace rave {

class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& what, std::string hint = {})
      : std::runtime_error(what), hint_(std::move(hint)) {}
  const std::string& hint() const { return hint_; }

 private:
  std::string hint_;
};

// Bad flags, bad config keys or values, unknown subcommands: exit code 2.
class UsageError : public Error {
 public:
  using Error::Error;
};

// A file that is missing, unreadable, corrupt or of the wrong kind. The message names the path.
class IoError : public Error {
 public:
  using Error::Error;
};

// Communication failures (MPI, NCCL): the message names host, rank and the library's error string.
class DistError : public Error {
 public:
  using Error::Error;
};

}  // namespace rave

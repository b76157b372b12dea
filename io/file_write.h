// Writing a whole file so that no failure goes unnoticed: every write and the close are checked (on a full disk
// or over quota the error often shows only at the close, when the last buffered bytes go out), and a file that
// could not be written completely is removed.
#pragma once

#include <cstddef>
#include <string>

namespace rave::io {

// Creates or truncates `path` and writes `size` bytes; IoError naming the path and the errno otherwise.
void write_whole_file(const std::string& path, const void* data, std::size_t size);

}  // namespace rave::io

// A minimal INI reader that remembers where every value came from, so that a bad key or value in a config
// file is reported as "run.ini:12". Syntax: "[section]" headers, "key = value" lines, "#" or ";" comments
// on their own line, blank lines. Keys are "section.key"; "_" in a key is read as "-".
// Not Boost.Program_options' parse_config_file, which rave uses for everything else: its errors name neither the
// file nor the line ("unrecognised option 'train.max_step'"), and it cannot tell an unknown section from a
// misspelt key. OptionSet (io/options.h) stores each entry through Boost, so values convert and validate alike.
#pragma once

#include <string>
#include <vector>

namespace rave::io {

struct IniEntry {
  std::string section;
  std::string key;
  std::string value;
  std::string file;
  int line = 0;

  std::string where() const { return file + ":" + std::to_string(line); }
};

// Throws UsageError (syntax, duplicate keys, keys outside a section) or IoError (unreadable file).
std::vector<IniEntry> read_ini(const std::string& path);
std::vector<IniEntry> parse_ini(const std::string& text, const std::string& origin);

}  // namespace rave::io

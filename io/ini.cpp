#include "io/ini.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "core/error.h"

namespace rave::io {
namespace {

std::string trim(const std::string& s) {
  const auto begin = s.find_first_not_of(" \t\r");
  if (begin == std::string::npos) return {};
  const auto end = s.find_last_not_of(" \t\r");
  return s.substr(begin, end - begin + 1);
}

}  // namespace

std::vector<IniEntry> parse_ini(const std::string& text, const std::string& origin) {
  std::vector<IniEntry> entries;
  std::set<std::string> seen;
  std::istringstream in(text);
  std::string raw, section;
  int line = 0;
  while (std::getline(in, raw)) {
    ++line;
    const std::string where = origin + ":" + std::to_string(line);
    const std::string s = trim(raw);
    if (s.empty() || s[0] == '#' || s[0] == ';') continue;
    if (s.front() == '[') {
      if (s.back() != ']' || s.size() < 3) throw UsageError(where + ": malformed section header '" + s + "'");
      section = trim(s.substr(1, s.size() - 2));
      continue;
    }
    const auto eq = s.find('=');
    if (eq == std::string::npos) {
      throw UsageError(where + ": expected 'key = value', got '" + s + "'");
    }
    std::string key = trim(s.substr(0, eq));
    std::replace(key.begin(), key.end(), '_', '-');
    if (key.empty()) throw UsageError(where + ": empty key");
    if (section.empty()) {
      throw UsageError(where + ": key '" + key + "' is outside any [section]",
                       "put it under [data], [train], [enhancer] or [guidance]");
    }
    if (!seen.insert(section + "." + key).second) {
      throw UsageError(where + ": duplicate key '" + key + "' in [" + section + "]");
    }
    entries.push_back({section, key, trim(s.substr(eq + 1)), origin, line});
  }
  return entries;
}

std::vector<IniEntry> read_ini(const std::string& path) {
  // A folder opens as an empty stream on Linux: without this check `--config configs/` was silently ignored.
  if (std::filesystem::is_directory(path)) {
    throw UsageError("--config " + path + " is a folder, not an INI file", "name a file, e.g. configs/rave.ini");
  }
  std::ifstream in(path);
  if (!in) throw IoError("cannot read config file " + path, "check the path given to --config");
  std::stringstream buffer;
  buffer << in.rdbuf();
  return parse_ini(buffer.str(), path);
}

}  // namespace rave::io

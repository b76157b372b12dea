#include "io/options.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <sstream>

#include "core/error.h"
#include "io/ini.h"

namespace rave::io {

OptionSet::OptionSet(std::string usage) : usage_(std::move(usage)) {}

po::options_description_easy_init OptionSet::section(const std::string& name) {
  for (auto& s : sections_) {
    if (s.name == name) return s.options.add_options();
  }
  sections_.push_back({name, po::options_description(name)});
  return sections_.back().options.add_options();
}

po::options_description_easy_init OptionSet::flags() { return flags_.add_options(); }

void OptionSet::positional(const std::string& name, int max_count) { positional_.add(name.c_str(), max_count); }

po::options_description OptionSet::all() const {
  po::options_description all;
  all.add(flags_);
  for (const auto& s : sections_) all.add(s.options);
  return all;
}

const po::options_description* OptionSet::find_section(const std::string& name) const {
  for (const auto& s : sections_) {
    if (s.name == name) return &s.options;
  }
  return nullptr;
}

po::variables_map OptionSet::parse(int argc, const char* const argv[]) const {
  return parse(std::vector<std::string>(argv + 1, argv + argc));
}

po::variables_map OptionSet::parse(const std::vector<std::string>& args) const {
  const po::options_description description = all();
  po::variables_map values;
  try {
    po::store(po::command_line_parser(args).options(description).positional(positional_).run(), values);
  } catch (const po::error& e) {
    throw UsageError(e.what(), "see --help for the accepted options");
  }

  // Values from the file are stored one at a time after the flags, so that flags win (Boost skips options
  // that already have a final value) and a bad value can be reported with its file and line.
  if (values.count("config") && !values["config"].as<std::string>().empty()) {
    for (const IniEntry& entry : read_ini(values["config"].as<std::string>())) {
      const po::options_description* section = find_section(entry.section);
      if (!section) {
        throw UsageError(entry.where() + ": unknown section [" + entry.section + "]",
                         "sections of this command: see --help");
      }
      if (!section->find_nothrow(entry.key, /*approx=*/false)) {
        throw UsageError(entry.where() + ": unknown key '" + entry.key + "' in [" + entry.section + "]",
                         "keys of this command: see --help");
      }
      po::parsed_options parsed(&description);
      po::option option;
      option.string_key = entry.key;
      option.value = {entry.value};
      option.original_tokens = {entry.key, entry.value};
      parsed.options.push_back(option);
      try {
        po::store(parsed, values);
      } catch (const po::error& e) {
        throw UsageError(entry.where() + ": bad value '" + entry.value + "' for key '" + entry.key + "' in [" +
                         entry.section + "]: " + e.what());
      }
    }
  }
  try {
    po::notify(values);
  } catch (const po::error& e) {
    throw UsageError(e.what(), "see --help for the accepted options");
  }
  return values;
}

std::string OptionSet::help() const {
  std::ostringstream out;
  out << "Usage: " << usage_ << "\n\n" << flags_;
  for (const auto& s : sections_) {
    out << "\n[" << s.name << "] (flags, or keys in the --config INI file)\n";
    po::options_description body;
    for (const auto& option : s.options.options()) body.add(option);
    out << body;
  }
  return out.str();
}

std::string OptionSet::to_ini(const po::variables_map& values) const {
  std::ostringstream out;
  for (const auto& s : sections_) {
    out << "[" << s.name << "]\n";
    for (const auto& option : s.options.options()) {
      const std::string& name = option->long_name();
      if (!values.count(name)) continue;
      out << name << " = " << value_to_string(values[name]) << "\n";
    }
  }
  return out.str();
}

std::string OptionSet::describe(const po::variables_map& values) const {
  std::ostringstream out;
  for (const auto& option : flags_.options()) {
    const std::string& name = option->long_name();
    if (name == "help" || !values.count(name)) continue;
    out << "--" << name << " = " << value_to_string(values[name]) << "\n";
  }
  return out.str() + to_ini(values);
}

std::string value_to_string(const po::variable_value& value) {
  const boost::any& any = value.value();
  if (auto v = boost::any_cast<std::string>(&any)) return *v;
  if (auto v = boost::any_cast<int>(&any)) return std::to_string(*v);
  if (auto v = boost::any_cast<int64_t>(&any)) return std::to_string(*v);
  if (auto v = boost::any_cast<uint64_t>(&any)) return std::to_string(*v);
  if (auto v = boost::any_cast<bool>(&any)) return *v ? "true" : "false";
  if (auto v = boost::any_cast<double>(&any)) return shortest_text(*v);
  if (auto v = boost::any_cast<float>(&any)) return shortest_text(*v);
  if (auto v = boost::any_cast<std::vector<std::string>>(&any)) {
    std::string joined;
    for (const auto& item : *v) joined += (joined.empty() ? "" : ",") + item;
    return joined;
  }
  return "<unprintable>";
}

std::string shortest_text(double value) {
  char text[32];
  // Whole numbers as such: %g would write 60 with one digit as 6e+01.
  if (std::fabs(value) < 1e15 && value == std::trunc(value)) {
    std::snprintf(text, sizeof text, "%.0f", value);
    return text;
  }
  for (int digits = 1; digits <= 17; ++digits) {
    std::snprintf(text, sizeof text, "%.*g", digits, value);
    if (std::strtod(text, nullptr) == value) break;
  }
  // "2e-05" -> "2e-5", as one writes it.
  std::string result = text;
  const size_t exponent = result.find_first_of("eE");
  if (exponent != std::string::npos) {
    size_t digits = exponent + 1;
    if (digits < result.size() && (result[digits] == '-' || result[digits] == '+')) ++digits;
    while (digits + 1 < result.size() && result[digits] == '0') result.erase(digits, 1);
    if (result[exponent + 1] == '+') result.erase(exponent + 1, 1);
  }
  return result;
}

po::typed_value<double>* real_value(double default_value) {
  return po::value<double>()->default_value(default_value, shortest_text(default_value));
}

namespace {

[[noreturn]] void missing_flag(const std::string& name, const std::string& command) {
  throw UsageError(command + " needs --" + name, "see " + command + " --help");
}

}  // namespace

std::string required_value(const po::variables_map& values, const std::string& name, const std::string& command) {
  if (!values.count(name)) missing_flag(name, command);
  return required_value(values[name].as<std::string>(), name, command);
}

const std::string& required_value(const std::string& value, const std::string& name, const std::string& command) {
  if (value.empty()) missing_flag(name, command);
  return value;
}

const std::string& required_value(const std::optional<std::string>& value, const std::string& name,
                                  const std::string& command) {
  if (!value) missing_flag(name, command);
  return *value;
}

void check_range(const std::string& name, int64_t value, int64_t low, int64_t high, const std::string& why) {
  if (value < low || value > high) {
    throw UsageError("--" + name + " " + std::to_string(value) + " is out of range",
                     std::to_string(low) + " to " + std::to_string(high) + why);
  }
}

}  // namespace rave::io

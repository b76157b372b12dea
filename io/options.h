// Options of one subcommand: Boost.Program_options descriptions grouped by INI section, parsed from the
// command line and from an optional --config INI file. Flags win over the file. Unknown keys and bad values
// are UsageErrors naming the flag, or the key with its file:line.
#pragma once

#include <boost/program_options.hpp>

#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <vector>

namespace rave::io {

namespace po = boost::program_options;

class OptionSet {
 public:
  // `usage` is the synopsis line printed by --help ("rave train [options]").
  explicit OptionSet(std::string usage);

  // Options that may also be set in the INI file under [name].
  po::options_description_easy_init section(const std::string& name);
  // Options only accepted on the command line (--help, --config, ...).
  po::options_description_easy_init flags();
  // A positional argument bound to an already declared option (max_count -1 = any number).
  void positional(const std::string& name, int max_count = 1);

  // Throws UsageError; `argv[0]` is the subcommand name and is skipped.
  po::variables_map parse(int argc, const char* const argv[]) const;
  // Same, for an already split argument list (without the subcommand name).
  po::variables_map parse(const std::vector<std::string>& args) const;

  std::string help() const;
  // The effective configuration as INI text (section options only), for checkpoints.
  std::string to_ini(const po::variables_map& values) const;
  // Every option that has a value, the command-line-only ones first ("--output = out/"), then to_ini: what
  // the log records at the start of every subcommand.
  std::string describe(const po::variables_map& values) const;

 private:
  po::options_description all() const;
  const po::options_description* find_section(const std::string& name) const;

  std::string usage_;
  po::options_description flags_{"Options"};
  struct Section {
    std::string name;
    po::options_description options;
  };
  std::deque<Section> sections_;
  po::positional_options_description positional_;
};

// The value of a string option that `command` ("rave residual") cannot run without; UsageError naming the flag
// when it is missing or empty.
std::string required_value(const po::variables_map& values, const std::string& name, const std::string& command);
// The same for a flag read into a field (io/option_binder.h): `value` is empty when the flag was missing.
const std::string& required_value(const std::string& value, const std::string& name, const std::string& command);
// The same for a flag without a default that may be given empty: UsageError only when it was not given.
const std::string& required_value(const std::optional<std::string>& value, const std::string& name,
                                  const std::string& command);

// UsageError naming the flag when `value` lies outside [low, high]: "--batch-size 0 is out of range" with the range as
// the hint, and `why` after it for what a special value means (" (0: never)"). Every count, size and step number a
// user gives is checked this way before any work: unchecked, they trained nothing, allocated terabytes or ran for days.
// The largest batch any command takes (images or texts per forward pass).
inline constexpr int64_t kMaxBatchSize = 4096;
void check_range(const std::string& name, int64_t value, int64_t low, int64_t high, const std::string& why = "");

// Text of one stored option value (strings, integers, floating point, bool, string lists).
std::string value_to_string(const po::variable_value& value);

// The shortest text that reads back as `value` exactly: "2e-5", "0.2", "600" (iostreams and Boost print
// 2e-05 or 2.0000000000000002e-05).
std::string shortest_text(double value);
// A floating-point option whose --help shows its default as shortest_text writes it.
po::typed_value<double>* real_value(double default_value);

}  // namespace rave::io

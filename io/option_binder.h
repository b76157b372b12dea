// One table per command binds each flag to a field of the command's options struct. The same table runs twice:
// declaring, it adds the flags to an OptionSet with the fields' initial values as defaults; reading, it copies the
// parsed values into the fields. So a default lives in one place, the struct (tests that build the struct get what
// users get), and a flag cannot be declared without being read. The INI keys are the flags of the table's sections.
//
//   void bind(io::OptionBinder& b, TrainerOptions& o) {
//     b.section("train");
//     b.bind("batch-size", o.batch_size, "images per rank per step");
//   }
//   declare: io::declare_flags<TrainerOptions>(option_set);
//   read:    const TrainerOptions options = io::read_flags<TrainerOptions>(values);
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <type_traits>

#include "io/options.h"

namespace rave::io {

class OptionBinder {
 public:
  // Declares the flags into `options`.
  explicit OptionBinder(OptionSet& options) : options_(&options) {}
  // Reads the flags from parsed `values`.
  explicit OptionBinder(const po::variables_map& values) : values_(&values) {}
  explicit OptionBinder(po::variables_map&& values) = delete;  // it would read a map that no longer exists

  // The flags bound next go to the INI section [name] ...
  void section(const std::string& name) { section_ = name; }
  // ... or are command-line only.
  void command_line_only() { section_.reset(); }

  // int, int64_t, uint64_t (a flag of int64_t, as seeds have always been given), double, std::string (no default
  // shown when empty) and bool (a switch: --flag sets it).
  template <class T>
  void bind(const std::string& name, T& field, const std::string& help) {
    if (values_) return read(name, field);
    add()(name.c_str(), semantic(field), help.c_str());
  }

  // A field of another type (an enum), given as text: `to_text(field)` and `from_text(text)` convert.
  template <class T, class ToText, class FromText>
  void bind(const std::string& name, T& field, const std::string& help, ToText to_text, FromText from_text) {
    std::string text = to_text(field);
    bind(name, text, help);
    if (values_) field = from_text(text);
  }

  // A path, given as text (no default shown when empty).
  void bind(const std::string& name, std::filesystem::path& field, const std::string& help) {
    bind(name, field, help, [](const std::filesystem::path& path) { return path.string(); },
         [](const std::string& text) { return std::filesystem::path(text); });
  }

  // A flag without a default: the field stays empty unless it is given, so that a command can tell a flag given
  // empty (--out "") from one left out.
  template <class T>
  void bind(const std::string& name, std::optional<T>& field, const std::string& help) {
    if (values_) {
      if (values_->count(name)) field = (*values_)[name].as<T>();
      return;
    }
    add()(name.c_str(), po::value<T>(), help.c_str());
  }

  // The flag `name`, bound before, also takes a word given without a flag name ("rave inspect FILE").
  void positional(const std::string& name) {
    if (options_) options_->positional(name);
  }

 private:
  po::options_description_easy_init add() { return section_ ? options_->section(*section_) : options_->flags(); }

  static const po::value_semantic* semantic(bool field) {
    (void)field;  // a switch always defaults to off
    return po::bool_switch();
  }
  static const po::value_semantic* semantic(double field) { return real_value(field); }
  static const po::value_semantic* semantic(const std::string& field) {
    return field.empty() ? po::value<std::string>() : po::value<std::string>()->default_value(field);
  }
  static const po::value_semantic* semantic(uint64_t field) {
    return po::value<int64_t>()->default_value(static_cast<int64_t>(field));
  }
  template <class T, class = std::enable_if_t<std::is_integral_v<T>>>
  static const po::value_semantic* semantic(T field) {
    return po::value<T>()->default_value(field);
  }

  template <class T>
  void read(const std::string& name, T& field) const {
    if (!values_->count(name)) return;  // a string flag without a default, not given: the field keeps ""
    if constexpr (std::is_same_v<T, uint64_t>) {
      field = static_cast<uint64_t>((*values_)[name].as<int64_t>());
    } else {
      field = (*values_)[name].as<T>();
    }
  }

  OptionSet* options_ = nullptr;
  const po::variables_map* values_ = nullptr;
  std::optional<std::string> section_;
};

// Declares the flags of the table `bind(OptionBinder&, Flags&)` (found next to Flags), a default-constructed Flags'
// fields as their defaults: a command's declare function.
template <class Flags>
void declare_flags(OptionSet& options) {
  Flags defaults;
  OptionBinder declaring(options);
  bind(declaring, defaults);
}

// The parsed `values` read back through the same table.
template <class Flags>
Flags read_flags(const po::variables_map& values) {
  Flags flags;
  OptionBinder reading(values);
  bind(reading, flags);
  return flags;
}

}  // namespace rave::io

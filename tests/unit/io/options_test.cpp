#include "io/options.h"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <optional>

#include "core/error.h"
#include "io/option_binder.h"
#include "tests/support/test_support.h"

namespace rave::io {
namespace {

using po::value;

OptionSet make_options() {
  OptionSet options("rave test [options]");
  options.flags()("config", value<std::string>()->default_value(""), "INI file")("name", value<std::string>(), "x");
  options.section("train")
      ("max-steps", value<int64_t>()->default_value(100), "steps")
      ("lr", real_value(2e-5), "learning rate")
      ("amp", po::bool_switch(), "mixed precision");
  options.section("data")("backlit", value<std::string>(), "folder");
  options.positional("name");
  return options;
}

std::string write_ini(const test::ScratchDir& dir, const std::string& text) {
  const auto path = (dir / "run.ini").string();
  std::ofstream(path) << text;
  return path;
}

// The message of the UsageError `call` throws, "no error" when it throws none.
template <class Call>
std::string usage_error_of(Call call) {
  try {
    call();
  } catch (const UsageError& e) {
    return e.what();
  }
  return "no error";
}

std::string usage_error(const OptionSet& options, const std::vector<std::string>& args) {
  return usage_error_of([&] { options.parse(args); });
}

TEST(Options, DefaultsFlagsAndPositionals) {
  const auto values = make_options().parse({"first", "--max-steps", "7"});
  EXPECT_EQ(values["max-steps"].as<int64_t>(), 7);
  EXPECT_DOUBLE_EQ(values["lr"].as<double>(), 2e-5);
  EXPECT_EQ(values["name"].as<std::string>(), "first");
  EXPECT_FALSE(values["amp"].as<bool>());
}

TEST(Options, FileValuesApplyAndFlagsWin) {
  test::ScratchDir dir;
  const auto ini = write_ini(dir, "[train]\nmax_steps = 50\nlr = 0.001\namp = true\n[data]\nbacklit = /b\n");
  const auto values = make_options().parse({"--config", ini, "--max-steps", "9"});
  EXPECT_EQ(values["max-steps"].as<int64_t>(), 9);  // flag wins
  EXPECT_DOUBLE_EQ(values["lr"].as<double>(), 0.001);
  EXPECT_TRUE(values["amp"].as<bool>());
  EXPECT_EQ(values["backlit"].as<std::string>(), "/b");
  EXPECT_FALSE(values["lr"].defaulted());
}

TEST(Options, UnknownKeyNamesFileAndLine) {
  test::ScratchDir dir;
  const auto ini = write_ini(dir, "[train]\nmax-steps = 5\nlearning-rate = 1\n");
  EXPECT_EQ(usage_error(make_options(), {"--config", ini}), ini + ":3: unknown key 'learning-rate' in [train]");
}

TEST(Options, KeyInTheWrongSectionIsUnknown) {
  test::ScratchDir dir;
  const auto ini = write_ini(dir, "[data]\nlr = 1\n");
  EXPECT_EQ(usage_error(make_options(), {"--config", ini}), ini + ":2: unknown key 'lr' in [data]");
}

TEST(Options, UnknownSectionIsAnError) {
  test::ScratchDir dir;
  const auto ini = write_ini(dir, "[model]\nlr = 1\n");
  EXPECT_EQ(usage_error(make_options(), {"--config", ini}), ini + ":2: unknown section [model]");
}

TEST(Options, BadFileValueNamesKeyAndLine) {
  test::ScratchDir dir;
  const auto ini = write_ini(dir, "[train]\n\nmax-steps = lots\n");
  const std::string error = usage_error(make_options(), {"--config", ini});
  EXPECT_EQ(error.rfind(ini + ":3: bad value 'lots' for key 'max-steps' in [train]", 0), 0u) << error;
}

TEST(Options, BadFlagValueAndUnknownFlag) {
  EXPECT_NE(usage_error(make_options(), {"--max-steps", "x"}).find("max-steps"), std::string::npos);
  EXPECT_NE(usage_error(make_options(), {"--bogus"}).find("unrecognised option '--bogus'"), std::string::npos);
}

TEST(Options, MissingConfigFileIsAnIoError) {
  EXPECT_THROW(make_options().parse({"--config", "/nonexistent.ini"}), IoError);
}

TEST(Options, EffectiveConfigurationIsIniText) {
  const auto options = make_options();
  const auto values = options.parse({"--lr", "0.5", "--backlit", "/data/b"});
  EXPECT_EQ(options.to_ini(values), "[train]\nmax-steps = 100\nlr = 0.5\namp = false\n[data]\nbacklit = /data/b\n");
}

TEST(Options, DescribeListsTheCommandLineFlagsThenTheIniText) {
  const auto options = make_options();
  const auto values = options.parse({"photo.png", "--lr", "3e-4"});
  EXPECT_EQ(options.describe(values), "--config = \n--name = photo.png\n[train]\nmax-steps = 100\nlr = 0.0003\n"
                                      "amp = false\n[data]\n");
}

TEST(Options, NumbersAreWrittenAsShortAsTheyReadBack) {
  EXPECT_EQ(shortest_text(2e-5), "2e-5");
  const double next = std::nextafter(2e-5, 1.0);  // needs all 17 digits
  EXPECT_EQ(std::stod(shortest_text(next)), next);
  EXPECT_EQ(shortest_text(0.2), "0.2");
  EXPECT_EQ(shortest_text(1e-3), "0.001");
  EXPECT_EQ(shortest_text(60), "60");
  EXPECT_EQ(shortest_text(-600), "-600");
  EXPECT_EQ(shortest_text(1.5e20), "1.5e20");
  EXPECT_EQ(shortest_text(1.0 / 3.0), "0.3333333333333333");
  EXPECT_EQ(std::stod(shortest_text(1.0 / 3.0)), 1.0 / 3.0);
}

TEST(Options, HelpShowsFloatingPointDefaultsAsWritten) {
  const std::string help = make_options().help();
  EXPECT_NE(help.find("(=2e-5)"), std::string::npos) << help;
}

TEST(Options, HelpListsSections) {
  const std::string help = make_options().help();
  EXPECT_NE(help.find("Usage: rave test [options]"), std::string::npos);
  EXPECT_NE(help.find("[train]"), std::string::npos);
  EXPECT_NE(help.find("--max-steps"), std::string::npos);
}

// Options in the style of the commands': every default is a field's initial value.
enum class Mode { fast, exact };
struct Example {
  std::string config;
  bool amp = false;
  std::optional<int64_t> limit;
  int64_t steps = 100;
  double lr = 2e-5;
  std::string out = "runs/x";
  uint64_t seed = 1143;
  int threads = 2;
  Mode mode = Mode::exact;
  std::string backlit;
  std::optional<std::string> note;
  std::optional<int> level;
  std::filesystem::path folder = "runs";
  std::string input;
};

void bind(OptionBinder& b, Example& e) {
  b.command_line_only();
  b.bind("config", e.config, "INI file");
  b.bind("amp", e.amp, "mixed precision");
  b.bind("limit", e.limit, "stop after this many steps");
  b.section("train");
  b.bind("steps", e.steps, "steps");
  b.bind("lr", e.lr, "learning rate");
  b.bind("out", e.out, "output folder");
  b.bind("seed", e.seed, "seed");
  b.bind("threads", e.threads, "threads");
  b.bind("mode", e.mode, "fast or exact", [](Mode m) { return m == Mode::fast ? "fast" : "exact"; },
         [](const std::string& text) {
           if (text != "fast" && text != "exact") throw UsageError("--mode " + text + ": expected fast or exact");
           return text == "fast" ? Mode::fast : Mode::exact;
         });
  b.section("data");
  b.bind("backlit", e.backlit, "folder");
  b.command_line_only();
  b.bind("note", e.note, "a note");
  b.bind("level", e.level, "a level");
  b.bind("folder", e.folder, "a folder");
  b.bind("input", e.input, "input file (positional)");
  b.positional("input");
}

OptionSet example_options() {
  OptionSet options("rave example [options]");
  declare_flags<Example>(options);
  return options;
}

Example parsed(const std::vector<std::string>& args) {
  const po::variables_map values = example_options().parse(args);
  return read_flags<Example>(values);
}

TEST(OptionBinder, AnEmptyCommandLineGivesTheStructsDefaults) {
  const Example e = parsed({});
  const Example defaults;
  EXPECT_EQ(e.amp, defaults.amp);
  EXPECT_FALSE(e.limit.has_value());
  EXPECT_EQ(e.steps, defaults.steps);
  EXPECT_EQ(e.lr, defaults.lr);
  EXPECT_EQ(e.out, defaults.out);
  EXPECT_EQ(e.seed, defaults.seed);
  EXPECT_EQ(e.threads, defaults.threads);
  EXPECT_EQ(e.mode, defaults.mode);
  EXPECT_EQ(e.backlit, "");
  EXPECT_FALSE(e.note.has_value());
  EXPECT_FALSE(e.level.has_value());
  EXPECT_EQ(e.folder, defaults.folder);
  EXPECT_EQ(e.input, "");
}

TEST(OptionBinder, FlagsAndTheConfigFileReachTheFields) {
  test::ScratchDir dir;
  const auto ini = write_ini(dir, "[train]\nsteps = 50\nmode = fast\n[data]\nbacklit = /b\n");
  const Example e = parsed({"--config", ini, "--amp", "--limit", "3", "--lr", "0.001", "--seed", "7", "--threads",
                            "4", "--out", "o", "--steps", "9"});
  EXPECT_TRUE(e.amp);
  EXPECT_EQ(e.limit, std::optional<int64_t>(3));
  EXPECT_EQ(e.steps, 9);  // the flag wins over the file
  EXPECT_EQ(e.lr, 0.001);
  EXPECT_EQ(e.out, "o");
  EXPECT_EQ(e.seed, 7u);
  EXPECT_EQ(e.threads, 4);
  EXPECT_EQ(e.mode, Mode::fast);
  EXPECT_EQ(e.backlit, "/b");
}

TEST(OptionBinder, HelpShowsTheFieldsAsDefaults) {
  const std::string help = example_options().help();
  for (const char* shown : {"--steps arg (=100)", "--lr arg (=2e-5)", "--out arg (=runs/x)", "--seed arg (=1143)",
                            "--threads arg (=2)", "--mode arg (=exact)", "--folder arg (=runs)", "[train]", "[data]"}) {
    EXPECT_NE(help.find(shown), std::string::npos) << shown << " in\n" << help;
  }
  for (const char* hidden : {"--backlit arg (=", "--note arg (=", "--level arg (="}) {
    EXPECT_EQ(help.find(hidden), std::string::npos) << hidden;  // an empty string or an unset flag has no default
  }
}

TEST(OptionBinder, OptionalFlagsTellGivenEmptyFromLeftOut) {
  const Example e = parsed({"--note", "", "--level", "3"});
  EXPECT_EQ(e.note, std::optional<std::string>(""));
  EXPECT_EQ(e.level, std::optional<int>(3));
  EXPECT_THROW(parsed({"--level", "high"}), UsageError);
}

TEST(OptionBinder, PathsAndPositionalsReachTheFields) {
  const Example e = parsed({"photo.png", "--folder", "out/plots"});
  EXPECT_EQ(e.input, "photo.png");
  EXPECT_EQ(e.folder, std::filesystem::path("out/plots"));
}

TEST(Options, RequiredValuesOfFieldsFailWithTheFlagsName) {
  EXPECT_EQ(required_value(std::string("a.h5"), "out", "rave x"), "a.h5");
  EXPECT_EQ(required_value(std::optional<std::string>(""), "out", "rave x"), "");  // given, if empty
  EXPECT_EQ(usage_error_of([] { required_value(std::string(), "out", "rave x"); }), "rave x needs --out");
  EXPECT_EQ(usage_error_of([] { required_value(std::optional<std::string>(), "out", "rave x"); }),
            "rave x needs --out");
  EXPECT_EQ(usage_error_of([] { required_value(po::variables_map(), "out", "rave x"); }), "rave x needs --out");
}

TEST(OptionBinder, ConversionErrorsAreUsageErrors) {
  EXPECT_THROW(parsed({"--mode", "slow"}), UsageError);
  EXPECT_THROW(parsed({"--threads", "many"}), UsageError);
}

}  // namespace
}  // namespace rave::io

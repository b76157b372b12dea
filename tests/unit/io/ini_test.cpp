#include "io/ini.h"

#include <gtest/gtest.h>

#include <fstream>

#include "core/error.h"
#include "tests/support/test_support.h"

namespace rave::io {
namespace {

TEST(Ini, ReadsSectionsKeysAndLines) {
  const auto entries = parse_ini("# comment\n[data]\nbacklit = /x/backlit \n\n[train]\n; c\nmax_steps=10\n", "a.ini");
  ASSERT_EQ(entries.size(), 2u);
  EXPECT_EQ(entries[0].section, "data");
  EXPECT_EQ(entries[0].key, "backlit");
  EXPECT_EQ(entries[0].value, "/x/backlit");
  EXPECT_EQ(entries[0].where(), "a.ini:3");
  EXPECT_EQ(entries[1].key, "max-steps");  // underscores read as dashes
  EXPECT_EQ(entries[1].value, "10");
  EXPECT_EQ(entries[1].line, 7);
}

TEST(Ini, ValueMayContainEqualsAndBeEmpty) {
  const auto entries = parse_ini("[s]\na = b=c\nd =\n", "x");
  EXPECT_EQ(entries[0].value, "b=c");
  EXPECT_EQ(entries[1].value, "");
}

void expect_usage_error(const std::string& text, const std::string& fragment) {
  try {
    parse_ini(text, "bad.ini");
    FAIL() << "no error for: " << text;
  } catch (const UsageError& e) {
    EXPECT_NE(std::string(e.what()).find(fragment), std::string::npos) << e.what();
  }
}

TEST(Ini, SyntaxErrorsNameFileAndLine) {
  expect_usage_error("key = 1\n", "bad.ini:1: key 'key' is outside any [section]");
  expect_usage_error("[a]\nnot a pair\n", "bad.ini:2: expected 'key = value'");
  expect_usage_error("[a\n", "bad.ini:1: malformed section header");
  expect_usage_error("[a]\nx=1\n\nx=2\n", "bad.ini:4: duplicate key 'x' in [a]");
}

TEST(Ini, MissingFileIsAnIoError) { EXPECT_THROW(read_ini("/nonexistent/run.ini"), IoError); }

TEST(Ini, ReadsAFile) {
  test::ScratchDir dir;
  std::ofstream(dir / "run.ini") << "[train]\nseed = 3\n";
  const auto entries = read_ini((dir / "run.ini").string());
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_EQ(entries[0].file, (dir / "run.ini").string());
}

}  // namespace
}  // namespace rave::io

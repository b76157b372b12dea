#include "core/progress.h"

#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include <unistd.h>

#include <sstream>

namespace rave::core {
namespace {

TEST(FormatDuration, PicksUnitsByMagnitude) {
  EXPECT_EQ(format_duration(12.44), "12.4s");
  EXPECT_EQ(format_duration(187), "3m07s");
  EXPECT_EQ(format_duration(3720), "1h02m");
  EXPECT_EQ(format_duration(-1), "?");
}

// Captures what Progress logs; the tests run with stderr redirected by CTest, i.e. not a terminal.
class ProgressLog : public testing::Test {
 protected:
  void SetUp() override {
    previous_ = spdlog::default_logger();
    auto logger = std::make_shared<spdlog::logger>("test", std::make_shared<spdlog::sinks::ostream_sink_mt>(out_));
    logger->set_pattern("%v");
    spdlog::set_default_logger(logger);
  }
  void TearDown() override { spdlog::set_default_logger(previous_); }
  std::vector<std::string> lines() const {
    std::vector<std::string> result;
    std::istringstream in(out_.str());
    for (std::string line; std::getline(in, line);) result.push_back(line);
    return result;
  }

  std::ostringstream out_;
  std::shared_ptr<spdlog::logger> previous_;
};

TEST_F(ProgressLog, PlainLinesEveryTenthAndAFinalOne) {
  if (isatty(STDERR_FILENO)) GTEST_SKIP() << "stderr is a terminal: progress redraws in place";
  {
    Progress progress("images", 100, /*enabled=*/true, "img");
    for (int i = 0; i < 100; ++i) progress.advance();
    EXPECT_EQ(progress.done(), 100);
  }  // the destructor prints the final line
  const auto printed = lines();
  ASSERT_EQ(printed.size(), 10u);  // 10%, 20%, ..., 90%, then the final 100%
  EXPECT_EQ(printed[0].rfind("images: 10/100 (10%) ", 0), 0u) << printed[0];
  EXPECT_NE(printed[0].find(" img/s, elapsed "), std::string::npos);
  EXPECT_NE(printed[0].find(", eta "), std::string::npos);
  EXPECT_EQ(printed[9].rfind("images: 100/100 (100%) ", 0), 0u) << printed[9];
}

TEST_F(ProgressLog, UnknownTotalShowsCountAndRate) {
  Progress progress("steps", 0, /*enabled=*/true);
  progress.advance(5);
  progress.finish();
  const auto printed = lines();
  if (isatty(STDERR_FILENO)) GTEST_SKIP();
  ASSERT_EQ(printed.size(), 1u);
  EXPECT_EQ(printed[0].rfind("steps: 5 it, ", 0), 0u) << printed[0];
}

TEST_F(ProgressLog, DisabledOnOtherRanksPrintsNothing) {
  Progress progress("images", 10, /*enabled=*/false);
  for (int i = 0; i < 10; ++i) progress.advance();
  progress.finish();
  EXPECT_TRUE(lines().empty());
}

}  // namespace
}  // namespace rave::core

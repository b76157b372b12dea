#include "dist/progress.h"

#include <gtest/gtest.h>

namespace rave::dist {
namespace {

TEST(FormatDuration, PicksUnitsByMagnitude) {
  EXPECT_EQ(format_duration(12.44), "12.4s");
  EXPECT_EQ(format_duration(187), "3m07s");
  EXPECT_EQ(format_duration(3720), "1h02m");
  EXPECT_EQ(format_duration(-1), "?");
}

TEST(Progress, CountsWhatWasAdvanced) {
  Progress progress("images", 10, /*enabled=*/false);
  for (int i = 0; i < 4; ++i) progress.advance();
  progress.advance(3);
  EXPECT_EQ(progress.done(), 7);
  progress.finish();
}

}  // namespace
}  // namespace rave::dist

// Exact-stem pairing: matches, files without a partner, ambiguous stems and folders that share nothing.
#include "analysis/metrics/pairing.h"

#include <gtest/gtest.h>

#include <fstream>

#include "core/error.h"
#include "tests/support/test_support.h"

namespace rave::analysis {
namespace {

using Paths = std::vector<std::filesystem::path>;

TEST(Pairing, MatchesExactStemsAcrossExtensions) {
  const Pairing p = pair_by_stem({"pred/b.png", "pred/a.png", "pred/10.png"}, {"gt/a.jpg", "gt/b.JPG", "gt/10.png"});
  ASSERT_EQ(p.pairs.size(), 3u);
  EXPECT_EQ(p.pairs[0].stem, "10");
  EXPECT_EQ(p.pairs[1].stem, "a");
  EXPECT_EQ(p.pairs[1].pred, "pred/a.png");
  EXPECT_EQ(p.pairs[1].gt, "gt/a.jpg");
  EXPECT_TRUE(p.unmatched_pred.empty());
  EXPECT_TRUE(p.unmatched_gt.empty());
}

TEST(Pairing, ListsFilesWithoutPartner) {
  // The reference's substring match would pair "1" with "10" and "1 (1)"; exact stems do not.
  const Pairing p = pair_by_stem({"p/1.png", "p/2.png", "p/1 (1).png"}, {"g/10.png", "g/2.png", "g/A.png"});
  ASSERT_EQ(p.pairs.size(), 1u);
  EXPECT_EQ(p.pairs[0].stem, "2");
  EXPECT_EQ(p.unmatched_pred, (Paths{"p/1.png", "p/1 (1).png"}));  // in stem order
  EXPECT_EQ(p.unmatched_gt, (Paths{"g/10.png", "g/A.png"}));
}

TEST(Pairing, StemsAreCaseSensitive) {
  const Pairing p = pair_by_stem({"p/Img.png"}, {"g/img.png"});
  EXPECT_TRUE(p.pairs.empty());
  EXPECT_EQ(p.unmatched_pred.size(), 1u);
}

TEST(Pairing, AmbiguousStemIsAnError) {
  try {
    pair_by_stem({"p/a.png", "p/a.jpg"}, {"g/a.png"});
    FAIL() << "expected UsageError";
  } catch (const UsageError& e) {
    EXPECT_NE(std::string(e.what()).find("p/a.png"), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("p/a.jpg"), std::string::npos);
  }
}

TEST(Pairing, FoldersWithoutCommonStemsFail) {
  test::ScratchDir dir;
  std::filesystem::create_directories(dir / "pred");
  std::filesystem::create_directories(dir / "gt");
  std::ofstream(dir / "pred" / "x.png") << "not read";
  std::ofstream(dir / "gt" / "y.png") << "not read";
  EXPECT_THROW(pair_folders(dir / "pred", dir / "gt"), IoError);
  EXPECT_THROW(pair_folders(dir / "missing", dir / "gt"), IoError);
}

}  // namespace
}  // namespace rave::analysis

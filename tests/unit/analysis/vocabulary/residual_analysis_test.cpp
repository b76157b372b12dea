// What rave analyze and rave correct write: the analysis JSON (read back by the report), the bar chart PNG,
// phrase lists, the per-image attribution (its terms add up to <r, d>) and the provenance of a corrected
// residual file.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <fstream>

#include "analysis/render/bar_plot.h"
#include "analysis/render/run_artifacts.h"
#include "analysis/vocabulary/image_attribution.h"
#include "analysis/vocabulary/phrases.h"
#include "analysis/vocabulary/residual_analysis.h"
#include "analysis/vocabulary/span.h"
#include "core/error.h"
#include "guidance/residual_file.h"
#include "io/image.h"
#include "tests/support/test_support.h"

namespace rave::analysis {
namespace {

VocabularyEmbeddings small_vocabulary() {
  torch::manual_seed(5);
  VocabularyEmbeddings v;
  for (int i = 0; i < 50; ++i) v.texts.push_back("tok" + std::to_string(i) + (i % 2 ? " " : ""));
  v.texts[7] = "caf\xc3\xa9 ";  // non-ASCII: drawn as '?', kept verbatim in JSON
  v.embeddings = torch::randn({50, 8});
  v.string_ids = distinct_text_ids(v.texts);
  return v;
}

TEST(ResidualAnalysis, JsonIsWhatTheReportReads) {
  const VocabularyEmbeddings v = small_vocabulary();
  const torch::Tensor r = unit(torch::randn({8})).to(torch::kFloat32);
  ResidualAnalysis analysis = analyse_tokens(v, r, 5);
  add_phrases(analysis, {"green", "sunset"}, torch::randn({2, 8}), r);
  ASSERT_EQ(analysis.tokens.top.size(), 5u);
  EXPECT_GE(analysis.tokens.top[0].cosine, analysis.tokens.top[4].cosine);
  EXPECT_LE(analysis.tokens.bottom[0].cosine, analysis.tokens.bottom[4].cosine);
  EXPECT_LE(analysis.top_share, analysis.both_share + 1e-12);
  EXPECT_LE(analysis.both_share, 1.0 + 1e-12);

  test::ScratchDir dir;
  {
    std::ofstream out(dir / "analysis.json");
    out << analysis_json(analysis).dump(2);
  }
  const TokenAnalysis read = read_token_analysis(dir / "analysis.json");
  ASSERT_EQ(read.top.size(), 5u);
  EXPECT_EQ(read.top[0].token, analysis.tokens.top[0].text);
  EXPECT_DOUBLE_EQ(read.bottom[4].score, analysis.tokens.bottom[4].cosine);
  const std::string table = analysis_table(analysis);
  EXPECT_NE(table.find("\"green\""), std::string::npos) << table;
  EXPECT_NE(table.find("Share of r (|projection|^2) in the span of the top 5"), std::string::npos) << table;
}

TEST(ResidualAnalysis, BarChartPng) {
  test::ScratchDir dir;
  const std::vector<Bar> bars = {{"caf\xc3\xa9 ", 0.3, series_colour(0)}, {"dark ", -0.2, series_colour(1)}};
  write_bar_chart_png(dir / "sub/chart.png", bars, "title");
  const torch::Tensor image = io::read_image_u8((dir / "sub/chart.png").string());  // IoError if unreadable
  EXPECT_EQ(image.size(1), 900);
  EXPECT_THROW(write_bar_chart_png("/proc/no/chart.png", bars, "title"), IoError);
}

TEST(Phrases, ListsAndFiles) {
  EXPECT_EQ(parse_phrases(" green, sunset ,,indoor scene"),
            (std::vector<std::string>{"green", "sunset", "indoor scene"}));
  test::ScratchDir dir;
  {
    std::ofstream out(dir / "prompts.txt");
    out << "# colour casts\na green photo\n\n  a photo, at sunset \n";
  }
  EXPECT_EQ(parse_phrases("@" + (dir / "prompts.txt").string()),
            (std::vector<std::string>{"a green photo", "a photo, at sunset"}));
  EXPECT_THROW(parse_phrases(" , "), UsageError);
  EXPECT_THROW(parse_phrases("@/nonexistent/prompts.txt"), IoError);
}

TEST(ImageAttribution, TermsAddUpToTheComponentOfR) {
  torch::manual_seed(6);
  FolderEmbeddings welllit{{"w0.png", "w1.png", "w2.png"}, unit(torch::randn({3, 8}) + 1)};
  FolderEmbeddings backlit{{"b0.png", "b1.png"}, unit(torch::randn({2, 8}) - 1)};
  const torch::Tensor d = torch::randn({8});
  const Attribution a = attribute_direction(welllit, backlit, d);
  const guidance::ResidualVector v =
      guidance::residual_from_sums(welllit.embeddings.sum(0), 3, backlit.embeddings.sum(0), 2);
  EXPECT_NEAR(a.total, v.residual.to(torch::kFloat64).dot(unit(d)).item<double>(), 1e-6);
  ASSERT_EQ(a.images.size(), 5u);
  for (size_t i = 1; i < a.images.size(); ++i) EXPECT_GE(a.images[i - 1].contribution, a.images[i].contribution);
  EXPECT_THROW(attribute_direction(welllit, {}, d), Error);
}

TEST(ResidualProvenance, RoundTripAndAbsence) {
  test::ScratchDir dir;
  guidance::ResidualFile file;
  file.vector = guidance::residual_from_sums(torch::tensor({4.0, 1.0}), 2, torch::tensor({0.0, 3.0}), 3);
  file.encoder = "clip tiny";
  file.note = "source";
  guidance::write_residual_file((dir / "plain.h5").string(), file);
  EXPECT_FALSE(guidance::read_residual_file((dir / "plain.h5").string()).provenance.has_value());

  file.provenance = guidance::ResidualProvenance{"plain.h5", "shift-tokens", "r' = n(r - <d, r> d)", "tiny.h5",
                                                 {"a ", "b"}, {}, {0.5, -0.25}};
  guidance::write_residual_file((dir / "shifted.h5").string(), file);
  const auto read = guidance::read_residual_file((dir / "shifted.h5").string()).provenance;
  ASSERT_TRUE(read.has_value());
  EXPECT_EQ(read->source, "plain.h5");
  EXPECT_EQ(read->operation, "shift-tokens");
  EXPECT_EQ(read->formula, "r' = n(r - <d, r> d)");
  EXPECT_EQ(read->text_encoder, "tiny.h5");
  EXPECT_EQ(read->tokens, (std::vector<std::string>{"a ", "b"}));
  EXPECT_TRUE(read->phrases.empty());
  EXPECT_EQ(read->weights, (std::vector<double>{0.5, -0.25}));
}

}  // namespace
}  // namespace rave::analysis

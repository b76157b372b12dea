// The BPE tokenizer against the reference: every line of tokenizer_golden.tsv, every id of decode_golden.tsv
// (decode and re-tokenisation), the spec's test vectors, round trips and truncation.
#include "models/clip/tokenizer.h"

#include <gtest/gtest.h>

#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "core/error.h"
#include "tests/support/test_support.h"

namespace rave::models {
namespace {

std::vector<std::string> split_tabs(const std::string& line) {
  std::vector<std::string> fields;
  std::stringstream stream(line);
  std::string field;
  while (std::getline(stream, field, '\t')) fields.push_back(field);
  if (!line.empty() && line.back() == '\t') fields.emplace_back();
  return fields;
}

std::vector<int32_t> parse_ids(const std::string& text) {
  std::vector<int32_t> ids;
  std::stringstream stream(text);
  for (int32_t id; stream >> id;) ids.push_back(id);
  return ids;
}

std::vector<int32_t> unpadded(std::vector<int32_t> ids) {
  while (!ids.empty() && ids.back() == 0) ids.pop_back();
  return ids;
}

// Rows of a golden TSV (header skipped).
std::vector<std::vector<std::string>> read_tsv(const std::filesystem::path& path) {
  std::ifstream in(path);
  EXPECT_TRUE(in) << path;
  std::vector<std::vector<std::string>> rows;
  std::string line;
  std::getline(in, line);
  while (std::getline(in, line)) rows.push_back(split_tabs(line));
  return rows;
}

class ClipTokenizer : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (!test::fixtures_dir().empty()) {
      tokenizer_ = std::make_unique<Tokenizer>((test::fixtures_dir() / "clip/bpe_simple_vocab_16e6.txt.gz").string());
    }
  }
  static void TearDownTestSuite() { tokenizer_.reset(); }
  void SetUp() override { RAVE_REQUIRE_FIXTURES(); }

  static std::unique_ptr<Tokenizer> tokenizer_;
};
std::unique_ptr<Tokenizer> ClipTokenizer::tokenizer_;

TEST_F(ClipTokenizer, SpecTestVectors) {
  const Tokenizer& t = *tokenizer_;
  EXPECT_EQ(t.vocab_size(), 49408);
  EXPECT_EQ(t.start_of_text(), 49406);
  EXPECT_EQ(t.end_of_text(), 49407);
  EXPECT_EQ(t.encode("X"), std::vector<int32_t>({343}));
  EXPECT_EQ(t.encode("x"), std::vector<int32_t>({343}));
  EXPECT_EQ(t.encode("dark"), std::vector<int32_t>({3144}));
  EXPECT_EQ(t.encode("normal light"), std::vector<int32_t>({5967, 1395}));
  EXPECT_EQ(t.encode("a photo of a cat"), std::vector<int32_t>({320, 1125, 539, 320, 2368}));
  EXPECT_EQ(t.encode("It's 2 cats!!"), std::vector<int32_t>({585, 568, 273, 3989, 748}));
  const std::vector<int32_t> prompt = t.tokenize_ids("X X X X X X X X X X X X X X X X");
  ASSERT_EQ(prompt.size(), 77u);
  EXPECT_EQ(prompt[0], 49406);
  for (int i = 1; i <= 16; ++i) EXPECT_EQ(prompt[i], 343);
  EXPECT_EQ(prompt[17], 49407);
  for (int i = 18; i < 77; ++i) EXPECT_EQ(prompt[i], 0);
}

TEST_F(ClipTokenizer, EveryGoldenString) {
  const auto rows = read_tsv(test::fixtures_dir() / "clip/tokenizer_golden.tsv");
  ASSERT_EQ(rows.size(), 200u);
  for (const auto& row : rows) {
    ASSERT_EQ(row.size(), 6u);
    const std::string text = nlohmann::json::parse(row[0]).get<std::string>();
    SCOPED_TRACE(row[0]);
    EXPECT_EQ(tokenizer_->encode(text), parse_ids(row[2]));
    const std::vector<int32_t> truncated = tokenizer_->tokenize_ids(text, Truncation::kKeepEot);
    EXPECT_EQ(unpadded(truncated), parse_ids(row[1]));
    const int32_t* max = std::max_element(truncated.data(), truncated.data() + truncated.size());
    EXPECT_EQ(max - truncated.data(), std::stoi(row[5]));  // first index of the maximum: what encode_text reads
    if (row[4] == "ok") {
      EXPECT_EQ(tokenizer_->tokenize_ids(text, Truncation::kError), truncated);
    } else {
      EXPECT_EQ(row[4], "RuntimeError");
      EXPECT_THROW(tokenizer_->tokenize_ids(text, Truncation::kError), UsageError);
    }
  }
}

TEST_F(ClipTokenizer, EveryIdDecodesAndRetokenizesLikeTheReference) {
  const auto rows = read_tsv(test::fixtures_dir() / "clip/decode_golden.tsv");
  ASSERT_EQ(rows.size(), 49408u);
  std::set<std::string> distinct;
  int mismatched_decodes = 0, mismatched_ids = 0;
  for (const auto& row : rows) {
    ASSERT_EQ(row.size(), 4u);
    const int32_t id = std::stoi(row[0]);
    const std::string expected = nlohmann::json::parse(row[1]).get<std::string>();
    const std::string decoded = tokenizer_->decode({id});
    distinct.insert(decoded);
    if (decoded != expected && ++mismatched_decodes <= 5) ADD_FAILURE() << "decode(" << id << ") = " << decoded;
    if (unpadded(tokenizer_->tokenize_ids(decoded)) != parse_ids(row[2]) && ++mismatched_ids <= 5) {
      ADD_FAILURE() << "tokenize(decode(" << id << "))";
    }
  }
  EXPECT_EQ(mismatched_decodes, 0);
  EXPECT_EQ(mismatched_ids, 0);
  EXPECT_EQ(distinct.size(), 48930u);
}

TEST_F(ClipTokenizer, RoundTripsCleanText) {
  for (const std::string text : {"a photo of a cat", "backlit photo", "well-lit photo", "caf\u00e9 na\u00efve",
                                 "\u65e5\u672c\u8a9e", "it's 25 degrees"}) {
    // Decoding gives the cleaned text with a space after every word; encoding that again gives the same ids.
    const std::string decoded = tokenizer_->decode(tokenizer_->encode(text));
    EXPECT_EQ(decoded.back(), ' ') << text;
    EXPECT_EQ(tokenizer_->encode(decoded), tokenizer_->encode(text)) << text;
  }
  EXPECT_EQ(tokenizer_->decode(tokenizer_->encode("a photo of a cat")), "a photo of a cat ");
  EXPECT_EQ(tokenizer_->decode({49406, 320, 49407}), "<|startoftext|>a <|endoftext|>");
  EXPECT_THROW(tokenizer_->decode({49408}), UsageError);
  EXPECT_THROW(tokenizer_->decode({-1}), UsageError);
}

TEST_F(ClipTokenizer, Truncation) {
  std::string text;
  for (int i = 0; i < 80; ++i) text += "photo ";
  EXPECT_THROW(tokenizer_->tokenize_ids(text, Truncation::kError), UsageError);
  const std::vector<int32_t> ids = tokenizer_->tokenize_ids(text, Truncation::kKeepEot);
  ASSERT_EQ(ids.size(), 77u);
  EXPECT_EQ(ids.front(), 49406);
  EXPECT_EQ(ids.back(), 49407);
  for (int i = 1; i < 76; ++i) EXPECT_EQ(ids[i], 1125);
  // 75 words fit exactly; 76 do not.
  std::string fits;
  for (int i = 0; i < 75; ++i) fits += "a ";
  EXPECT_EQ(tokenizer_->tokenize_ids(fits, Truncation::kError).back(), 49407);
  EXPECT_THROW(tokenizer_->tokenize_ids(fits + "a", Truncation::kError), UsageError);
  // A shorter context (as used for tests) pads and truncates the same way.
  EXPECT_EQ(tokenizer_->tokenize_ids("a photo", Truncation::kError, 5),
            std::vector<int32_t>({49406, 320, 1125, 49407, 0}));
  EXPECT_EQ(tokenizer_->tokenize_ids("a photo of", Truncation::kKeepEot, 4),
            std::vector<int32_t>({49406, 320, 1125, 49407}));
  const torch::Tensor batch = tokenizer_->tokenize({"dark", "normal light"});
  EXPECT_EQ(batch.dtype(), torch::kInt32);
  EXPECT_EQ(batch.sizes(), torch::IntArrayRef({2, 77}));
  EXPECT_EQ(batch[1][2].item<int32_t>(), 1395);
}

TEST(ClipTokenizerFile, MissingOrDamagedMergesFileIsAnIoError) {
  EXPECT_THROW(Tokenizer("/nonexistent/bpe.txt.gz"), IoError);
  test::ScratchDir dir;
  std::ofstream(dir / "short.txt") << "#version: 0.2\ni n\n";
  try {
    Tokenizer tokenizer((dir / "short.txt").string());
    FAIL() << "expected an IoError";
  } catch (const IoError& e) {
    EXPECT_NE(std::string(e.what()).find("short.txt"), std::string::npos);
  }
}

}  // namespace
}  // namespace rave::models

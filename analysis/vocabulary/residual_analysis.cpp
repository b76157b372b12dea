#include "analysis/vocabulary/residual_analysis.h"

#include <torch/torch.h>

#include <cstdio>
#include <sstream>

#include "analysis/vocabulary/span.h"

namespace rave::analysis {
namespace {

using Json = nlohmann::ordered_json;

// A text as a JSON string literal: quotes show the trailing space of end-of-word tokens, escapes show the rest.
std::string quoted(const std::string& text) {
  return Json(text).dump(-1, ' ', false, Json::error_handler_t::replace);
}

std::string format(const char* pattern, double value) {
  char text[32];
  std::snprintf(text, sizeof text, pattern, value);
  return text;
}

void token_rows(std::ostream& out, const std::vector<TokenMatch>& matches) {
  for (size_t i = 0; i < matches.size(); ++i) {
    char prefix[48];
    std::snprintf(prefix, sizeof prefix, "  %3zu  %+.4f  id %5lld  ", i + 1, matches[i].cosine,
                  static_cast<long long>(matches[i].id));
    out << prefix << quoted(matches[i].text) << "\n";
  }
}

Json token_list(const std::vector<TokenMatch>& matches) {
  Json list = Json::array();
  for (const TokenMatch& m : matches) list.push_back({{"token", m.text}, {"id", m.id}, {"score", m.cosine}});
  return list;
}

}  // namespace

ResidualAnalysis analyse_tokens(const VocabularyEmbeddings& vocabulary, const torch::Tensor& r, int64_t k) {
  ResidualAnalysis analysis;
  analysis.tokens = rank_tokens(vocabulary, r, k);
  const torch::Tensor top = match_embeddings(vocabulary, analysis.tokens.top);
  const torch::Tensor bottom = match_embeddings(vocabulary, analysis.tokens.bottom);
  analysis.top_share = explained_share(r, orthonormal_basis(top));
  analysis.bottom_share = explained_share(r, orthonormal_basis(bottom));
  analysis.both_share = explained_share(r, orthonormal_basis(torch::cat({top, bottom})));
  return analysis;
}

void add_phrases(ResidualAnalysis& analysis, const std::vector<std::string>& phrases, const torch::Tensor& embeddings,
                 const torch::Tensor& r) {
  const torch::Tensor cosines = torch::mv(unit(embeddings), unit(r.flatten()));
  for (size_t i = 0; i < phrases.size(); ++i) {
    analysis.phrases.push_back({phrases[i], cosines[int64_t(i)].item<double>()});
  }
  analysis.phrase_share = explained_share(r, orthonormal_basis(embeddings));
}

std::string analysis_table(const ResidualAnalysis& analysis, size_t top_images) {
  std::ostringstream out;
  const size_t k = analysis.tokens.top.size();
  out << "residual vector " << analysis.residual_file << "\n\n";
  out << "Vocabulary texts most aligned with r (cosine of the text embedding with r):\n";
  token_rows(out, analysis.tokens.top);
  out << "\nVocabulary texts least aligned with r:\n";
  token_rows(out, analysis.tokens.bottom);
  out << "\nShare of r (|projection|^2) in the span of the top " << k << ": " << format("%.4f", analysis.top_share)
      << ", of the bottom " << k << ": " << format("%.4f", analysis.bottom_share)
      << ", of both: " << format("%.4f", analysis.both_share) << "\n";
  if (!analysis.phrases.empty()) {
    out << "\nPhrases (cosine with r):\n";
    for (const PhraseProjection& p : analysis.phrases) {
      out << "  " << format("%+.4f", p.cosine) << "  " << quoted(p.phrase) << "\n";
    }
    out << "Share of r in the span of the phrases: " << format("%.4f", analysis.phrase_share) << "\n";
  }
  if (analysis.attribution) {
    const DirectionAttribution& a = *analysis.attribution;
    out << "\nImages pulling r toward " << quoted(a.phrase) << " (cosine with r " << format("%+.4f", a.cosine)
        << "; the " << a.attribution.images.size() << " terms sum to " << format("%+.4f", a.attribution.total)
        << "):\n";
    for (size_t i = 0; i < std::min(top_images, a.attribution.images.size()); ++i) {
      const ImageContribution& image = a.attribution.images[i];
      char row[80];
      std::snprintf(row, sizeof row, "  %3zu  %+.5f  %-8s  cos %+.4f  ", i + 1, image.contribution,
                    image.welllit ? "well-lit" : "backlit", image.cosine);
      out << row << image.file << "\n";
    }
  }
  return out.str();
}

Json analysis_json(const ResidualAnalysis& analysis) {
  Json j;
  j["residual"] = analysis.residual_file;
  j["k"] = analysis.tokens.top.size();
  j["top"] = token_list(analysis.tokens.top);
  j["bottom"] = token_list(analysis.tokens.bottom);
  j["span_share"] = {{"top", analysis.top_share}, {"bottom", analysis.bottom_share}, {"both", analysis.both_share}};
  if (!analysis.phrases.empty()) {
    Json phrases = Json::array();
    for (const PhraseProjection& p : analysis.phrases) phrases.push_back({{"phrase", p.phrase}, {"cosine", p.cosine}});
    j["phrases"] = phrases;
    j["phrase_span_share"] = analysis.phrase_share;
  }
  if (analysis.attribution) {
    const DirectionAttribution& a = *analysis.attribution;
    Json images = Json::array();
    for (const ImageContribution& image : a.attribution.images) {
      images.push_back({{"file", image.file}, {"set", image.welllit ? "welllit" : "backlit"},
                        {"cosine", image.cosine}, {"contribution", image.contribution}});
    }
    j["attribution"] = {{"phrase", a.phrase}, {"cosine", a.cosine}, {"total", a.attribution.total},
                        {"images", images}};
  }
  return j;
}

std::vector<Bar> token_bars(const TokenRanking& tokens) {
  std::vector<Bar> bars;
  for (const TokenMatch& t : tokens.top) bars.push_back({quoted(t.text), t.cosine, series_colour(0)});
  for (const TokenMatch& t : tokens.bottom) bars.push_back({quoted(t.text), t.cosine, series_colour(1)});
  return bars;
}

}  // namespace rave::analysis

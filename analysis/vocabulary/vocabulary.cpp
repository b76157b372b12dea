#include "analysis/vocabulary/vocabulary.h"

#include <torch/torch.h>

#include <algorithm>
#include <numeric>
#include <unordered_map>

#include "core/progress.h"

namespace rave::analysis {
namespace {

// Token ids of one text, up to and including its first end token (what the encoder reads).
std::vector<int64_t> encoder_input(const models::Tokenizer& tokenizer, const std::string& text, int64_t context) {
  const std::vector<int32_t> ids = tokenizer.tokenize_ids(text, models::Truncation::kKeepEot, context);
  const auto end = std::max_element(ids.begin(), ids.end());  // the first end token: the largest id
  return std::vector<int64_t>(ids.begin(), end + 1);
}

// A run of texts with one tokenized length, encoded in one call.
struct Batch {
  int64_t length;
  std::vector<int64_t> rows;  // indices into the texts
};

// Texts grouped by tokenized length (shortest first, text order within a length), cut into batches. The
// batches depend only on the inputs, never on the number of ranks.
std::vector<Batch> plan_batches(const std::vector<std::vector<int64_t>>& inputs, int64_t batch_size) {
  std::vector<int64_t> order(inputs.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](int64_t a, int64_t b) { return inputs[size_t(a)].size() < inputs[size_t(b)].size(); });
  std::vector<Batch> batches;
  for (const int64_t row : order) {
    const auto length = static_cast<int64_t>(inputs[size_t(row)].size());
    if (batches.empty() || batches.back().length != length ||
        static_cast<int64_t>(batches.back().rows.size()) == batch_size) {
      batches.push_back({length, {}});
    }
    batches.back().rows.push_back(row);
  }
  return batches;
}

}  // namespace

torch::Tensor VocabularyEmbeddings::string_embeddings() const {
  return embeddings.index_select(0, torch::tensor(string_ids, torch::kLong));
}

std::vector<std::string> decode_vocabulary(const models::Tokenizer& tokenizer) {
  std::vector<std::string> texts;
  texts.reserve(size_t(tokenizer.vocab_size()));
  for (int32_t id = 0; id < tokenizer.vocab_size(); ++id) texts.push_back(tokenizer.decode({id}));
  return texts;
}

std::vector<int64_t> distinct_text_ids(const std::vector<std::string>& texts) {
  std::unordered_map<std::string, size_t> slot;  // text -> its position in first-insertion order
  std::vector<int64_t> ids;
  for (size_t id = 0; id < texts.size(); ++id) {
    const auto [it, inserted] = slot.emplace(texts[id], ids.size());
    if (inserted) {
      ids.push_back(int64_t(id));
    } else {
      ids[it->second] = int64_t(id);  // a later id overwrites the dict entry but keeps its position
    }
  }
  return ids;
}

torch::Tensor embed_texts(models::ClipModelImpl& model, const models::Tokenizer& tokenizer,
                          const std::vector<std::string>& texts, dist::Communicator* communicator,
                          const VocabularyEmbeddingOptions& options) {
  std::vector<std::vector<int64_t>> inputs;
  inputs.reserve(texts.size());
  for (const std::string& text : texts) inputs.push_back(encoder_input(tokenizer, text, model.config().context_length));
  const std::vector<Batch> batches = plan_batches(inputs, std::max<int64_t>(1, options.batch_size));

  const int rank = communicator ? communicator->rank() : 0;
  const int world_size = communicator ? communicator->world_size() : 1;
  int64_t my_texts = 0;
  for (size_t b = size_t(rank); b < batches.size(); b += size_t(world_size)) {
    my_texts += int64_t(batches[b].rows.size());
  }
  core::Progress progress("text embeddings", my_texts, options.show_progress && rank == 0, "text");

  const torch::Device device = model.text_projection.device();
  const models::StartTokenCache start = model.cache_start_token(tokenizer.start_of_text());
  // Rows this rank did not compute stay zero, so a sum over the ranks assembles the whole table exactly.
  torch::Tensor rows = torch::zeros({int64_t(texts.size()), model.config().embed_dim});
  {
    c10::InferenceMode inference;
    for (size_t b = size_t(rank); b < batches.size(); b += size_t(world_size)) {
      const Batch& batch = batches[b];
      std::vector<int64_t> flat;
      for (const int64_t row : batch.rows) {
        flat.insert(flat.end(), inputs[size_t(row)].begin(), inputs[size_t(row)].end());
      }
      const torch::Tensor ids = torch::tensor(flat, torch::kLong).view({int64_t(batch.rows.size()), batch.length});
      rows.index_copy_(0, torch::tensor(batch.rows, torch::kLong),
                       model.encode_text_after_start(ids.to(device), start).cpu());
      progress.advance(int64_t(batch.rows.size()));
    }
  }
  progress.finish();
  if (world_size > 1) communicator->all_reduce_sum(rows);
  return rows;
}

VocabularyEmbeddings embed_vocabulary(models::ClipModelImpl& model, const models::Tokenizer& tokenizer,
                                      dist::Communicator* communicator, const VocabularyEmbeddingOptions& options) {
  VocabularyEmbeddings vocabulary;
  vocabulary.texts = decode_vocabulary(tokenizer);
  vocabulary.string_ids = distinct_text_ids(vocabulary.texts);
  // Identical texts have identical inputs: each distinct text is encoded once.
  std::vector<std::string> distinct;
  std::unordered_map<std::string, int64_t> row_of_text;
  for (int64_t s = 0; s < vocabulary.string_count(); ++s) {
    distinct.push_back(vocabulary.string_text(s));
    row_of_text.emplace(distinct.back(), s);
  }
  const torch::Tensor rows = embed_texts(model, tokenizer, distinct, communicator, options);
  std::vector<int64_t> row_of_id;
  row_of_id.reserve(vocabulary.texts.size());
  for (const std::string& text : vocabulary.texts) row_of_id.push_back(row_of_text.at(text));
  vocabulary.embeddings = rows.index_select(0, torch::tensor(row_of_id, torch::kLong));
  return vocabulary;
}

}  // namespace rave::analysis

#include "analysis/vocabulary/vocabulary_cache.h"

#include <spdlog/spdlog.h>
#include <torch/torch.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <unistd.h>

#include "core/error.h"
#include "dist/random.h"
#include "io/h5.h"
#include "rave/version.h"

namespace rave::analysis {
namespace fs = std::filesystem;
namespace {

constexpr const char* kFormat = "rave-vocabulary";
constexpr int64_t kFormatVersion = 1;

// A 64-bit streaming hash (SplitMix64's mixer over 8-byte words): fast enough to hash the 250 MB of a text
// encoder in a fraction of a second, and any changed bit changes the result. Not a cryptographic hash.
class Hasher {
 public:
  void add(const void* data, size_t bytes) {
    const auto* p = static_cast<const unsigned char*>(data);
    for (; bytes >= 8; bytes -= 8, p += 8) {
      uint64_t word;
      std::memcpy(&word, p, 8);
      state_ = dist::mix64(state_ ^ word);
    }
    uint64_t tail = 0;
    std::memcpy(&tail, p, bytes);
    state_ = dist::mix64(state_ ^ tail ^ (uint64_t(bytes) << 56));
  }
  void add(const std::string& text) {
    add(text.data(), text.size());
    add_int(int64_t(text.size()));  // so that ["ab", "c"] and ["a", "bc"] differ
  }
  void add_int(int64_t value) { add(&value, sizeof value); }
  std::string hex() const {
    char text[17];
    std::snprintf(text, sizeof text, "%016llx", static_cast<unsigned long long>(state_));
    return text;
  }

 private:
  uint64_t state_ = 0x243f6a8885a308d3ULL;
};

bool is_text_side(const std::string& name) { return name.rfind("visual.", 0) != 0 && name != "logit_scale"; }

void add_tensor(Hasher& hasher, const std::string& name, const torch::Tensor& tensor) {
  hasher.add(name);
  for (const int64_t size : tensor.sizes()) hasher.add_int(size);
  const torch::Tensor data = tensor.detach().to(torch::kCPU, torch::kFloat32).contiguous();
  hasher.add(data.data_ptr(), size_t(data.nbytes()));
}

// Texts as their UTF-8 bytes end to end plus offsets: exact for every text, including the NUL byte of id 188,
// which HDF5's C strings would cut. In h5py: bytes(t[o[i]:o[i + 1]]).decode().
void write_texts(io::h5::File& out, const std::vector<std::string>& texts) {
  std::vector<int64_t> offsets = {0};
  std::string bytes;
  for (const std::string& text : texts) {
    bytes += text;
    offsets.push_back(int64_t(bytes.size()));
  }
  out.write("text_bytes", torch::from_blob(bytes.data(), {int64_t(bytes.size())}, torch::kUInt8));
  out.write("text_offsets", torch::tensor(offsets, torch::kLong));
}

std::vector<std::string> read_texts(const io::h5::File& in) {
  const torch::Tensor bytes = in.read("text_bytes").to(torch::kUInt8).contiguous();
  const torch::Tensor offsets = in.read("text_offsets").to(torch::kLong).contiguous();
  const auto* b = reinterpret_cast<const char*>(bytes.data_ptr<uint8_t>());
  const int64_t* o = offsets.data_ptr<int64_t>();
  std::vector<std::string> texts;
  for (int64_t i = 0; i + 1 < offsets.numel(); ++i) {
    if (o[i] < 0 || o[i] > o[i + 1] || o[i + 1] > bytes.numel()) {
      throw IoError(in.path() + ": text_offsets do not fit text_bytes", "delete it; the next analysis recomputes it");
    }
    texts.emplace_back(b + o[i], size_t(o[i + 1] - o[i]));
  }
  return texts;
}

std::string utc_now() {
  const std::time_t now = std::time(nullptr);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&now));
  return text;
}

}  // namespace

std::string text_encoder_hash(models::ClipModelImpl& model) {
  Hasher hasher;
  for (const auto& item : model.named_parameters()) {
    if (is_text_side(item.key())) add_tensor(hasher, item.key(), item.value());
  }
  for (const auto& item : model.named_buffers()) {
    if (is_text_side(item.key())) add_tensor(hasher, item.key(), item.value());
  }
  hasher.add(std::to_string(model.config().transformer_heads));  // the heads change the arithmetic, not the shapes
  return hasher.hex();
}

std::string vocabulary_hash(const models::Tokenizer& tokenizer, int64_t context_length) {
  Hasher hasher;
  for (int32_t id = 0; id < tokenizer.vocab_size(); ++id) {
    const std::string text = tokenizer.decode({id});
    hasher.add(text);
    for (const int32_t token : tokenizer.tokenize_ids(text, models::Truncation::kKeepEot, context_length)) {
      hasher.add_int(token);
    }
  }
  return hasher.hex();
}

VocabularyCacheKey vocabulary_cache_key(models::ClipModelImpl& model, const models::Tokenizer& tokenizer) {
  return {text_encoder_hash(model), vocabulary_hash(tokenizer, model.config().context_length)};
}

fs::path cache_dir(const std::string& requested) {
  if (!requested.empty()) return requested;
  if (const char* dir = std::getenv("RAVE_CACHE_DIR"); dir && *dir) return dir;
  if (const char* dir = std::getenv("XDG_CACHE_HOME"); dir && *dir) return fs::path(dir) / "rave";
  if (const char* home = std::getenv("HOME"); home && *home) return fs::path(home) / ".cache" / "rave";
  return ".rave-cache";
}

fs::path vocabulary_cache_path(const fs::path& dir, const VocabularyCacheKey& key) {
  return dir / ("vocabulary-" + key.encoder_hash + "-" + key.vocabulary_hash + ".h5");
}

void write_vocabulary_cache(const fs::path& path, const VocabularyEmbeddings& vocabulary,
                            const VocabularyCacheKey& key, const VocabularySource& source) {
  std::error_code error;
  if (path.has_parent_path()) fs::create_directories(path.parent_path(), error);
  if (error) throw IoError("cannot create the cache folder " + path.parent_path().string() + ": " + error.message());
  // One temporary name per process: two analyses filling the same cache at once each write a whole file.
  const std::string temporary = path.string() + ".tmp" + std::to_string(::getpid());
  {
    io::h5::File out = io::h5::File::create(temporary);
    out.write("embeddings", vocabulary.embeddings);
    write_texts(out, vocabulary.texts);
    out.write("string_ids", torch::tensor(vocabulary.string_ids, torch::kLong));
    out.set_attribute("/", "format", kFormat);
    out.set_attribute("/", "format_version", kFormatVersion);
    out.set_attribute("/", "encoder_hash", key.encoder_hash);
    out.set_attribute("/", "vocabulary_hash", key.vocabulary_hash);
    out.set_attribute("/", "clip", source.clip);
    out.set_attribute("/", "vocab_file", source.vocab_file);
    out.set_attribute("/", "created", utc_now());
    out.set_attribute("/", "rave_version", kVersion);
    out.close();
  }
  fs::rename(temporary, path, error);
  if (error) throw IoError("cannot move " + temporary + " to " + path.string() + ": " + error.message());
}

std::optional<VocabularyEmbeddings> read_vocabulary_cache(const fs::path& path, const VocabularyCacheKey& key) {
  std::error_code error;
  if (!fs::exists(path, error)) return std::nullopt;
  const io::h5::File in = io::h5::File::open(path.string());
  const std::string hint = "delete it; the next analysis recomputes it";
  if (!in.has_attribute("/", "format") || in.attribute_string("/", "format") != kFormat ||
      in.attribute_int("/", "format_version") != kFormatVersion) {
    throw IoError(path.string() + " is not a vocabulary cache of format version " + std::to_string(kFormatVersion),
                  hint);
  }
  if (in.attribute_string("/", "encoder_hash") != key.encoder_hash ||
      in.attribute_string("/", "vocabulary_hash") != key.vocabulary_hash) {
    throw IoError(path.string() + " was computed for another text encoder or vocabulary (hashes " +
                      in.attribute_string("/", "encoder_hash") + "/" + in.attribute_string("/", "vocabulary_hash") +
                      ", expected " + key.encoder_hash + "/" + key.vocabulary_hash + ")",
                  hint);
  }
  VocabularyEmbeddings vocabulary;
  vocabulary.embeddings = in.read("embeddings");
  vocabulary.texts = read_texts(in);
  const torch::Tensor ids = in.read("string_ids").to(torch::kLong).contiguous();
  vocabulary.string_ids.assign(ids.data_ptr<int64_t>(), ids.data_ptr<int64_t>() + ids.numel());
  if (vocabulary.embeddings.dim() != 2 || vocabulary.embeddings.size(0) != vocabulary.size() ||
      ids.max().item<int64_t>() >= vocabulary.size() || ids.min().item<int64_t>() < 0) {
    throw IoError(path.string() + ": embeddings, texts and string_ids do not fit together", hint);
  }
  return vocabulary;
}

VocabularyEmbeddings cached_vocabulary_embeddings(models::ClipModelImpl& model, const models::Tokenizer& tokenizer,
                                                  dist::Communicator* communicator, const fs::path& dir,
                                                  const VocabularySource& source,
                                                  const VocabularyEmbeddingOptions& options) {
  const VocabularyCacheKey key = vocabulary_cache_key(model, tokenizer);
  const fs::path path = vocabulary_cache_path(dir, key);
  const bool root = !communicator || communicator->rank() == 0;
  // Rank 0 decides, so that every rank takes the same branch even on a file system that is slow to show a file.
  torch::Tensor cached = torch::tensor(root && fs::exists(path) ? int64_t(1) : int64_t(0));
  if (communicator && communicator->world_size() > 1) communicator->broadcast(cached, 0);
  if (cached.item<int64_t>()) {
    if (auto vocabulary = read_vocabulary_cache(path, key)) {
      spdlog::info("vocabulary embeddings: cached in {}", path.string());
      return std::move(*vocabulary);
    }
    throw IoError("the vocabulary cache " + path.string() + " disappeared while it was being read");
  }
  spdlog::info("vocabulary embeddings: computing {} ids (cache {})", tokenizer.vocab_size(), path.string());
  VocabularyEmbeddings vocabulary = embed_vocabulary(model, tokenizer, communicator, options);
  if (root) write_vocabulary_cache(path, vocabulary, key, source);
  return vocabulary;
}

}  // namespace rave::analysis

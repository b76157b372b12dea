// The table of OpenAI's published CLIP file hashes, checked with io::sha256_file.
#include "models/clip/checksum.h"

#include <spdlog/spdlog.h>

#include <filesystem>

#include "io/sha256.h"

namespace rave::models {
namespace {

struct KnownFile {
  const char* name;
  const char* sha256;
};

// From the download URLs of OpenAI's clip/clip.py (_MODELS); ViT-B-32 and RN101 are also in ALGORITHMS §1.5.
constexpr KnownFile kKnownFiles[] = {
    {"RN50.pt", "afeb0e10f9e5a86da6080e35cf09123aca3b358a0c3e3b6c78a7b63bc04b6762"},
    {"RN101.pt", "8fa8567bab74a42d41c5915025a8e4538c3bdbe8804a470a72f30b0d94fab599"},
    {"RN50x4.pt", "7e526bd135e493cef0776de27d5f42653e6b4c8bf9e0f653bb11773263205fdd"},
    {"RN50x16.pt", "52378b407f34354e150460fe41077663dd5b39c54cd0bfd2b27167a4a06ec9aa"},
    {"RN50x64.pt", "be1cfb55d75a9666199fb2206c106743da0f6468c9d327f3e0d0a543a9919d9c"},
    {"ViT-B-32.pt", "40d365715913c9da98579312b702a82c18be219cc2a73407c4526f58eba950af"},
    {"ViT-B-16.pt", "5806e77cd80f8b59890b7e101eabd078d9fb84e6937f9e85e4ecb61988df416f"},
    {"ViT-L-14.pt", "b8cca3fd41ae0c99ba7e8951adf17d267cdb84cd88be6f7c2e0eca1737a03836"},
    {"ViT-L-14-336px.pt", "3035c92b350959924f9f00213499208652fc7ea050643e8b385c2dac08641f02"},
};

}  // namespace

std::string known_sha256(const std::string& file_name) {
  for (const KnownFile& file : kKnownFiles) {
    if (file_name == file.name) return file.sha256;
  }
  return "";
}

bool check_known_sha256(const std::string& path) {
  const std::string expected = known_sha256(std::filesystem::path(path).filename().string());
  if (expected.empty()) return true;
  const std::string actual = io::sha256_file(path);
  if (actual == expected) {
    spdlog::debug("{}: SHA-256 matches OpenAI's published {}", path, expected);
    return true;
  }
  spdlog::warn(
      "{}: SHA-256 {} differs from OpenAI's published {} for this file name; the file is damaged or not "
      "the official one (download it again if results look wrong)",
      path, actual, expected);
  return false;
}

}  // namespace rave::models

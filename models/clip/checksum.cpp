// SHA-256 through OpenSSL's EVP interface, and the table of OpenAI's published CLIP file hashes.
#include "models/clip/checksum.h"

#include <openssl/evp.h>
#include <spdlog/spdlog.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <vector>

#include "dist/error.h"

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

std::string sha256_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw IoError("cannot open " + path + " to compute its SHA-256", "check the path and its permissions");
  std::unique_ptr<EVP_MD_CTX, void (*)(EVP_MD_CTX*)> context(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  if (!context || EVP_DigestInit_ex(context.get(), EVP_sha256(), nullptr) != 1) {
    throw Error("OpenSSL could not start a SHA-256 digest", "check the OpenSSL installation");
  }
  std::vector<char> buffer(1 << 20);
  while (in) {
    in.read(buffer.data(), static_cast<std::streamsize>(buffer.size()));
    EVP_DigestUpdate(context.get(), buffer.data(), static_cast<std::size_t>(in.gcount()));
  }
  if (in.bad()) throw IoError("error while reading " + path + " for its SHA-256", "check the disk and the file");
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  EVP_DigestFinal_ex(context.get(), digest, &size);
  static const char* hex = "0123456789abcdef";
  std::string out;
  for (unsigned int i = 0; i < size; ++i) {
    out.push_back(hex[digest[i] >> 4]);
    out.push_back(hex[digest[i] & 15]);
  }
  return out;
}

std::string known_sha256(const std::string& file_name) {
  for (const KnownFile& file : kKnownFiles) {
    if (file_name == file.name) return file.sha256;
  }
  return "";
}

bool check_known_sha256(const std::string& path) {
  const std::string expected = known_sha256(std::filesystem::path(path).filename().string());
  if (expected.empty()) return true;
  const std::string actual = sha256_file(path);
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

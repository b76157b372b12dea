// SHA-256 checks of the OpenAI CLIP downloads: OpenAI publishes each file's SHA-256 as the second-to-last
// component of its download URL (https://openaipublic.azureedge.net/clip/models/<sha256>/<name>.pt).
#pragma once

#include <string>

namespace rave::models {

// The published SHA-256 for an OpenAI file name ("ViT-B-32.pt", "RN101.pt", ...), or "" for any other name.
std::string known_sha256(const std::string& file_name);

// When `path`'s file name is a known one, compares the hashes and logs a warning on a mismatch (a renamed,
// damaged or modified file still loads). Returns false only on a mismatch.
bool check_known_sha256(const std::string& path);

}  // namespace rave::models

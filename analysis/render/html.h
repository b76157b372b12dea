// Text helpers of the HTML report: escaping and base64 (images are embedded as data: URIs so the report is one
// file that opens offline).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace rave::analysis {

// &, <, >, " and ' as entities: safe in element text and in quoted attributes.
std::string html_escape(const std::string& text);

// RFC 4648 base64 with padding.
std::string base64(const std::vector<uint8_t>& bytes);

}  // namespace rave::analysis

// The --exif option of the commands that read photos (train, residual, analyze, enhance): one declaration, with
// the default each command states (io::kTrainingExifOrientation, io::kEnhanceExifOrientation).
#pragma once

#include <string>

#include "io/image.h"
#include "io/options.h"

namespace rave::launch {

inline constexpr const char* kExifHelp =
    "EXIF orientation tags of the photos: ignore (the pixels as stored, as the reference's PIL reads them) or "
    "apply (rotated upright, as a viewer shows them)";

inline void declare_exif_option(io::po::options_description_easy_init add, io::ExifOrientation fallback) {
  add("exif", io::po::value<std::string>()->default_value(io::exif_orientation_name(fallback)), kExifHelp);
}

inline io::ExifOrientation exif_option(const io::po::variables_map& values) {
  return io::exif_orientation_from_name(values["exif"].as<std::string>());
}

}  // namespace rave::launch

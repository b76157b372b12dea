// The --exif option of the commands that read photos (train, residual, analyze, enhance): one flag, one help; the
// default is the field's, the one each command states (io::kTrainingExifOrientation, io::kEnhanceExifOrientation).
#pragma once

#include "io/image.h"
#include "io/option_binder.h"

namespace rave::launch {

inline void bind_exif(io::OptionBinder& b, io::ExifOrientation& orientation) {
  b.bind("exif", orientation,
         "EXIF orientation tags of the photos: ignore (the pixels as stored, as the reference's PIL reads them) or "
         "apply (rotated upright, as a viewer shows them)",
         io::exif_orientation_name, io::exif_orientation_from_name);
}

}  // namespace rave::launch

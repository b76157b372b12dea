// Which training images are behind a direction of the residual vector (beyond the reference): with unit image
// embeddings e_i, m_pos / m_neg the means of the well-lit / backlit ones and Δ = n(m_pos) − n(m_neg), r = n(Δ),
// the component of r along a unit direction d splits exactly into one term per image:
//     <r, d> = Σ_i∈well-lit <e_i, d> / (n_pos·|m_pos|·|Δ|)  −  Σ_j∈backlit <e_j, d> / (n_neg·|m_neg|·|Δ|)
// An image with a large positive term pulls r toward d (a well-lit image showing it, or a backlit one
// lacking it); the largest terms name the images behind a bias.
#pragma once

#include <torch/types.h>

#include <string>
#include <vector>

#include "dist/communicator.h"
#include "guidance/encoders.h"
#include "io/dataset.h"

namespace rave::analysis {

// Unit embeddings [n, D] (float64) of the readable images of `folder`, in listing order, and their files. The
// ranks of `communicator` (may be null) each embed an exact shard; every rank returns all rows.
struct FolderEmbeddings {
  std::vector<std::string> files;
  torch::Tensor embeddings;
};
FolderEmbeddings embed_folder(guidance::GuidanceEncoder& encoder, io::ImageFolder& folder,
                              dist::Communicator* communicator, int64_t batch_size, const torch::Device& device);

struct ImageContribution {
  std::string file;
  bool welllit;
  double cosine;        // <e_i, d>
  double contribution;  // the image's term of <r, d>
};

struct Attribution {
  std::vector<ImageContribution> images;  // largest contribution first
  double total = 0;                       // Σ contributions = <r, d> of the residual these images give
};

Attribution attribute_direction(const FolderEmbeddings& welllit, const FolderEmbeddings& backlit,
                                const torch::Tensor& direction);

}  // namespace rave::analysis

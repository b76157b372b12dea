// The distributed residual pass gives the reference's residual vector on the fixture images (the 6 backlit
// photos and img_001..006 of the well-lit set, tiny ViT) whatever the number of ranks (mpirun -np 1, 2, 3).
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <filesystem>

#include "dist/communicator.h"
#include "dist/context.h"
#include "guidance/residual_file.h"
#include "guidance/residual_pass.h"
#include "io/h5.h"
#include "tests/support/test_support.h"

namespace rave::guidance {
namespace {

namespace fs = std::filesystem;

// A folder of links to the first `count` images of `source`, made by rank 0 in a directory all ranks share.
fs::path linked_folder(const fs::path& root, const std::string& name, const fs::path& source, int count,
                       dist::Communicator& comm) {
  const fs::path folder = root / name;
  if (comm.rank() == 0) {
    fs::create_directories(folder);
    int linked = 0;
    for (const auto& file : io::list_images(source)) {
      if (linked++ == count) break;
      fs::create_symlink(file, folder / file.filename());
    }
  }
  comm.barrier();
  return folder;
}

TEST(ResidualPass, MatchesTheReferenceOnAnyNumberOfRanks) {
  RAVE_REQUIRE_FIXTURES();
  dist::Context context(nullptr, nullptr, {"cpu", 1});
  auto comm = dist::make_communicator(context, "mpi");
  const fs::path data = test::fixtures_dir().parent_path() / "data";
  const fs::path root = test::shared_temp_dir(*comm, "rave-residual");
  io::ImageFolder backlit(linked_folder(root, "backlit", data / "backlit", 6, *comm), io::kTrainingExifOrientation);
  io::ImageFolder welllit(linked_folder(root, "welllit", data / "welllit", 6, *comm), io::kTrainingExifOrientation);
  auto encoder = make_guidance_encoder((test::fixtures_dir() / "clip/tiny_vit_state.h5").string());
  ResidualPassOptions options;
  options.batch_size = 4;
  options.show_progress = false;
  const ResidualVector v = compute_residual(*encoder, backlit, welllit, *comm, options);

  const auto golden = io::h5::File::open((test::fixtures_dir() / "losses/loss_golden.h5").string());
  EXPECT_EQ(v.n_pos, 6);
  EXPECT_EQ(v.n_neg, 6);
  // The reference runs in float32 with its own preprocessing rounding; ours sums in float64.
  EXPECT_LE((v.residual - golden.read("residual/residual_vector")).abs().max().item<double>(), 1e-5);
  EXPECT_NEAR(v.tau, golden.read("residual/thr").item<double>(), 1e-5);

  // Every rank holds the same vector, bit for bit.
  torch::Tensor check = v.residual.to(torch::kFloat64).clone();
  torch::Tensor sum = check.clone();
  comm->all_reduce_sum(sum);
  EXPECT_TRUE(torch::equal(sum, check * comm->world_size()));

  comm->barrier();
  if (comm->rank() == 0) fs::remove_all(root);
}

}  // namespace
}  // namespace rave::guidance

// The residual pass on one rank: its workers give the vector of the plain one-image-at-a-time procedure
// whatever the number of threads, skip and count unreadable files, and hand errors of a worker to the caller;
// the batch plan and the ordered worker pool it is built on.
#include "guidance/residual_pass.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <array>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include "core/error.h"
#include "guidance/clip_encoders.h"
#include "guidance/ordered_workers.h"
#include "models/clip/loader.h"
#include "tests/support/single_rank.h"
#include "tests/support/test_support.h"

namespace rave::guidance {
namespace {

namespace fs = std::filesystem;

using test::SingleRank;

// Sets the intra-op threads for one test and restores them after.
class Threads {
 public:
  explicit Threads(int n) : saved_(torch::get_num_threads()) { torch::set_num_threads(n); }
  ~Threads() { torch::set_num_threads(saved_); }

 private:
  int saved_;
};

TEST(BalancedBatchCount, EqualSharesOfAtMostTheBatchSize) {
  EXPECT_EQ(balanced_batch_count(40, 2, 32), 2);
  EXPECT_EQ(balanced_batch_count(40, 1, 32), 2);
  EXPECT_EQ(balanced_batch_count(64, 2, 32), 2);
  EXPECT_EQ(balanced_batch_count(65, 2, 32), 4);
  EXPECT_EQ(balanced_batch_count(7, 2, 2), 4);
  EXPECT_EQ(balanced_batch_count(3, 4, 32), 3);
  EXPECT_EQ(balanced_batch_count(0, 2, 32), 0);
  EXPECT_EQ(balanced_batch_count(1000, 3, 32), 33);  // 1000 / 33 images fit 32, 1000 / 30 do not
}

TEST(RunOrdered, FoldsInOrderWhateverFinishesFirst) {
  std::vector<int64_t> folded;
  run_ordered(
      20, 4,
      [](int64_t b) {
        std::this_thread::sleep_for(std::chrono::milliseconds((20 - b) % 3));
        return b * b;
      },
      [&](int64_t b, int64_t square) {
        EXPECT_EQ(square, b * b);
        folded.push_back(b);
      });
  ASSERT_EQ(folded.size(), 20u);
  for (int64_t b = 0; b < 20; ++b) EXPECT_EQ(folded[size_t(b)], b);
}

TEST(RunOrdered, RethrowsAWorkersErrorWithItsMessage) {
  std::atomic<int> started{0};
  try {
    run_ordered(
        100, 2,
        [&](int64_t b) {
          ++started;
          if (b == 3) throw Error("batch 3 failed");
          std::this_thread::sleep_for(std::chrono::milliseconds(1));
          return b;
        },
        [](int64_t, int64_t) {});
    FAIL() << "no exception";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "batch 3 failed");
  }
  EXPECT_LT(started.load(), 100);  // the others stopped starting batches
}

TEST(RunOrdered, AThrowingFoldStillJoinsTheWorkers) {
  EXPECT_THROW(run_ordered(
                   10, 3, [](int64_t b) { return b; },
                   [](int64_t b, int64_t) {
                     if (b == 2) throw Error("fold failed");
                   }),
               Error);
}

TEST(ScopedComputeThreads, RestoresTheIntraOpThreads) {
  Threads three(3);
  {
    const ScopedComputeThreads one(1);
    EXPECT_EQ(torch::get_num_threads(), 1);
  }
  EXPECT_EQ(torch::get_num_threads(), 3);
}

class ResidualPass : public testing::Test {
 protected:
  void SetUp() override {
    RAVE_REQUIRE_FIXTURES();
    const fs::path data = test::fixtures_dir().parent_path() / "data";
    for (const char* name : {"backlit", "welllit"}) {
      fs::create_directories(dir_ / name);
      int linked = 0;
      for (const auto& file : io::list_images(data / name)) {
        if (linked++ == 5) break;
        fs::create_symlink(file, dir_ / name / file.filename());
      }
    }
    encoder_ = std::make_unique<ClipGuidanceEncoder>(
        models::load_clip((test::fixtures_dir() / "clip/tiny_vit_state.h5").string()), "tiny ViT");
    options_.show_progress = false;
  }

  ResidualVector run(int threads) {
    const Threads scoped(threads);
    io::ImageFolder backlit(dir_ / "backlit", io::kTrainingExifOrientation);
    io::ImageFolder welllit(dir_ / "welllit", io::kTrainingExifOrientation);
    return compute_residual(*encoder_, backlit, welllit, communicator_, options_);
  }

  // The reference's procedure: one file at a time, its unit embedding added to its folder's sum.
  ResidualVector one_at_a_time() {
    torch::NoGradGuard no_grad;
    std::array<torch::Tensor, 2> sum;
    std::array<int64_t, 2> count{};
    int folder = 0;
    for (const char* name : {"backlit", "welllit"}) {
      io::ImageFolder images(dir_ / name, io::kTrainingExifOrientation);
      sum[size_t(folder)] = torch::zeros({encoder_->dim()}, torch::kFloat64);
      for (size_t i = 0; i < images.size(); ++i) {
        const torch::Tensor e =
            encoder_->encode(encoder_->preprocess_file_image(*images.read_u8(i)).unsqueeze(0))[0].to(torch::kFloat64);
        sum[size_t(folder)] += e / e.norm();
        ++count[size_t(folder)];
      }
      ++folder;
    }
    return residual_from_sums(sum[1], count[1], sum[0], count[0]);
  }

  test::ScratchDir dir_;
  std::unique_ptr<ClipGuidanceEncoder> encoder_;
  ResidualPassOptions options_;
  SingleRank communicator_;
};

TEST_F(ResidualPass, GivesTheOneAtATimeVectorAtAnyNumberOfThreads) {
  const ResidualVector expected = one_at_a_time();
  for (const int threads : {1, 2, 3}) {
    for (const int64_t batch : {32, 2}) {
      options_.batch_size = batch;
      const ResidualVector v = run(threads);
      EXPECT_EQ(v.n_neg, 5);
      EXPECT_EQ(v.n_pos, 5);
      EXPECT_LE(test::max_abs_error(v.residual, expected.residual), 1e-6) << threads << " threads, batch " << batch;
      EXPECT_NEAR(v.tau, expected.tau, 1e-6);
    }
  }
  EXPECT_EQ(torch::get_num_threads(), 1);  // the last run's threads, restored
}

TEST_F(ResidualPass, SkipsAndCountsUnreadableFiles) {
  std::ofstream(dir_ / "backlit/zz_corrupt.png") << "not an image";
  const Threads two(2);
  io::ImageFolder backlit(dir_ / "backlit", io::kTrainingExifOrientation);
  io::ImageFolder welllit(dir_ / "welllit", io::kTrainingExifOrientation);
  const ResidualVector v = compute_residual(*encoder_, backlit, welllit, communicator_, options_);
  EXPECT_EQ(v.n_neg, 5);
  EXPECT_EQ(v.n_pos, 5);
  EXPECT_EQ(backlit.unreadable_count(), 1u);
}

TEST_F(ResidualPass, AWorkersErrorReachesTheCaller) {
  fs::remove_all(dir_ / "backlit");
  fs::create_directories(dir_ / "backlit");
  for (const char* name : {"a.png", "b.jpg"}) std::ofstream(dir_ / "backlit" / name) << "not an image";
  const Threads two(2);
  io::ImageFolder backlit(dir_ / "backlit", io::kTrainingExifOrientation);
  io::ImageFolder welllit(dir_ / "welllit", io::kTrainingExifOrientation);
  try {
    compute_residual(*encoder_, backlit, welllit, communicator_, options_);
    FAIL() << "no exception";
  } catch (const IoError& e) {
    EXPECT_NE(std::string(e.what()).find("none of the 2 images"), std::string::npos) << e.what();
  }
  EXPECT_EQ(torch::get_num_threads(), 2);
}

}  // namespace
}  // namespace rave::guidance

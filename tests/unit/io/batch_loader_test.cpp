#include "io/batch_loader.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <fstream>

#include "dist/error.h"
#include "io/image.h"
#include "io/resize.h"
#include "tests/support/test_support.h"

namespace rave::io {
namespace {

// Seven 20x24 images with distinct content, plus (optionally) one corrupt file.
void make_folder(const test::ScratchDir& dir, bool with_corrupt_file) {
  torch::manual_seed(0);
  for (int i = 0; i < 7; ++i) write_image((dir / ("img" + std::to_string(i) + ".png")).string(), torch::rand({3, 20, 24}));
  if (with_corrupt_file) std::ofstream(dir / "img3b.png") << "not a png";
}

BatchLoaderOptions small(int threads, bool augment = true) {
  BatchLoaderOptions options;
  options.image_size = 16;
  options.batch_size = 3;
  options.threads = threads;
  options.prefetch_batches = 2;
  options.augment = augment;
  return options;
}

std::vector<Batch> take(ImageFolder& folder, const BatchLoaderOptions& options, int count,
                        const dist::SamplerState& start = {}) {
  dist::ShardSampler sampler(int64_t(folder.size()), 0, 1, 5);
  sampler.restore(start);
  BatchLoader loader(folder, std::move(sampler), options);
  std::vector<Batch> batches;
  for (int i = 0; i < count; ++i) batches.push_back(loader.next());
  return batches;
}

TEST(BatchLoader, FollowsTheSamplerAndResizesWithLanczos) {
  test::ScratchDir dir;
  make_folder(dir, false);
  ImageFolder folder(dir.path(), kTrainingExifOrientation);
  const auto batches = take(folder, small(2, /*augment=*/false), 3);
  dist::ShardSampler reference(7, 0, 1, 5);
  for (const Batch& batch : batches) {
    EXPECT_EQ(batch.items, reference.next(3));  // crosses into epoch 1 in the third batch
    EXPECT_EQ(batch.next_state.epoch, reference.state().epoch);
    EXPECT_EQ(batch.next_state.position, reference.state().position);
    ASSERT_EQ(batch.images.sizes(), torch::IntArrayRef({3, 3, 16, 16}));
    const auto expected = to_float_chw(resize_pil(*folder.read_u8(size_t(batch.items[1])), 16, 16, PilFilter::lanczos));
    EXPECT_TRUE(torch::equal(batch.images[1], expected));
  }
}

TEST(BatchLoader, RefusesAbsurdThreadCountsWithAUsageError) {
  test::ScratchDir dir;
  make_folder(dir, false);
  ImageFolder folder(dir.path(), kTrainingExifOrientation);
  try {
    take(folder, small(100000), 1);
    ADD_FAILURE() << "100000 loader threads were accepted";
  } catch (const UsageError& e) {
    EXPECT_NE(std::string(e.what()).find("--loader-threads 100000 is more than 256"), std::string::npos) << e.what();
  }
}

TEST(BatchLoader, SameBatchesWhateverTheNumberOfThreads) {
  test::ScratchDir dir;
  make_folder(dir, false);
  ImageFolder folder(dir.path(), kTrainingExifOrientation);
  const auto one = take(folder, small(1), 5), three = take(folder, small(3), 5);
  for (size_t i = 0; i < one.size(); ++i) {
    EXPECT_EQ(one[i].items, three[i].items);
    EXPECT_TRUE(torch::equal(one[i].images, three[i].images)) << "batch " << i;
  }
  // Augmentation changes the images (some draw flips) but keeps them in [0, 1].
  const auto plain = take(folder, small(1, false), 5);
  bool any_different = false;
  for (size_t i = 0; i < one.size(); ++i) any_different |= !torch::equal(one[i].images, plain[i].images);
  EXPECT_TRUE(any_different);
  EXPECT_GE(one[0].images.min().item<float>(), 0.0f);
  EXPECT_LE(one[0].images.max().item<float>(), 1.0f);
}

TEST(BatchLoader, ResumesFromTheStateOfADeliveredBatch) {
  test::ScratchDir dir;
  make_folder(dir, false);
  ImageFolder folder(dir.path(), kTrainingExifOrientation);
  const auto run = take(folder, small(2), 4);
  const auto resumed = take(folder, small(2), 2, run[1].next_state);
  EXPECT_EQ(resumed[0].items, run[2].items);
  EXPECT_TRUE(torch::equal(resumed[0].images, run[2].images));
  EXPECT_TRUE(torch::equal(resumed[1].images, run[3].images));
}

TEST(BatchLoader, SkipsAndCountsUnreadableFiles) {
  test::ScratchDir dir;
  make_folder(dir, true);
  ImageFolder folder(dir.path(), kTrainingExifOrientation);
  ASSERT_EQ(folder.size(), 8u);
  int64_t delivered = 0;
  for (const Batch& batch : take(folder, small(2), 6)) {  // 18 draws over 8 files: the corrupt one comes up
    EXPECT_EQ(batch.images.size(0), int64_t(batch.items.size()));
    delivered += int64_t(batch.items.size());
    for (int64_t item : batch.items) EXPECT_NE(folder.files()[size_t(item)].filename(), "img3b.png");
  }
  EXPECT_LT(delivered, 18);
  EXPECT_EQ(folder.unreadable_count(), 1u);
}

}  // namespace
}  // namespace rave::io

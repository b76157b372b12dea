#include "io/batch_loader.h"

#include <gtest/gtest.h>
#include <torch/cuda.h>
#include <torch/torch.h>

#include <fstream>

#include "core/error.h"
#include "dist/random.h"
#include "io/augment.h"
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
                        const dist::SamplerState& start = {}, ResizedImageCacheStats* stats = nullptr) {
  dist::ShardSampler sampler(int64_t(folder.size()), 0, 1, 5);
  sampler.restore(start);
  BatchLoader loader(folder, std::move(sampler), options);
  std::vector<Batch> batches;
  for (int i = 0; i < count; ++i) batches.push_back(loader.next());
  if (stats) *stats = loader.cache_stats();
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

TEST(BatchLoader, SameImagesAsDecodingResizingAndAugmentingEachItem) {
  // The loader before the cache, by hand: decode, Lanczos, augmentation seeded from (seed, epoch, item), [0,1].
  test::ScratchDir dir;
  make_folder(dir, false);
  ImageFolder folder(dir.path(), kTrainingExifOrientation);
  const BatchLoaderOptions options = small(2);
  const auto batches = take(folder, options, 5);  // 15 items over 7 files: into the third epoch
  dist::ShardSampler reference(7, 0, 1, 5);
  for (const Batch& batch : batches) {
    for (size_t i = 0; i < batch.items.size(); ++i) {
      const int64_t item = reference.next(1).front(), epoch = reference.state().epoch;
      ASSERT_EQ(batch.items[i], item);
      dist::SplitMix64 rng(dist::stream_seed(dist::stream_seed(options.seed, uint64_t(epoch)), uint64_t(item)));
      const torch::Tensor resized = resize_pil(*folder.read_u8(size_t(item)), 16, 16, PilFilter::lanczos);
      const torch::Tensor expected = to_float_chw(augment(resized, draw_augmentation(rng, options.ranges)));
      EXPECT_TRUE(torch::equal(batch.images[int64_t(i)], expected)) << "item " << item << " of epoch " << epoch;
    }
  }
}

TEST(BatchLoader, ConvertsEveryLevelAsToFloatChw) {
  // All 256 levels in one 16x16 image, loaded at its own size (no resize pass) and without augmentation.
  test::ScratchDir dir;
  const torch::Tensor levels = torch::arange(256).to(torch::kUInt8).view({16, 16, 1}).expand({16, 16, 3});
  write_image((dir / "levels.png").string(), to_float_chw(levels.contiguous()));
  ImageFolder folder(dir.path(), kTrainingExifOrientation);
  ASSERT_TRUE(torch::equal(*folder.read_u8(0), levels));
  const auto batches = take(folder, small(1, /*augment=*/false), 1);
  EXPECT_TRUE(torch::equal(batches[0].images[0], to_float_chw(levels.contiguous())));
}

TEST(BatchLoader, SameBatchesOnAGpuAsOnTheCpu) {
  if (!torch::cuda::is_available()) GTEST_SKIP() << "no CUDA device";
  test::ScratchDir dir;
  make_folder(dir, false);
  ImageFolder folder(dir.path(), kTrainingExifOrientation);
  BatchLoaderOptions gpu = small(2);
  gpu.device = torch::Device(torch::kCUDA, 0);
  const auto on_cpu = take(folder, small(2), 4), on_gpu = take(folder, gpu, 4);
  for (size_t i = 0; i < on_cpu.size(); ++i) {
    ASSERT_TRUE(on_gpu[i].images.is_cuda());
    EXPECT_TRUE(torch::equal(on_gpu[i].images.cpu(), on_cpu[i].images)) << "batch " << i;
  }
}

TEST(BatchLoader, DecodesEachFileOnceUnreadableOnesIncluded) {
  test::ScratchDir dir;
  make_folder(dir, true);
  ImageFolder folder(dir.path(), kTrainingExifOrientation);
  ResizedImageCacheStats stats;
  take(folder, small(1), 8, {}, &stats);  // 24 draws over 8 files: three epochs
  EXPECT_EQ(stats.decodes, 8);
  EXPECT_EQ(stats.cached, 7);
  EXPECT_DOUBLE_EQ(stats.cached_mib, 7 * 16 * 16 * 3 / 1048576.0);
  EXPECT_EQ(folder.unreadable_count(), 1u);
}

TEST(BatchLoader, WithoutTheCacheDecodesAtEveryAccessAndDeliversTheSameBatches) {
  test::ScratchDir dir;
  make_folder(dir, false);
  ImageFolder folder(dir.path(), kTrainingExifOrientation);
  BatchLoaderOptions uncached = small(1);
  uncached.cache_mib = 0;
  ResizedImageCacheStats stats;
  const auto without = take(folder, uncached, 5, {}, &stats), with = take(folder, small(1), 5);
  EXPECT_GE(stats.decodes, 15);
  EXPECT_EQ(stats.cached, 0);
  for (size_t i = 0; i < with.size(); ++i) EXPECT_TRUE(torch::equal(with[i].images, without[i].images)) << i;
}

TEST(BatchLoader, KeepsNoMoreThanTheCapAndDecodesTheRestAgain) {
  // 1 MiB holds one 512x512 image (768 KiB).
  test::ScratchDir dir;
  make_folder(dir, false);
  ImageFolder folder(dir.path(), kTrainingExifOrientation);
  BatchLoaderOptions capped = small(1, /*augment=*/false);
  capped.image_size = 512;
  capped.cache_mib = 1;
  ResizedImageCacheStats stats;
  const auto batches = take(folder, capped, 5, {}, &stats);  // 15 draws over 7 files
  EXPECT_EQ(stats.cached, 1);
  EXPECT_DOUBLE_EQ(stats.cached_mib, 0.75);
  EXPECT_GE(stats.decodes, 15 - 2);  // the kept image is read from memory in the second and third epochs
  for (const Batch& batch : batches) {
    const auto expected =
        to_float_chw(resize_pil(*folder.read_u8(size_t(batch.items[2])), 512, 512, PilFilter::lanczos));
    EXPECT_TRUE(torch::equal(batch.images[2], expected));
  }
}

TEST(BatchLoader, RefusesANegativeCacheSize) {
  test::ScratchDir dir;
  make_folder(dir, false);
  ImageFolder folder(dir.path(), kTrainingExifOrientation);
  BatchLoaderOptions options = small(1);
  options.cache_mib = -1;
  EXPECT_THROW(take(folder, options, 1), UsageError);
}

}  // namespace
}  // namespace rave::io

// Tests of io/dataset: which files a folder listing keeps and in which order, the errors for missing or empty
// folders, and that unreadable files are counted and logged instead of ending the run.
#include "io/dataset.h"

#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include <fstream>
#include <opencv2/core.hpp>
#include <sstream>
#include <thread>

#include "core/error.h"
#include "io/image_codec.h"
#include "tests/support/exif.h"
#include "tests/support/test_support.h"

namespace rave::io {
namespace {

void write_text(const std::filesystem::path& path, const std::string& text) { std::ofstream(path) << text; }

void write_png(const std::filesystem::path& path) {
  const std::vector<std::uint8_t> png = codec::encode_png(cv::Mat(4, 5, CV_8UC3, cv::Scalar(10, 20, 30)));
  ASSERT_FALSE(png.empty());
  std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char*>(png.data()), png.size());
}

std::vector<std::string> names(const std::vector<std::filesystem::path>& files) {
  std::vector<std::string> out;
  for (const auto& f : files) out.push_back(f.filename().string());
  return out;
}

std::string list_error(const std::filesystem::path& folder) {
  try {
    list_images(folder);
  } catch (const IoError& e) {
    return e.what();
  }
  ADD_FAILURE() << "no IoError for " << folder;
  return {};
}

TEST(ListImages, KeepsImageExtensionsInAnyCaseSortedByName) {
  test::ScratchDir dir;
  for (const char* name : {"b.JPG", "a.png", "c.Jpeg", "d.bmp", "e.TIF", "f.tiff", "g.WebP", "Z.png", "notes.txt",
                           "png", "h.gif", "archive.png.zip"}) {
    write_text(dir / name, "x");
  }
  write_text(dir / ".hidden.png", "x");
  std::filesystem::create_directory(dir / "sub.png");  // a folder with an image name is not a file
  write_text(dir / "sub.png" / "inner.png", "x");
  // Byte order, like Python's sorted(glob(...)): upper case before lower case.
  const std::vector<std::string> expected = {"Z.png", "a.png", "b.JPG", "c.Jpeg", "d.bmp", "e.TIF", "f.tiff", "g.WebP"};
  EXPECT_EQ(names(list_images(dir.path())), expected);
  EXPECT_EQ(list_images(dir.path())[0], dir / "Z.png");
}

TEST(ListImages, MissingEmptyOrNonFolderIsAClearError) {
  test::ScratchDir dir;
  const auto missing = dir / "nope";
  EXPECT_NE(list_error(missing).find(missing.string() + " does not exist"), std::string::npos) << list_error(missing);
  write_text(dir / "file.png", "x");
  EXPECT_NE(list_error(dir / "file.png").find("is not a folder"), std::string::npos);
  std::filesystem::create_directory(dir / "empty");
  const std::string empty = list_error(dir / "empty");
  EXPECT_NE(empty.find((dir / "empty").string() + " holds no image file"), std::string::npos) << empty;
  std::filesystem::create_directory(dir / "others");
  write_text(dir / "others" / ".hidden.jpg", "x");
  write_text(dir / "others" / "readme.md", "x");
  EXPECT_NE(list_error(dir / "others").find("holds no image file"), std::string::npos);
}

// Captures what the code logs through spdlog's default logger while it lives.
class LogCapture {
 public:
  LogCapture() : previous_(spdlog::default_logger()) {
    spdlog::set_default_logger(
        std::make_shared<spdlog::logger>("capture", std::make_shared<spdlog::sinks::ostream_sink_mt>(text_)));
  }
  ~LogCapture() { spdlog::set_default_logger(previous_); }
  std::string text() const { return text_.str(); }

 private:
  std::ostringstream text_;
  std::shared_ptr<spdlog::logger> previous_;
};

TEST(ImageFolder, SkipsCountsAndLogsUnreadableFilesOnce) {
  test::ScratchDir dir;
  write_png(dir / "a.png");
  write_text(dir / "b.jpg", "this is text");
  write_png(dir / "c.png");
  write_text(dir / "d.png", "");
  ImageFolder folder(dir.path(), kTrainingExifOrientation);
  ASSERT_EQ(folder.size(), 4u);
  LogCapture log;
  for (int pass = 0; pass < 2; ++pass) {
    EXPECT_TRUE(folder.read_u8(0).has_value());
    EXPECT_FALSE(folder.read_u8(1).has_value());
    const auto c = folder.read(2);
    ASSERT_TRUE(c.has_value());
    EXPECT_EQ(c->sizes(), torch::IntArrayRef({3, 4, 5}));
    EXPECT_FALSE(folder.read(3).has_value());
  }
  EXPECT_EQ(folder.unreadable_count(), 2u);  // distinct files, not failed reads
  EXPECT_EQ(names(folder.unreadable()), (std::vector<std::string>{"b.jpg", "d.png"}));
  const std::string logged = log.text();
  EXPECT_NE(logged.find("(1 of 4 in " + dir.path().string() + " so far)"), std::string::npos) << logged;
  EXPECT_NE(logged.find("(2 of 4 in"), std::string::npos) << logged;
  EXPECT_NE(logged.find("b.jpg"), std::string::npos) << logged;
  EXPECT_EQ(logged.find("(3 of 4"), std::string::npos) << logged;  // each file reported once
}

// A portrait phone photo: stored 4 rows x 8 columns, tagged "rotate 90° clockwise to display". Training folders
// read it as stored (as the reference's PIL does), a folder that applies the tag reads it upright.
TEST(ImageFolder, DecodesWithItsExifOrientationChoice) {
  test::ScratchDir dir;
  std::vector<std::uint8_t> jpeg = codec::encode_jpeg(cv::Mat(4, 8, CV_8UC3, cv::Scalar(10, 20, 30)), 95);
  ASSERT_FALSE(jpeg.empty());
  jpeg = test::with_exif_orientation(jpeg, 6);
  std::ofstream(dir / "portrait.jpg", std::ios::binary).write(reinterpret_cast<const char*>(jpeg.data()), jpeg.size());
  ImageFolder stored(dir.path(), ExifOrientation::ignore), upright(dir.path(), ExifOrientation::apply);
  EXPECT_EQ(stored.orientation(), ExifOrientation::ignore);
  EXPECT_EQ(stored.read_u8(0)->sizes(), torch::IntArrayRef({4, 8, 3}));
  EXPECT_EQ(stored.read(0)->sizes(), torch::IntArrayRef({3, 4, 8}));
  EXPECT_EQ(upright.read_u8(0)->sizes(), torch::IntArrayRef({8, 4, 3}));
  EXPECT_EQ(upright.read(0)->sizes(), torch::IntArrayRef({3, 8, 4}));
}

TEST(ImageFolder, CountsCorrectlyFromSeveralLoaderThreads) {
  test::ScratchDir dir;
  for (int i = 0; i < 6; ++i) write_png(dir / ("good" + std::to_string(i) + ".png"));
  for (int i = 0; i < 3; ++i) write_text(dir / ("bad" + std::to_string(i) + ".png"), "x");
  ImageFolder folder(dir.path(), kTrainingExifOrientation);
  LogCapture log;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&folder] {
      for (std::size_t i = 0; i < folder.size(); ++i) folder.read_u8(i);
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(folder.unreadable_count(), 3u);
}

TEST(ImageFolder, AFolderWithNoReadableImageIsAnError) {
  test::ScratchDir dir;
  write_text(dir / "a.png", "x");
  write_text(dir / "b.png", "y");
  ImageFolder folder(dir.path(), kTrainingExifOrientation);
  LogCapture log;
  EXPECT_FALSE(folder.read(0).has_value());
  try {
    folder.read(1);
    FAIL() << "no error once every file failed";
  } catch (const IoError& e) {
    EXPECT_NE(std::string(e.what()).find("none of the 2 images in " + dir.path().string()), std::string::npos)
        << e.what();
  }
}

}  // namespace
}  // namespace rave::io

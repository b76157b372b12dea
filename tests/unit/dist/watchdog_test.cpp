// The watchdog's detection, with a recording action instead of the job-ending default (the default is
// exercised by tests/mpi/failure_modes.cpp under mpirun).
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <thread>
#include <vector>

#include "core/error.h"
#include "dist/watchdog.h"

namespace rave::dist {
namespace {

using namespace std::chrono_literals;

struct Recorder {
  std::mutex mutex;
  std::vector<std::string> messages;
  Watchdog::OnFailure action() {
    return [this](const std::string& m) {
      std::lock_guard<std::mutex> lock(mutex);
      messages.push_back(m);
    };
  }
  std::vector<std::string> get() {
    std::lock_guard<std::mutex> lock(mutex);
    return messages;
  }
};

TEST(Watchdog, ReportsACallThatOutlivesTheTimeout) {
  Recorder recorder;
  Watchdog watchdog(0.1, "host h rank 3", recorder.action());
  {
    auto scope = watchdog.enter("MPI_Allreduce of 4 float32 elements");
    std::this_thread::sleep_for(400ms);
  }
  const auto messages = recorder.get();
  ASSERT_EQ(messages.size(), 1u);  // reported once, not on every poll
  EXPECT_NE(messages[0].find("host h rank 3: MPI_Allreduce of 4 float32 elements has not finished after"),
            std::string::npos)
      << messages[0];
  EXPECT_NE(messages[0].find("--collective-timeout 0.1"), std::string::npos) << messages[0];
}

TEST(Watchdog, StaysQuietForCallsWithinTheTimeout) {
  Recorder recorder;
  Watchdog watchdog(0.5, "here", recorder.action());
  for (int i = 0; i < 5; ++i) {
    auto scope = watchdog.enter("quick");
    std::this_thread::sleep_for(20ms);
  }
  std::this_thread::sleep_for(700ms);  // nothing in flight any more
  EXPECT_TRUE(recorder.get().empty());
}

TEST(Watchdog, PollsTrackedWorkUntilDone) {
  Recorder recorder;
  std::atomic<int> polls{0};
  {
    Watchdog watchdog(1.0, "here", recorder.action());
    watchdog.track("gpu work", [&] { return ++polls >= 3; });
    std::this_thread::sleep_for(400ms);
  }
  EXPECT_EQ(polls.load(), 3);
  EXPECT_TRUE(recorder.get().empty());
}

TEST(Watchdog, ReportsAsynchronousFailuresWithoutATimeout) {
  Recorder recorder;
  Watchdog watchdog(0, "host h rank 1", recorder.action());
  watchdog.track("ncclAllReduce", [] () -> bool { throw DistError("NCCL error 6: remote process exited"); });
  std::this_thread::sleep_for(300ms);
  const auto messages = recorder.get();
  ASSERT_EQ(messages.size(), 1u);
  EXPECT_EQ(messages[0], "host h rank 1: ncclAllReduce failed: NCCL error 6: remote process exited");
}

}  // namespace
}  // namespace rave::dist

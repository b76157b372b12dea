// The thread plan of the residual pass (guidance/residual_pass.cpp): a few workers that each decode, preprocess
// and encode whole batches, instead of one encoder whose intra-op threads wait for the decoding in between.
// On a CPU this keeps every core busy (one worker decodes while another multiplies matrices) and saves the
// intra-op threads' synchronisation, which costs the ViT about a tenth of its CPU time at 2 threads.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <exception>
#include <map>
#include <mutex>
#include <thread>
#include <vector>

namespace rave::guidance {

// How many batches to deal `items` images into for `workers` workers: as few as keep every batch at most
// `max_batch` images and give each worker the same number of batches (large batches run the ViT fastest, and
// equal shares leave no worker idle at the end); at most one per image.
int64_t balanced_batch_count(int64_t items, int workers, int64_t max_batch);

// Sets LibTorch's intra-op threads and OpenBLAS's own thread pool (when the BLAS is OpenBLAS) to `threads` for
// its lifetime, restoring both after. Threads started while it lives get `threads` as well.
class ScopedComputeThreads {
 public:
  explicit ScopedComputeThreads(int threads);
  ~ScopedComputeThreads();
  ScopedComputeThreads(const ScopedComputeThreads&) = delete;
  ScopedComputeThreads& operator=(const ScopedComputeThreads&) = delete;

 private:
  int torch_threads_, blas_threads_;
};

// Runs work(b) for every b in [0, count) on `workers` threads, each b once, and gives the results to fold(b,
// result) on the calling thread in the order of b, each as soon as it and those before it are done: the
// folded sum is the same whichever thread computed what. The first exception of a work call stops the
// others from starting new ones and is rethrown here, with its message, once every worker has ended.
template <class Work, class Fold>
void run_ordered(int64_t count, int workers, Work work, Fold fold) {
  using Result = decltype(work(int64_t{0}));
  std::mutex mutex;
  std::condition_variable ready;
  std::map<int64_t, Result> done;
  std::exception_ptr error;
  int64_t next = 0;
  auto worker = [&] {
    try {
      for (;;) {
        int64_t b;
        {
          std::lock_guard<std::mutex> lock(mutex);
          if (error || next == count) return;
          b = next++;
        }
        Result result = work(b);
        std::lock_guard<std::mutex> lock(mutex);
        done.emplace(b, std::move(result));
        ready.notify_all();
      }
    } catch (...) {
      std::lock_guard<std::mutex> lock(mutex);
      if (!error) error = std::current_exception();
      ready.notify_all();
    }
  };
  std::vector<std::thread> threads;
  {
    // On every way out of this block (a throwing fold included): no new batch starts, every worker is joined.
    struct Joiner {
      std::vector<std::thread>& threads;
      std::mutex& mutex;
      int64_t& next;
      int64_t count;
      ~Joiner() {
        {
          std::lock_guard<std::mutex> lock(mutex);
          next = count;
        }
        for (auto& thread : threads) thread.join();
      }
    } joiner{threads, mutex, next, count};
    for (int i = 0; i < workers; ++i) threads.emplace_back(worker);
    for (int64_t b = 0; b < count; ++b) {
      Result result;
      {
        std::unique_lock<std::mutex> lock(mutex);
        ready.wait(lock, [&] { return error || done.count(b) > 0; });
        if (error) break;
        result = std::move(done.at(b));
        done.erase(b);
      }
      fold(b, std::move(result));
    }
  }
  if (error) std::rethrow_exception(error);
}

}  // namespace rave::guidance

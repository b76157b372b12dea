// Ends the job when a collective does not finish in time (--collective-timeout) or fails asynchronously.
// A thread blocked inside a collective cannot notice that a peer stalled, so a second thread watches the
// operations in flight; when one has been running too long it reports which operation, on which host and
// rank, and (by default) aborts the whole job, so that a stalled or lost rank never leaves the others hanging.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>

#include "dist/context.h"

namespace rave::dist {

class Watchdog {
 public:
  // Receives the message of a timeout or an asynchronous failure. The job-ending default is abort_job();
  // tests pass a function that records the message instead.
  using OnFailure = std::function<void(const std::string& message)>;

  // `timeout_seconds` <= 0 disables the timeout (tracked operations are still polled for failures).
  // `where` names this process in messages ("host h rank r").
  Watchdog(double timeout_seconds, std::string where, OnFailure on_failure);
  ~Watchdog();
  Watchdog(const Watchdog&) = delete;
  Watchdog& operator=(const Watchdog&) = delete;

  // Marks the call the current thread is about to block in (an MPI collective) until it goes out of scope.
  class Scope {
   public:
    Scope(Watchdog* watchdog, uint64_t id) : watchdog_(watchdog), id_(id) {}
    Scope(Scope&& other) noexcept : watchdog_(other.watchdog_), id_(other.id_) { other.watchdog_ = nullptr; }
    Scope(const Scope&) = delete;
    Scope& operator=(const Scope&) = delete;
    Scope& operator=(Scope&&) = delete;
    ~Scope();

   private:
    Watchdog* watchdog_;
    uint64_t id_;
  };
  [[nodiscard]] Scope enter(std::string what);

  // Watches work that finishes on its own later (a collective queued on a GPU stream): `poll` is called from
  // the watchdog's thread until it returns true; it throws DistError when the work failed.
  void track(std::string what, std::function<bool()> poll);

  double timeout_seconds() const { return timeout_.count(); }

 private:
  using Clock = std::chrono::steady_clock;
  struct Operation {
    std::string what;
    Clock::time_point start;
    std::function<bool()> poll;  // empty for a Scope: done when the Scope ends
  };

  void watch();
  uint64_t add(Operation operation);
  void remove(uint64_t id);

  std::chrono::duration<double> timeout_;
  std::string where_;
  OnFailure on_failure_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  uint64_t next_id_ = 0;
  std::map<uint64_t, Operation> operations_;
  std::thread thread_;  // last: starts after everything it reads exists
};

// Logs the message and ends every rank of the job (MPI_Abort through `context`), after `before_abort` (for
// example ncclCommAbort, so that GPU kernels waiting for a lost peer are released).
Watchdog::OnFailure abort_job(const Context& context, std::function<void()> before_abort = {});

}  // namespace rave::dist

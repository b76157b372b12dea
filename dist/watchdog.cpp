#include "dist/watchdog.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstdio>
#include <vector>

#include "core/error.h"

namespace rave::dist {

Watchdog::Watchdog(double timeout_seconds, std::string where, OnFailure on_failure)
    : timeout_(timeout_seconds),
      where_(std::move(where)),
      on_failure_(std::move(on_failure)),
      thread_([this] { watch(); }) {}

Watchdog::~Watchdog() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  thread_.join();
}

Watchdog::Scope::~Scope() {
  if (watchdog_) watchdog_->remove(id_);
}

Watchdog::Scope Watchdog::enter(std::string what) { return Scope(this, add({std::move(what), Clock::now(), {}})); }

void Watchdog::track(std::string what, std::function<bool()> poll) {
  add({std::move(what), Clock::now(), std::move(poll)});
}

uint64_t Watchdog::add(Operation operation) {
  std::lock_guard<std::mutex> lock(mutex_);
  operations_.emplace(next_id_, std::move(operation));
  return next_id_++;
}

void Watchdog::remove(uint64_t id) {
  std::lock_guard<std::mutex> lock(mutex_);
  operations_.erase(id);
}

void Watchdog::watch() {
  // Often enough that finished GPU work is released promptly and a timeout is reported within a tenth of it.
  const auto period = std::chrono::duration<double>(
      timeout_.count() > 0 ? std::min(0.05, timeout_.count() / 10) : 0.05);
  std::unique_lock<std::mutex> lock(mutex_);
  while (!wake_.wait_for(lock, period, [this] { return stopping_; })) {
    std::vector<std::string> failures;
    const auto now = Clock::now();
    for (auto it = operations_.begin(); it != operations_.end();) {
      const Operation& op = it->second;
      try {
        if (op.poll && op.poll()) {
          it = operations_.erase(it);
          continue;
        }
      } catch (const std::exception& e) {
        failures.push_back(where_ + ": " + op.what + " failed: " + e.what());
        it = operations_.erase(it);
        continue;
      }
      const double running = std::chrono::duration<double>(now - op.start).count();
      if (timeout_.count() > 0 && running > timeout_.count()) {
        char seconds[64];
        std::snprintf(seconds, sizeof seconds, "%.1f s (--collective-timeout %g)", running, timeout_.count());
        failures.push_back(where_ + ": " + op.what + " has not finished after " + seconds +
                           "; another rank is stalled or gone; ending the job");
        it = operations_.erase(it);
        continue;
      }
      ++it;
    }
    if (failures.empty()) continue;
    // Outside the lock: the default action never returns, and a test's may call back into enter().
    lock.unlock();
    for (const std::string& message : failures) on_failure_(message);
    lock.lock();
  }
}

Watchdog::OnFailure abort_job(const Context& context, std::function<void()> before_abort) {
  return [&context, before_abort = std::move(before_abort)](const std::string& message) {
    spdlog::error("{}", message);
    if (before_abort) before_abort();
    context.abort(1);
  };
}

}  // namespace rave::dist

#include "dist/guard.h"

#include <spdlog/spdlog.h>

#include "dist/error.h"

namespace rave::dist {
namespace {

int fail(const Context* context, int code, const std::string& message, const std::string& hint) {
  if (hint.empty()) {
    spdlog::error("{}", message);
  } else {
    spdlog::error("{} (hint: {})", message, hint);
  }
  if (context && context->world_size() > 1) context->abort(code);
  return code;
}

}  // namespace

int run_guarded(const Context* context, const std::function<int()>& work) {
  try {
    return work();
  } catch (const UsageError& e) {
    return fail(context, 2, e.what(), e.hint());
  } catch (const Error& e) {
    return fail(context, 1, e.what(), e.hint());
  } catch (const std::exception& e) {
    return fail(context, 1, std::string("internal error: ") + e.what(),
                "this is a bug in rave or a library; please report it with the log");
  }
}

}  // namespace rave::dist

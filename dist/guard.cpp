#include "dist/guard.h"

#include <spdlog/spdlog.h>

#include <filesystem>
#include <new>

#include "core/error.h"

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
  } catch (const std::filesystem::filesystem_error& e) {
    // A folder that cannot be created or a file that cannot be moved is the machine's state, not a bug: the
    // message names the path(s).
    return fail(context, 1, e.what(), "check the path, its permissions and the free space of its disk");
  } catch (const std::bad_alloc&) {
    return fail(context, 1, "out of memory",
                "lower --batch-size or --image-size (rave train --dry-run estimates the memory per rank), or run "
                "fewer ranks per machine");
  } catch (const std::exception& e) {
    return fail(context, 1, std::string("internal error: ") + e.what(),
                "this is a bug in rave or a library; please report it with the log");
  }
}

}  // namespace rave::dist

// The main() of the benchmark programs that run one named task and print its JSON object on stdout: the
// OpenMP wait policy of the rave executable, `prepare` (thread count, allocator) once the arguments are parsed,
// and usage or runtime errors on stderr with exit code 2. Every result says which LibTorch ran it and under which
// OpenMP wait policy (the side-by-side scripts compare rave builds against two LibTorch versions).
#pragma once

#include <nlohmann/json.hpp>
#include <torch/version.h>

#include <cstdio>
#include <cstdlib>
#include <functional>
#include <map>
#include <string>

#include "dist/error.h"
#include "dist/openmp_wait_policy.h"

namespace rave::bench {

template <class Arguments>
using Task = std::function<nlohmann::ordered_json(const Arguments&)>;

// `parse` reads argv into Arguments whose `task` member names one of `tasks`.
template <class Arguments>
int task_main(const std::string& program, int argc, char** argv, Arguments (*parse)(int, char**),
              const std::map<std::string, Task<Arguments>>& tasks,
              const std::function<void(const Arguments&)>& prepare = {}) {
  dist::prefer_passive_openmp_waits(argv);
  try {
    const Arguments arguments = parse(argc, argv);
    const auto task = tasks.find(arguments.task);
    if (task == tasks.end()) {
      std::string names;
      for (const auto& [name, run] : tasks) names += (names.empty() ? "" : " or ") + name;
      throw UsageError("the task is " + names);
    }
    if (prepare) prepare(arguments);
    nlohmann::ordered_json result = task->second(arguments);
    result["libtorch"] = TORCH_VERSION;
    const char* wait_policy = std::getenv("OMP_WAIT_POLICY");
    result["omp_wait_policy"] = wait_policy ? wait_policy : "";
    std::printf("%s\n", result.dump().c_str());
    return 0;
  } catch (const Error& e) {
    std::fprintf(stderr, "%s: %s %s\n", program.c_str(), e.what(), e.hint().c_str());
    return 2;
  }
}

}  // namespace rave::bench

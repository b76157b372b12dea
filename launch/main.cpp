// The `rave` executable: finds the subcommand, parses its options and runs it.
#include <spdlog/spdlog.h>
#include <torch/version.h>

#include <cstring>
#include <iostream>
#include <optional>

#include "bench/tasks.h"
#include "core/error.h"
#include "core/log.h"
#include "core/openmp_wait_policy.h"
#include "dist/communicator.h"
#include "dist/guard.h"
#include "launch/command.h"
#include "rave/version.h"

namespace {

using rave::launch::Command;

void list_command(std::ostream& out, const Command& c) {
  out << "  " << c.name << std::string(c.name.size() < 12 ? 12 - c.name.size() : 1, ' ') << c.summary << "\n";
}

void print_overview(std::ostream& out) {
  out << "rave " << rave::kVersion << " - distributed CLIP-guided backlit image enhancement (RAVE, CLIP-LIT, "
      << "CLIP-LIT-Latent)\n\nUsage: rave <subcommand> [options]     rave <subcommand> --help\n"
      << "       mpirun -np N rave train --config run.ini\n\nSubcommands:\n";
  for (const Command& c : rave::launch::commands()) list_command(out, c);
  out << "  bench       benchmarks and machine checks (JSON): rave bench --help\n";
  out << "\nOptions:\n  --help       this overview\n  --version    print the version\n";
}

const Command* find_command(const std::vector<Command>& list, const std::string& name) {
  for (const Command& c : list) {
    if (c.name == name) return &c;
  }
  return nullptr;
}

void declare_shared_options(const Command& command, rave::io::OptionSet& options) {
  options.flags()
      ("help,h", "show this help")
      ("config", rave::io::po::value<std::string>()->default_value(""), "INI file with [section] keys; flags win")
      ("verbose,v", rave::io::po::bool_switch(), "debug logging, and logging from every rank")
      ("log-file", rave::io::po::value<std::string>()->default_value(""), "also log to this file (rank r>0: FILE.rank<r>)");
  if (command.distributed) {
    options.flags()
        ("device", rave::io::po::value<std::string>()->default_value("auto"), "auto, cpu, cuda or cuda:N")
        ("threads", rave::io::po::value<int>()->default_value(0), "intra-op threads per rank (0: cores / ranks on this machine)");
  }
}

bool wants_help(int argc, char** argv, int first) {
  for (int i = first; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--help") || !std::strcmp(argv[i], "-h")) return true;
  }
  return false;
}

// `name` is the command as typed ("train", "bench step"); its options start at argv[first]. argv stays whole: a
// re-execution and MPI_Init need the original command line.
int run_command(const Command& command, const std::string& name, int argc, char** argv, int first) {
  rave::io::OptionSet options("rave " + name + " [options]");
  declare_shared_options(command, options);
  if (command.declare) command.declare(options);
  if (wants_help(argc, argv, first)) {
    std::cout << command.summary << "\n\n" << options.help();
    return 0;
  }
  // Logging to the terminal before the options are known, so that usage errors are reported like any other.
  rave::core::setup_logging({});
  return rave::dist::run_guarded(nullptr, [&] {
    const auto values = options.parse(argc - (first - 1), argv + (first - 1));
    std::optional<rave::dist::Context> context;
    if (command.distributed) {
      const int threads = values["threads"].as<int>();
      if (threads < 0 || threads > rave::dist::kMaxThreads) {
        throw rave::UsageError("--threads " + std::to_string(threads) + " is out of range",
                               "0 (cores / ranks on this machine) to " + std::to_string(rave::dist::kMaxThreads));
      }
      // The compute-heavy subcommands only: re-executing loads LibTorch twice (~0.35 s).
      rave::core::prefer_passive_openmp_waits(argv);
      context.emplace(&argc, &argv,
                      rave::dist::ContextOptions{values["device"].as<std::string>(), values["threads"].as<int>()});
    }
    rave::core::setup_logging({context ? context->rank() : 0, context ? context->world_size() : 1,
                               values["verbose"].as<bool>(), values["log-file"].as<std::string>()});
    return rave::dist::run_guarded(context ? &*context : nullptr, [&] {
      spdlog::info("rave {} {}", rave::kVersion, name);
      if (context) spdlog::info("{}", context->describe());
      spdlog::info("effective configuration:\n{}", options.describe(values));
      return command.run({values, context ? &*context : nullptr, options.to_ini(values)});
    });
  });
}

// rave bench TASK [options]: the tasks are subcommands of their own.
int run_bench(int argc, char** argv) {
  const std::vector<Command>& tasks = rave::bench::tasks();
  const std::string task = argc > 2 ? argv[2] : "";
  if (task.empty() || task == "--help" || task == "-h") {
    std::ostream& out = task.empty() ? std::cerr : std::cout;
    out << "Usage: rave bench <task> [options]     rave bench <task> --help\n"
        << "Each task prints one JSON object on stdout; bench/*.sh run them beside PyTorch baselines.\n\nTasks:\n";
    for (const Command& c : tasks) list_command(out, c);
    return task.empty() ? 2 : 0;
  }
  const Command* command = find_command(tasks, task);
  if (!command) {
    std::cerr << "rave bench: unknown task '" << task << "' (hint: run 'rave bench --help' for the list)\n";
    return 2;
  }
  return run_command(*command, "bench " + task, argc, argv, 3);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    print_overview(std::cerr);
    return 2;
  }
  const std::string first = argv[1];
  if (first == "--help" || first == "-h" || first == "help") {
    print_overview(std::cout);
    return 0;
  }
  if (first == "--version") {
    // Which LibTorch and backends this binary has: what a bug report and a GPU user need first.
#ifdef RAVE_TORCH_CUDA
    const char* torch_kind = " with CUDA";
#else
    const char* torch_kind = ", CPU only";
#endif
    std::cout << "rave " << rave::kVersion << " (LibTorch " << TORCH_VERSION << torch_kind
              << (rave::dist::nccl_compiled() ? "; backends mpi, nccl" : "; backend mpi") << ")\n";
    return 0;
  }
  if (first == "bench") return run_bench(argc, argv);
  const Command* command = find_command(rave::launch::commands(), first);
  if (!command) {
    std::cerr << "rave: unknown subcommand '" << first << "' (hint: run 'rave --help' for the list)\n";
    return 2;
  }
  return run_command(*command, first, argc, argv, 2);
}

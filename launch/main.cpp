// The `rave` executable: finds the subcommand, parses its options and runs it.
#include <spdlog/spdlog.h>
#include <torch/version.h>

#include <cstring>
#include <iostream>
#include <optional>

#include "dist/communicator.h"
#include "dist/error.h"
#include "dist/guard.h"
#include "dist/log.h"
#include "dist/openmp_wait_policy.h"
#include "launch/command.h"
#include "rave/version.h"

namespace {

using rave::launch::Command;

void print_overview(std::ostream& out) {
  out << "rave " << rave::kVersion << " - distributed CLIP-guided backlit image enhancement (RAVE, CLIP-LIT, "
      << "CLIP-LIT-Latent)\n\nUsage: rave <subcommand> [options]     rave <subcommand> --help\n"
      << "       mpirun -np N rave train --config run.ini\n\nSubcommands:\n";
  for (const Command& c : rave::launch::commands()) {
    out << "  " << c.name << std::string(c.name.size() < 12 ? 12 - c.name.size() : 1, ' ') << c.summary
        << (c.run ? "" : "  [not available yet]") << "\n";
  }
  out << "\nOptions:\n  --help       this overview\n  --version    print the version\n";
}

const Command* find_command(const std::string& name) {
  for (const Command& c : rave::launch::commands()) {
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

bool wants_help(int argc, char** argv) {
  for (int i = 2; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--help") || !std::strcmp(argv[i], "-h")) return true;
  }
  return false;
}

int run_command(const Command& command, int argc, char** argv) {
  rave::io::OptionSet options("rave " + command.name + " [options]");
  declare_shared_options(command, options);
  if (command.declare) command.declare(options);
  if (wants_help(argc, argv)) {
    std::cout << command.summary << (command.run ? "" : " [not available yet]") << "\n\n" << options.help();
    return 0;
  }
  // Logging to the terminal before the options are known, so that usage errors are reported like any other.
  rave::dist::setup_logging({});
  return rave::dist::run_guarded(nullptr, [&] {
    const auto values = options.parse(argc - 1, argv + 1);
    if (!command.run) {
      throw rave::UsageError("rave " + command.name + " is not available yet",
                             "see README.md for the subcommands that work in this version");
    }
    std::optional<rave::dist::Context> context;
    if (command.distributed) {
      const int threads = values["threads"].as<int>();
      if (threads < 0 || threads > rave::dist::kMaxThreads) {
        throw rave::UsageError("--threads " + std::to_string(threads) + " is out of range",
                               "0 (cores / ranks on this machine) to " + std::to_string(rave::dist::kMaxThreads));
      }
      // The compute-heavy subcommands only: re-executing loads LibTorch twice (~0.35 s).
      rave::dist::prefer_passive_openmp_waits(argv);
      context.emplace(&argc, &argv,
                      rave::dist::ContextOptions{values["device"].as<std::string>(), values["threads"].as<int>()});
    }
    rave::dist::setup_logging({context ? context->rank() : 0, context ? context->world_size() : 1,
                               values["verbose"].as<bool>(), values["log-file"].as<std::string>()});
    return rave::dist::run_guarded(context ? &*context : nullptr, [&] {
      spdlog::info("rave {} {}", rave::kVersion, command.name);
      if (context) spdlog::info("{}", context->describe());
      spdlog::info("effective configuration:\n{}", options.describe(values));
      return command.run({values, context ? &*context : nullptr, options.to_ini(values)});
    });
  });
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
  const Command* command = find_command(first);
  if (!command) {
    std::cerr << "rave: unknown subcommand '" << first << "' (hint: run 'rave --help' for the list)\n";
    return 2;
  }
  return run_command(*command, argc, argv);
}

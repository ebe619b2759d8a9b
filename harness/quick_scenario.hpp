#pragma once
// `lastcall check [options] -- COMMAND ARGS...`: a test without YAML. The options become scenario
// YAML text, and that text is what runs (loaded like any file), so `--print-scenario` shows exactly
// the scenario that a check runs: a user graduates to a file by saving it.
#include "units.hpp"

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace lastcall::harness {

struct QuickOptions {
    std::vector<std::string> command;           // after `--`; {port} {workdir} as in scenarios
    std::string name = "check";                 // the run directory's name
    std::string path = "/";                     // keep-alive GETs
    int connections = 2;                        // as check-graceful-shutdown's concurrency
    Duration think = std::chrono::milliseconds(10);
    std::optional<std::string> slow_path;       // also requests that are in flight at the signal
    int slow_connections = 2;
    std::optional<std::string> stream_path;     // also an SSE stream (complete when its HTTP message is)
    std::optional<std::string> stream_end;      // ... and only with this `data:` last

    std::optional<std::string> ready_path;      // readiness over HTTP (judged by readiness_flip); else TCP
    Duration ready_timeout = std::chrono::seconds(10);
    int signal = 15;                            // the graceful signal
    Duration warmup = std::chrono::seconds(1);  // ready -> signal
    Duration grace = std::chrono::seconds(10);  // signal -> SIGKILL (docker stop's default)
    std::string exit = "0";                     // as `expect.exit` spells it: 0, SIGTERM, [0, SIGTERM]
    std::string host = "127.0.0.1";
    std::optional<std::uint16_t> port;          // a fixed port; default: a free one, as {port} and $PORT
    std::string shutdown_report;                // where the target writes a shutdown report (extra evidence)
    std::string cwd;                            // where the command runs: the directory lastcall check was started in
    bool print_scenario = false;
    bool help = false;                          // --help: nothing else was read
    std::vector<std::string> run_arguments;     // passed to `lastcall run` (--run-dir, --junit, --json, --server, --quiet, --no-color)
    std::filesystem::path run_root = "runs";
};

// quick_options.cpp, with CLI11: the options before --, the command after it. Throws
// std::invalid_argument with a message for the command line (exit 2).
QuickOptions parse_quick_options(const std::vector<std::string>& arguments);

// The equivalent scenario, commented; `lastcall run` on it runs the same test.
std::string quick_scenario_yaml(const QuickOptions& options);

// Writes the scenario to <run root>/<name>.yaml (kept next to the run) and returns the
// arguments of the `lastcall run` that performs the check.
std::vector<std::string> prepare_quick_run(const QuickOptions& options);

// A note for stderr when the command shows no sign of taking the port; empty otherwise.
std::string quick_port_hint(const QuickOptions& options);

std::string quick_usage();  // what `lastcall check --help` prints

} // namespace lastcall::harness

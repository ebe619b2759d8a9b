#pragma once
// One run of one scenario (docs/design.md's run sequence): spawn the target, wait until ready, start
// load, play the timeline, watch the exit, post-check the port and orphans, write the run dir.
// A short conductor over the parts: Supervisor (generations, processes), Timeline (what is due),
// LoadGenerator, samplers, RunDirectory (artifacts).
#include "live_status.hpp"
#include "run_result.hpp"
#include "scenario.hpp"

#include <atomic>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace lastcall::harness {

struct RunOptions {
    std::string server_path;             // {server}
    std::filesystem::path run_root = "runs";
    std::optional<std::filesystem::path> run_dir;  // runs go to run_dir/<name>[-rN], replacing earlier ones
    std::optional<std::uint64_t> seed;   // overrides the scenario's
    std::vector<std::string> extra_target_args;  // appended to target.command (after substitution)
    int repeat_index = 0;
    int repeats = 1;                     // how many times this scenario runs (names -rN directories)
    // lastcall is the child subreaper and starts nothing but targets: every child it did not
    // spawn is an orphan of the target, reaped and recorded the moment it exits (the CLI sets this).
    bool adopt_orphans = false;
    std::function<void(const LiveStatus&)> progress;  // the live view: four times a second and at every change of phase
    std::function<void(const std::string&)> event;   // one line per timeline event
    const std::atomic<bool>* interrupted = nullptr;  // Ctrl+C: end the run now, clean up
};

// Never throws for anything the target does; a target that cannot start is `start_error`.
RunResult run_scenario(const Scenario& scenario, const RunOptions& options);

// {port} {workdir} {server} substituted.
std::string substitute(std::string text, std::uint16_t port, const std::string& workdir, const std::string& server);

} // namespace lastcall::harness

#pragma once
// One run of one scenario (DESIGN.md's run sequence): spawn the target, wait until ready, start
// load, play the timeline, watch the exit, post-check the port and orphans, write the run dir.
#include "history.hpp"
#include "histogram.hpp"
#include "samplers.hpp"
#include "scenario.hpp"
#include "target_process.hpp"

#include <array>
#include <atomic>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace lastcall::harness {

struct RunOptions {
    std::string server_path;             // {server}
    std::filesystem::path run_root = "runs";
    std::optional<std::filesystem::path> run_dir;  // exact directory; default run_root/<name>-<time>
    std::optional<std::uint64_t> seed;   // overrides the scenario's
    std::vector<std::string> extra_target_args;  // appended to target.command (after substitution)
    int repeat_index = 0;
    std::function<void(const std::string&)> status;  // live status, about four times a second
    std::function<void(const std::string&)> event;   // one line per timeline event
    const std::atomic<bool>* interrupted = nullptr;  // Ctrl+C: end the run now, clean up
};

// The target never became ready (or could not be started): lastcall exits 3.
class TargetStartError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

struct SignalSent {
    std::int64_t t_us = 0;
    int signal = 0;
    std::string to;
};

struct RunResult {
    std::filesystem::path run_dir;
    std::uint16_t port = 0;
    std::uint64_t seed = 0;
    std::optional<TargetExit> exit;
    std::int64_t exit_us = -1;
    std::vector<SignalSent> signals;
    std::array<std::uint64_t, outcome_count> outcomes{};
    std::uint64_t requests = 0;
    Histogram latency;
    bool port_released = false;
    std::vector<pid_t> orphans;
    bool limit_reached = false;
    bool interrupted = false;
    bool killed_by_scenario = false;
    std::string shutdown_report_path;  // copied into the run dir, when the target wrote one
    std::string shutdown_report;       // its text
    std::int64_t duration_us = 0;
    std::int64_t ready_us = 0;          // the first generation became ready (t = 0 is load start)
    std::int64_t run_start_unix_us = 0; // t = 0 on the wall clock, to place the target's own report

    // The evidence the checks read.
    std::vector<RequestRecord> history;
    std::vector<std::string> workload_names;
    std::vector<ReadinessChange> readiness;
    std::vector<ProcSample> samples;
    std::optional<std::int64_t> counter_after_restart;  // acked_writes_durable readback
    std::string counter_readback_error;
    std::map<std::int64_t, std::string> job_states_after_restart;  // jobs_accounted readback
    bool restarted = false;
};

RunResult run_scenario(const Scenario& scenario, const RunOptions& options);

// {port} {workdir} {server} substituted.
std::string substitute(std::string text, std::uint16_t port, const std::string& workdir, const std::string& server);

} // namespace lastcall::harness

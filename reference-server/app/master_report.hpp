#pragma once
// The master's shutdown report, STATE/shutdown-report.json: the same version-1 shape a single
// process writes (so a reader of one reads the other), plus what only a master knows.
//
// - `phases` fold the phases of the workers that stopped with the service: each phase from the
//   moment every worker had entered it (the latest start) to the moment the last one left it (the
//   latest end), with its worst outcome, in ms since the master's signal. So they stay in order,
//   and a reader's "draining had begun by then" is true of every worker. `counts` and
//   `connections` are the workers' sums.
// - `workers[]`: every worker ever started, its fate, and its own report as it wrote it.
// - `reloads[]`, `stragglers`, `role: "master"`.
#include "master_state.hpp"

#include <nlohmann/json_fwd.hpp>

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace lastcall::server {

// The phases, counts and connections of the workers that stopped with the service, folded into one.
// Each report's times are relative to its own `signal_at_unix_us`; the result's to `signal_at_unix_us`.
nlohmann::json fold_worker_reports(const std::vector<const nlohmann::json*>& stopped, std::int64_t signal_at_unix_us);

struct MasterReportContext {
    coordinator::TimePoint started{};    // the master's start: spawn/ready/end times count from it
    std::int64_t signal_at_unix_us = 0;  // when the shutdown signal came; 0: none came
    std::filesystem::path workers_dir;   // STATE/workers: each worker's report in worker_report_path()
    double total_ms = 0;                 // from the signal to the report
    int exit_code = 0;
};

// Where worker `id` writes its own report. The master removes it before starting that worker, so a
// report left by an earlier run is never taken for this one's.
std::filesystem::path worker_state_dir(const std::filesystem::path& workers_dir, const WorkerId& id);
std::filesystem::path worker_report_path(const std::filesystem::path& workers_dir, const WorkerId& id);

std::string master_report_json(const MasterState& state, const MasterReportContext& context);

} // namespace lastcall::server

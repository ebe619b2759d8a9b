#pragma once
// What one run recorded: the evidence the checks judge and the reports show. Times are
// microseconds since the run's t = 0, when the load started (the target was ready); what happened
// before (spawn, readiness) has negative times.
#include "exit_status.hpp"
#include "histogram.hpp"
#include "not_http.hpp"
#include "open_loop_tally.hpp"
#include "history.hpp"
#include "process_family.hpp"
#include "process_life.hpp"
#include "proxy/proxy_record.hpp"
#include "readback.hpp"
#include "run_history.hpp"
#include "samplers.hpp"
#include "signal_router.hpp"
#include "stream_trail.hpp"
#include "target_report.hpp"

#include <array>
#include <csignal>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace lastcall::harness {

struct SignalSent {
    std::int64_t t_us = 0;      // just before kill(): the earliest moment it could take effect
    int signal = 0;
    std::string to;             // "target", "group", "child 1 (pid 4242)"
    int generation = 0;
    bool delivered = true;
    std::string why;            // when not delivered
    bool target_gone = false;   // not delivered because the target had already exited
    std::int64_t returned_us = -1;  // when kill() returned: delivered by then (-1: same as t_us)
    SignalPurpose purpose = SignalPurpose::shutdown;
    SignalTarget target = SignalTarget::main;
    std::vector<pid_t> pids;        // the processes it went to (empty for the group)
    // The run's signal moment: a delivered shutdown signal to the main process or its group (STOP
    // and CONT never are, whatever a hand-built record says).
    bool marks_shutdown() const {
        return delivered && is_shutdown_signal(purpose, target) && signal != SIGSTOP && signal != SIGCONT;
    }
};

struct GenerationSummary {
    int number = 0;
    pid_t pid = -1;
    std::int64_t spawn_us = 0, ready_us = -1, exit_us = -1;
    std::optional<TargetExit> exit;
    bool killed_by_lastcall = false;
    TargetReportReading report;
    std::vector<FamilyMember> orphans;
    std::filesystem::path stdout_file, stderr_file;
};

struct RunResult {
    std::filesystem::path run_dir;
    std::uint16_t port = 0;
    std::uint64_t seed = 0;
    // The target could not be started, never became ready, or does not speak HTTP (not_http.hpp):
    // nothing about its shutdown can be judged (exit 3).
    std::string start_error;
    std::string restart_error;   // a restart_target generation could not be started
    // The target was ready, then died on its own before the scenario's first signal: how, when, the
    // last of its stderr. Its shutdown was never tried; one failed check says so (checks.cpp).
    std::string died_before_signal;
    std::string skipped;         // the run was not made, and why (target.pid1 without a PID namespace)
    std::string containment;     // how the target's processes were kept track of
    std::vector<GenerationSummary> generations;
    int judged_generation = 1;   // the one that got the first shutdown signal (else the first)
    std::optional<TargetExit> exit;  // of the judged generation
    std::int64_t exit_us = -1;
    std::vector<SignalSent> signals;
    // With `proxy:`: the load went through lastcall's proxy; what it did with each request (proxy.jsonl).
    bool proxied = false;
    std::vector<proxy::ProxyRecord> proxy_records;
    std::array<std::uint64_t, outcome_count> outcomes{};
    std::uint64_t requests = 0;
    std::uint64_t harness_errors = 0;  // requests lastcall itself failed on (events.jsonl has each)
    // The history on disk (history_spool.hpp): records past limits.history_bytes were dropped, and
    // the checks judged the rest (harness_errors fails then: its verdicts are in doubt).
    std::uint64_t history_bytes = 0;
    std::uint64_t history_limit = 0;
    std::string history_limit_lowered;  // the limit is below limits.history_bytes: why (half the free space in DIR)
    std::uint64_t history_dropped = 0;
    std::string history_error;  // a history file that could not be written or read
    // history.jsonl, the history exported for people and scripts (run_artifacts.cpp): its bytes,
    // its lines, its budget (what limits.history_bytes leaves beside the sorted history, less room
    // kept for the requests not ok), and the ok requests left out past it (0: it holds every request).
    std::uint64_t history_jsonl_bytes = 0;
    std::uint64_t history_jsonl_records = 0;
    std::uint64_t history_jsonl_budget = 0;
    std::uint64_t history_jsonl_ok_left_out = 0;
    Histogram latency;
    bool port_released = false;
    std::vector<FamilyMember> orphans;  // of every generation
    bool limit_reached = false;
    // The target was still running when lastcall ended it, and why (limits.max_duration reached; a
    // timeline with no shutdown signal, done): the console says it beside the verdict. Empty: it
    // exited on its own or by the scenario's signals.
    std::string ended_by_lastcall;
    bool interrupted = false;
    bool killed_by_scenario = false;
    bool ended_by_undelivered_signal = false;
    TargetReportReading report;  // the judged generation's shutdown report
    std::int64_t duration_us = 0;
    std::int64_t run_start_unix_us = 0;  // t = 0 on the wall clock, to place the target's own report
    std::int64_t began_unix_us = 0;      // when the run began on the wall clock (before the spawn); 0: never
    std::vector<std::string> target_command;  // the argv spawned, placeholders filled; empty: never spawned

    // The evidence the checks read. The requests: a recorded run's are on disk (`recorded`, sorted
    // by intended start, read by streaming passes: memory stays bounded whatever the run's
    // length); `history` holds those of a run built by hand (tests). for_each_request reads both.
    std::shared_ptr<const RunHistory> recorded;
    std::vector<RequestRecord> history;
    std::vector<StreamTrail> stream_trails;  // stream.resume workloads: event ids by request
    std::vector<std::string> workload_names;
    std::vector<std::uint64_t> requests_by_workload;
    // By workload index: an open loop's arrivals as scheduled, started, skipped and never started
    // (all zero for a closed loop). Judged by workloads_ran; run.json `open_loops`.
    std::vector<OpenLoopTally> open_loops;
    AnswersSeen answers;  // whether the target spoke HTTP (not_http.hpp): as the load saw it, or with proxy: as the proxy did (upstream_answers.hpp)
    std::vector<ProbeResult> probes;
    std::vector<ReadinessChange> readiness;  // derived from probes, for drawing
    std::vector<ProcSample> samples;
    std::vector<ProcessLife> processes;  // every process of the target but its generations' main ones
    std::string process_events;          // where their ends come from: the kernel, or the scan (and why)
    std::optional<nlohmann::json> acked_state_after_restart;  // acked_writes: the value read back
    std::string acked_readback_error;
    std::map<JobRef, JobReadback> job_states_after_restart;  // jobs_accounted readback
    bool restarted = false;
};

// Every request of the run, in order: the recorded ones, then those held in memory. False when
// the recorded history could not be read back (its error() says why).
inline bool for_each_request(const RunResult& run, const RecordVisitor& visit) {
    const bool read = !run.recorded || run.recorded->for_each(visit);
    for (const auto& r : run.history) visit(r);
    return read;
}

} // namespace lastcall::harness

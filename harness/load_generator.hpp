#pragma once
// Drives the workloads at the target: one io_context per thread, each thread with its own share of
// every workload's connections (closed loop) or rate (open loop; latency from the intended start,
// so coordinated omission shows). Each thread appends its records to its own history file on disk
// (history_spool.hpp: memory stays bounded however long the run) and keeps its own histogram and
// live counters; they meet only at the end.
#include "bench_summary.hpp"
#include "endpoint.hpp"
#include "histogram.hpp"
#include "history.hpp"
#include "history_spool.hpp"
#include "not_http.hpp"
#include "open_loop_tally.hpp"
#include "scenario.hpp"
#include "stream_trail.hpp"

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace lastcall::harness {

using SteadyTime = std::chrono::steady_clock::time_point;

struct LiveCounts {
    std::int64_t in_flight = 0;
    std::uint64_t completed = 0;
    std::array<std::uint64_t, outcome_count> by_outcome{};
    int connect_errno = 0;  // the errno of a connect that failed other than refused, if any (bench names "Too many open files")
};

struct LoadOptions {
    LoadOptions() = default;
    LoadOptions(std::string target_host, std::uint16_t target_port, int thread_count, SteadyTime start)
        : host(std::move(target_host)), port(target_port), threads(thread_count), run_start(start) {}

    std::string host = "127.0.0.1";  // resolved with resolve_host() unless `address` is given
    std::uint16_t port = 0;
    int threads = 1;
    SteadyTime run_start{};
    // Where the threads' history files go (unlinked at once: nothing stays); empty: the system's
    // temporary directory. Past history_bytes in all (split evenly between the threads) records
    // are dropped and counted (history_stats()). The cap is lowered to half the space free there
    // at the start: a history never fills the disk unasked.
    std::filesystem::path history_dir;
    std::uint64_t history_bytes = default_history_bytes;
    // The latency origin of the running bench totals (tally()).
    LatencyOrigin tally_origin = LatencyOrigin::send;
    std::optional<HostAddress> address;      // the target, resolved once by the caller (preferred)
    // Open loop: at most this many requests outstanding (so connections) across the threads; an
    // arrival past it is skipped and counted (skipped_arrivals()). 0: lastcall's own bound, 20,000
    // per thread.
    int open_loop_connections = 0;
    // Tests only: called on the request's thread just before each attempt is written, with its
    // id. Whatever it throws must come back as that request's `unknown (harness_error)` record.
    std::function<void(std::uint64_t request_id)> fault_hook;
};

// A value a reply held at its workload's contract pointer (a job's id), as JSON text.
struct KeptReplyValue {
    std::uint16_t workload = 0;
    std::string value;
};

// What the history files hold, over every thread.
struct HistoryStats {
    std::uint64_t records = 0;  // kept
    std::uint64_t dropped = 0;  // past the cap (or after a write failed): in the live counts, not in the history
    // Every request that ended, recorded or dropped (counters beside the capped history): by
    // outcome as classified when it ended, and first attempts by workload index.
    std::array<std::uint64_t, outcome_count> outcomes{};
    std::vector<std::uint64_t> by_workload;
    std::uint64_t bytes = 0;    // on disk
    std::uint64_t limit = 0;    // the cap in force (LoadOptions::history_bytes, or half the free space)
    std::string limit_lowered;  // why the cap is below history_bytes ("half the free space in DIR"), or empty
    std::string error;          // a write or read that failed, in words
};

// lastcall failed, not the target: an exception on a request (request_id) or in a loop (0).
struct HarnessError {
    std::uint64_t request_id = 0;
    std::string what;
};

class LoadWorker;
struct WorkerContext;

class LoadGenerator {
public:
    // Throws std::invalid_argument when options.host cannot be resolved (start-up only).
    LoadGenerator(std::vector<Workload> workloads, LoadOptions options);
    ~LoadGenerator();
    LoadGenerator(const LoadGenerator&) = delete;
    LoadGenerator& operator=(const LoadGenerator&) = delete;

    void start();
    // No new requests from these workloads; their waits (think, schedule, start) end at once.
    void stop(const std::vector<std::string>& workloads);  // empty: all; thread-safe
    void start_workload(const std::string& workload);      // thread-safe
    // Requests in flight at `when` that fail afterwards are `unknown`: the scenario cut them.
    void mark_target_killed(SteadyTime when);
    // A new target generation started at `when`: requests sent from then on are judged again.
    void mark_target_restarted(SteadyTime when);
    // Stops all load, gives requests in flight up to `grace` to resolve, cuts the rest, joins.
    // Returns within grace + a few ms whatever the think times, timeouts and connects in progress.
    void finish(std::chrono::nanoseconds grace);

    LiveCounts live() const;
    bool all_workloads_done() const;
    // Job ids from accepted jobs so far. Call only while no load runs (all workloads done).
    std::vector<KeptReplyValue> peek_reply_values() const;
    // After finish(): every record kept, ordered by intended start, in memory. Scenario runs and
    // tests; the bench streams instead (for_each_record).
    std::vector<RequestRecord> take_history();
    // After finish(): every record kept, streamed from disk thread by thread (in each thread's
    // order of completion). False when a history file could not be read (history_stats().error).
    bool for_each_record(const std::function<void(const RequestRecord&)>& visit) const;
    HistoryStats history_stats() const;
    // After finish(): the bench's totals over every request, kept online (whatever the history dropped).
    BenchTally tally() const;
    // After finish(): the event ids of every stream of a stream.resume workload, by request.
    std::vector<StreamTrail> take_stream_trails();
    // After finish(): latency (intended start -> done) of requests that ended ok.
    Histogram latency() const;
    // After finish(): open-loop arrivals never sent because the outstanding limit was reached.
    std::uint64_t skipped_arrivals() const;
    // After finish(): whether the target answered with HTTP, and the first answer that was not.
    AnswersSeen answers() const;
    // After finish(): each workload's open-loop schedule, by workload index (closed ones all zero).
    std::vector<OpenLoopTally> open_loop_tallies() const;
    // After finish(): connections the open loops needed at once (their pools' peak size).
    std::size_t open_loop_connections_used() const;
    // After finish(): requests sent back to back in a closed loop's keep-alive run, without a
    // coroutine (harness/load_worker_keep_alive.cpp); the others (a connection's first, retries,
    // streams, think, open loops) went through the loop's coroutine.
    std::uint64_t requests_back_to_back() const;
    // After finish(): every exception lastcall met (its requests are `unknown`, `harness_error`).
    std::vector<HarnessError> harness_errors() const;
    const std::vector<Workload>& workloads() const { return workloads_; }

private:
    std::vector<Workload> workloads_;
    LoadOptions options_;
    std::atomic<std::int64_t> killed_at_us_{-1};
    std::atomic<std::int64_t> restarted_at_us_{-1};
    std::unique_ptr<WorkerContext> context_;  // shared by the workers; stable
    std::uint64_t history_limit_ = 0;
    std::string history_limit_lowered_;
    std::vector<std::unique_ptr<LoadWorker>> workers_;
    bool finished_ = false;
};

} // namespace lastcall::harness

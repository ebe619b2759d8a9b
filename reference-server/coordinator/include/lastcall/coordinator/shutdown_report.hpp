#pragma once
// What the coordinator did, written as JSON at exit. The format is documented in
// reference-server/README.md; the harness reads it as extra evidence. Bump `version` on any change
// that removes or renames a field.
#include "lastcall/coordinator/clock.hpp"
#include "lastcall/coordinator/connection_registry.hpp"
#include "lastcall/coordinator/phase.hpp"

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace lastcall::coordinator {

inline constexpr int shutdown_report_version = 1;

struct PhaseRecord {
    Phase phase = Phase::running;
    Duration start{};  // since the signal
    Duration end{};
    PhaseOutcome outcome = PhaseOutcome::completed;
    std::string detail;
};

struct ResourceRecord {
    std::string name;
    std::string outcome;  // closed | failed | timed_out | not_reached
    Duration took{};
    std::string error;
};

struct CheckpointRecord {
    std::string outcome = "none";  // none | written | failed
    std::string path;
    std::uint64_t bytes = 0;
    std::uint64_t generation = 0;
    std::string error;
    // Where persisting spent its time: taking the state (the app's snapshot hook), writing the
    // checkpoint (of which in fsync), and the app's work after it (the journal's compaction). A
    // persisting phase that takes seconds on a stalled disk says so here.
    Duration snapshot_took{};
    Duration write_took{};
    Duration fsync_took{};
    Duration after_write_took{};
};

// Requests and streams only: connections are counted apart (ConnectionCounts).
struct ShutdownCounts {
    std::uint64_t in_flight_at_signal = 0;
    std::uint64_t completed_during_drain = 0;
    std::uint64_t rejected_during_drain = 0;  // answered 503 + Retry-After + Connection: close
    std::uint64_t cut_at_drain_deadline = 0;  // still in flight when draining gave up
    std::uint64_t streams_ended_by_shutdown = 0;
    std::uint64_t tasks_completed = 0;
    std::uint64_t tasks_cancelled = 0;
    std::uint64_t tasks_abandoned = 0;
};

struct ShutdownReport {
    ShutdownMode mode = ShutdownMode::graceful;
    ShutdownIntent intent = ShutdownIntent::stop;
    bool escalated = false;
    int signal = 0;  // 0: shutdown requested by the program itself
    WallTime signal_at{};
    std::vector<PhaseRecord> phases;
    ShutdownCounts counts;
    ConnectionCounts connections;
    std::vector<std::string> abandoned_tasks;
    std::vector<ResourceRecord> resources;
    CheckpointRecord checkpoint;
    std::string durability_error;  // the journal could not make acknowledged writes durable
    Duration total{};
    int exit_code = 0;
};

std::string to_json(const ShutdownReport& report);
// Written to a temp file and renamed: a reader never sees half a report. Not fsynced: it is read
// after the exit, and nothing acknowledged depends on it (shutdown_report.cpp says why). Throws
// std::runtime_error naming the file.
void write_report_file(const std::filesystem::path& path, const ShutdownReport& report);
// The same for a report already made into text (a prefork master folds its workers' reports).
void write_report_file(const std::filesystem::path& path, std::string_view json_text);

} // namespace lastcall::coordinator

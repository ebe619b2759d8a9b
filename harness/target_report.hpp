#pragma once
// The target's own shutdown report (the reference server's format, documented in
// reference-server/README.md; any target may write it), parsed once into types at the edge.
// Parsing never throws: a field of the wrong type makes the report corrupt, with the field named.
// A report is bound to the generation that wrote it: a file left by an earlier run, or not
// rewritten by this generation, is stale and is not this run's evidence.
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace lastcall::harness {

struct TargetReportPhase {
    std::string name;  // preparing, draining, tasks, cleaning, persisting, exiting
    double start_ms = 0;  // since the signal
    double end_ms = 0;
    std::string outcome;
    std::string detail;
};

// One worker of a prefork master, as its report lists it (lastcall-server's `workers[]`; any
// master may write it). Times are the target's, for evidence only.
struct TargetReportWorker {
    std::string id;           // "2.1", "1.2#2"
    std::int64_t pid = 0;
    std::string fate;         // drained | killed | crashed (| serving: never ended)
    std::string ended_while;  // running | reloading | stopping
    std::string exit;         // "exit 0", "killed by SIGKILL"; empty while it runs
    std::optional<double> ended_ms;
};

struct TargetReport {
    std::int64_t signal_at_unix_us = 0;  // 0: the program shut itself down
    std::vector<TargetReportPhase> phases;
    std::map<std::string, std::int64_t> counts;
    std::vector<std::string> abandoned_tasks;
    std::optional<int> exit_code;
    std::optional<std::vector<TargetReportWorker>> workers;  // a master's report
    std::vector<std::string> stragglers;                      // workers killed at its graceful timeout
    const TargetReportPhase* phase(std::string_view name) const;
    std::int64_t count(const std::string& name) const;  // 0 when absent
};

// The report's text parsed, or why it is corrupt.
struct ParsedTargetReport {
    std::optional<TargetReport> report;
    std::string error;
};
ParsedTargetReport parse_target_report(std::string_view text);

// A file's identity, to tell "written by this generation" from "left over".
struct FileStamp {
    bool exists = false;
    std::uint64_t device = 0, inode = 0, size = 0;
    std::int64_t mtime_ns = 0;
    static FileStamp of(const std::filesystem::path& file);
    bool operator==(const FileStamp&) const = default;
};

struct TargetReportReading {
    enum class State { not_configured, absent, stale, corrupt, ok };
    State state = State::not_configured;
    std::filesystem::path source;  // where the target wrote it
    std::filesystem::path copy;    // kept in the run directory (absent when none was written)
    std::string detail;            // why absent, stale or corrupt
    std::optional<TargetReport> report;
};
std::string_view to_string(TargetReportReading::State state);

// Reads `source` after the generation that started at `spawned_unix_us` ended at `ended_unix_us`;
// `before` is the file's stamp taken just before that generation started. Copies what it finds to
// `copy` (also a stale or corrupt file: it is evidence).
TargetReportReading read_target_report(const std::filesystem::path& source, const FileStamp& before, std::int64_t spawned_unix_us,
                                       std::int64_t ended_unix_us, const std::filesystem::path& copy);

} // namespace lastcall::harness

#pragma once
// A run read back from its run directory, for `lastcall report RUN_DIR`: the reports re-rendered
// from what the run left, without running anything again and without judging again. The checks'
// verdicts are kept in verdict.json (written beside report.json, a few kB: the checks with their
// numbers and moments, what the scenario and the spawn were); the rest comes from the files the
// run already leaves: run.json, history.jsonl, samples.jsonl, events.jsonl (readiness),
// proxy.jsonl and the judged generation's shutdown-report-N.json. history.jsonl is streamed into a
// sorted history on disk (harness/run_history.hpp), as the run's own was: memory stays bounded
// whatever the run's length.
#include "checks.hpp"

#include <filesystem>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace lastcall::reports {

inline constexpr int verdict_file_version = 1;

// Writes verdict.json into the run directory (nothing when the run never got one).
void keep_verdict(const harness::RunVerdict& verdict);

// A directory that is not a run directory, or a file in it that cannot be read as the run left
// it; the message names the file and what is wrong with it.
class RunRecordError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

struct RecordedRun {
    std::unique_ptr<harness::Scenario> scenario;  // what the reports name: name, file, description, command, repeat
    harness::RunVerdict verdict;                   // points at `scenario`
    std::vector<std::string> notes;                // where the re-rendered report can differ from the original, and why
    bool latency_kept = false;                     // verdict.json kept the run's latency histogram (else recomputed)
};

// Throws RunRecordError.
RecordedRun read_run_directory(const std::filesystem::path& dir);

} // namespace lastcall::reports

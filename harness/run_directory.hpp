#pragma once
// The directory one run leaves behind (harness/README.md lists its files): made inside the run
// root and never outside it, never replacing anything lastcall did not make, with every artifact
// written per target generation (target-N.stdout, target-N.stderr, shutdown-report-N.json).
#include "history.hpp"
#include "run_history.hpp"
#include "proxy/proxy_record.hpp"
#include "samplers.hpp"
#include "stream_trail.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <stdexcept>
#include <unordered_set>
#include <string>
#include <vector>

namespace lastcall::harness {

class RunDirectoryError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// What history.jsonl holds: its bytes and lines, and the ok requests left out past its budget.
struct HistoryExport {
    std::uint64_t bytes = 0;
    std::uint64_t records = 0;
    std::uint64_t ok_left_out = 0;
};

// The requests history.jsonl must keep whatever its budget: the ids the checks quote as evidence.
// Asked once, when the budget is first reached.
using QuotedRequests = std::function<std::unordered_set<std::uint64_t>()>;

class RunDirectory {
public:
    // `exact`: the directory is root/<name>[-rN] (an earlier lastcall run there is replaced);
    // otherwise root/<name>-<local time>[-rN], with -2, -3... when that is taken.
    // Throws RunDirectoryError when the name is not one path component or the directory cannot be made.
    static RunDirectory create(const std::filesystem::path& root, bool exact, const std::string& name, int repeat_index, int repeats);

    const std::filesystem::path& path() const { return path_; }
    std::filesystem::path workdir() const { return path_ / "work"; }
    std::filesystem::path target_stdout(int generation) const;
    std::filesystem::path target_stderr(int generation) const;
    std::filesystem::path shutdown_report(int generation) const;

    // One JSON line per record, in the order `records` visits them (streamed: any length). Once
    // the file would pass `ok_budget` bytes with an ok request, that one and every ok one after it
    // are left out (counted), but for those `quoted` names; every request not ok is written.
    HistoryExport write_history(const RecordSource& records, const std::vector<std::string>& workload_names, std::uint64_t ok_budget,
                                const QuotedRequests& quoted) const;
    // streams.jsonl, only when a workload resumes streams: each stream's event ids by request.
    void write_stream_trails(const std::vector<StreamTrail>& trails) const;
    void write_events(const std::vector<nlohmann::json>& events) const;
    void write_samples(const std::vector<ProcSample>& samples) const;
    void write_proxy_records(const std::vector<proxy::ProxyRecord>& records) const;  // proxy.jsonl
    void write_json(const std::string& file, const nlohmann::json& value) const;

private:
    explicit RunDirectory(std::filesystem::path path) : path_(std::move(path)) {}
    std::filesystem::path path_;
};

} // namespace lastcall::harness

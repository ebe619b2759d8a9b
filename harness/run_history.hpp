#pragma once
// A scenario run's history as the checks, history.jsonl and the report read it: every record the
// load threads kept, in order of intended start (ties in the order the threads' files hold them:
// the order the in-memory stable sort gave before), in one unlinked file in the run directory,
// read back by streaming passes. So a run holds a bounded amount of history in memory whatever
// its length, and every pass sees the records in the same order.
//
// Sorted once, when the load has finished, as an external merge sort: runs of `chunk_records`
// records sorted in memory and written out, then merged into the one file. Memory while sorting:
// one chunk (64K records, about 9 MB), then a 32 KiB read buffer per run merged, at most
// merge_fan_in = 256 at a time (8 MB): one round up to 16M records (18 minutes at 15,000
// requests/s), more rounds beyond, never more memory. While reading: one 1 MiB buffer. On disk,
// while sorting: the history twice more (the sorted runs, and the round being written).
#include "history.hpp"

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>

namespace lastcall::harness {

using RecordVisitor = std::function<void(const RequestRecord&)>;
// Visits every record of a source (a LoadGenerator's files); false when part could not be read.
using RecordSource = std::function<bool(const RecordVisitor&)>;

class RunHistory {
public:
    inline static constexpr std::size_t default_chunk_records = 64 * 1024;
    inline static constexpr std::size_t merge_fan_in = 256;

    // Reads `source` once, lets `adjust` change each record (the run's own verdicts on it: cut by a
    // process kill), and sorts what it read by intended start into a file in `dir`. Throws
    // std::runtime_error when no file can be made or written there; a source that could not be
    // read whole is kept as far as it was read (read_error()).
    static std::shared_ptr<const RunHistory> sort(const std::filesystem::path& dir, const RecordSource& source,
                                                  const std::function<void(RequestRecord&)>& adjust,
                                                  std::size_t chunk_records = default_chunk_records);
    ~RunHistory();
    RunHistory(const RunHistory&) = delete;
    RunHistory& operator=(const RunHistory&) = delete;

    // Every record in order. False (and error() says why) when the file cannot be read back.
    bool for_each(const RecordVisitor& visit) const;
    std::uint64_t size() const { return records_; }
    std::uint64_t bytes() const { return bytes_; }
    // What went wrong reading the source (sort) or the file (for_each), in words; empty: nothing.
    const std::string& error() const { return error_; }

private:
    RunHistory() = default;

    int fd_ = -1;
    std::uint64_t records_ = 0;
    std::uint64_t bytes_ = 0;
    mutable std::string error_;
};

} // namespace lastcall::harness

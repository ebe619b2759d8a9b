#pragma once
// One load thread's history on disk: its records appended as they complete (history_codec.hpp),
// buffered in memory and written 256 KiB at a time, so the harness holds a bounded amount of
// history whatever the run's length. The write happens on the load thread when the buffer fills:
// one write(2) into the page cache per ~8,000 requests (tens of microseconds), cheaper than a
// hand-off to another thread on a machine whose cores the load already uses.
//
// The file is unlinked at once: it takes disk space only while lastcall runs, and goes however
// lastcall ends. Past `cap_bytes` records are dropped (counted, never silently): the run's
// aggregates (outcome counts, histograms) are kept online and stay exact; what the history lacks
// is said by whoever reads it (the bench summary, run.json).
#include "history.hpp"

#include <array>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace lastcall::harness {

inline constexpr std::uint64_t default_history_bytes = std::uint64_t{1} << 30;  // 1 GiB

class HistorySpool {
public:
    // Throws std::runtime_error when no file can be made in `dir` (start-up only).
    HistorySpool(const std::filesystem::path& dir, std::uint64_t cap_bytes);
    ~HistorySpool();
    HistorySpool(const HistorySpool&) = delete;
    HistorySpool& operator=(const HistorySpool&) = delete;

    void append(const RequestRecord& record);
    void flush();  // what is buffered, to the file

    std::uint64_t records() const { return records_; }  // kept
    // Every record appended, kept or dropped: what happened, whatever the cap let the file keep.
    const std::array<std::uint64_t, outcome_count>& appended_by_outcome() const { return appended_by_outcome_; }
    // First attempts (retry_of 0) appended, by workload index.
    const std::vector<std::uint64_t>& appended_by_workload() const { return appended_by_workload_; }
    std::uint64_t dropped() const { return dropped_; }  // past the cap, or after a write failed
    std::uint64_t bytes() const { return bytes_ + used_; }
    const std::string& error() const { return error_; }  // a write or read that failed, in words

    // Every kept record, in the order appended, streamed from the file (call flush() first). False
    // (and error() says why) when the file cannot be read or holds bytes that are not records.
    bool for_each(const std::function<void(const RequestRecord&)>& visit) const;

private:
    void write_buffer();

    int fd_ = -1;
    std::uint64_t cap_;
    std::unique_ptr<char[]> buffer_;  // room for a full buffer and one more record
    std::size_t used_ = 0;
    std::uint64_t bytes_ = 0;  // in the file
    std::uint64_t records_ = 0;
    std::uint64_t buffered_records_ = 0;  // of records_, still in buffer_
    std::uint64_t dropped_ = 0;
    std::array<std::uint64_t, outcome_count> appended_by_outcome_{};
    std::vector<std::uint64_t> appended_by_workload_;
    mutable std::string error_;
};

} // namespace lastcall::harness

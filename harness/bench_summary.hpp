#pragma once
// What a `lastcall bench` run amounts to: completed responses apart from failures, failures by how
// they failed, latency in microseconds from the right origin, and wrk's Thread Stats. Tallied
// online, one record at a time, by each load thread (a few additions and a histogram bucket per
// request) and merged at the end: exact however much of the history the disk kept. Pure:
// unit-tested on made-up records.
#include "histogram.hpp"
#include "history.hpp"

#include <cstdint>
#include <vector>

namespace lastcall::harness {

// Where a request's latency is measured from. Closed loop: its send (after the connect when the
// request opens its connection, as wrk). Open loop: its intended start on the schedule, so the wait
// behind a slow response counts (coordinated omission corrected).
enum class LatencyOrigin { send, intended_start };

struct BenchFailures {
    std::uint64_t connect_refused = 0;
    std::uint64_t connect_error = 0;  // any other connect failure (unreachable, --timeout ran out connecting)
    std::uint64_t timeout = 0;        // --timeout ran out on the request's write and response
    std::uint64_t reset = 0;
    std::uint64_t closed = 0;         // the server closed before the response ended
    std::uint64_t write = 0;
    std::uint64_t bad_response = 0;   // not HTTP/1.x, a bad length or chunk, a head too large
    std::uint64_t harness = 0;        // lastcall's own fault (an exception), not the target's
    std::uint64_t total() const { return connect_refused + connect_error + timeout + reset + closed + write + bad_response + harness; }
};

// wrk's Thread Stats columns.
struct Spread {
    double mean = 0;
    double stdev = 0;
    double max = 0;
    double within_stdev_percent = 0;  // samples within mean +/- stdev
    std::uint64_t samples = 0;
};
Spread spread_of(const std::vector<double>& samples);

struct BenchSummary {
    std::uint64_t completed = 0;     // whole responses, any status
    std::uint64_t non_2xx_3xx = 0;   // of those, status below 200 or from 400
    std::uint64_t bytes = 0;         // response bytes of completed responses
    BenchFailures failed;
    std::uint64_t cut_at_end = 0;    // in flight when the run stopped: neither completed nor failed
    // Connects lastcall could not even attempt: the system gave it no descriptor (EMFILE, ENFILE).
    // Lastcall's limit, not the target's failure: counted apart from `failed`.
    std::uint64_t not_attempted = 0;
    LatencyOrigin origin = LatencyOrigin::send;
    Histogram latency_us;            // completed responses, microseconds
    Spread latency;                  // microseconds
    Spread requests_per_thread;      // per thread per second, sampled over 100 ms windows
};

struct SummaryInput {
    LatencyOrigin origin = LatencyOrigin::send;
    int threads = 1;
    std::int64_t stopped_us = 0;  // when the run was told to stop, since its start: what fails after was cut
};

__extension__ typedef unsigned __int128 WideCount;  // a sum of squares that cannot overflow

// One thread's running totals (or several threads', merged).
class BenchTally {
public:
    explicit BenchTally(LatencyOrigin origin = LatencyOrigin::send) : origin_(origin) {}
    // after_stop: the request ended after the run was told to stop (an `unknown` one then was cut
    // by the run's end, not failed by the target). out_of_descriptors: its connect failed for want
    // of a file descriptor in lastcall (EMFILE, ENFILE): never attempted, not the target's failure.
    void add(const RequestRecord& record, bool after_stop, bool out_of_descriptors = false);
    void merge(const BenchTally& other);
    // Windows from the run's start to `input.stopped_us` (whole ones only) give the per-thread rates.
    BenchSummary summary(const SummaryInput& input) const;

private:
    LatencyOrigin origin_;
    BenchSummary totals_;
    std::uint64_t latency_sum_ = 0;         // microseconds
    WideCount latency_squares_ = 0;  // exact: no rounding whatever the run's length
    // Completed responses per 100 ms window, by thread (the id's low byte).
    std::vector<std::vector<std::uint64_t>> windows_;
};

// The same over a history in memory (what the tests and short runs have).
BenchSummary summarize(const std::vector<RequestRecord>& history, const SummaryInput& input);

} // namespace lastcall::harness

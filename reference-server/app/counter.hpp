#pragma once
// The counter behind /counter and /set as the routes see it: an increment is acknowledged (its Done
// called with Failure::none) only once it is durable, and a read answers only a durable value.
// Two implementations: CounterStore (one process: a write-ahead journal with group commit, compacted
// by the checkpoint) and SharedCounter (prefork workers: one SQLite database all of them commit to).
#include <cstdint>
#include <functional>
#include <string>

namespace lastcall::server {

class Counter {
public:
    enum class Failure { none, overflow, not_durable };
    struct Result {
        Failure failure = Failure::none;
        std::int64_t value = 0;
        std::string error;
    };
    // Called on the counter's own thread, or at once on the caller's.
    using Done = std::function<void(const Result&)>;
    // For /status and /metrics: group commits, increments they made durable, bytes on disk.
    struct Stats {
        std::uint64_t commits = 0;
        std::uint64_t records = 0;
        std::uint64_t bytes = 0;
    };

    virtual ~Counter() = default;

    // Starts committing; `on_failure` is told once if a write, fsync or commit fails (never retried).
    virtual void start(std::function<void(const std::string&)> on_failure) = 0;
    virtual void increment(std::int64_t by, Done done) = 0;
    // The durable value as of now (with several processes: including what the others committed).
    virtual void read(Done done) = 0;
    // The last durable value this process knows of, without waiting (status and metrics only: with
    // several processes it may lag behind what the others committed).
    virtual std::int64_t durable_value() const = 0;
    virtual Stats stats() const = 0;
    // Makes what is pending durable (or fails it) and stops (a resource closed at shutdown).
    virtual void close() = 0;
};

} // namespace lastcall::server

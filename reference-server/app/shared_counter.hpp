#pragma once
// The counter of a prefork service (--workers): one SQLite database, STATE/counter.db (WAL,
// synchronous=FULL), that every worker commits to, so /counter and /set answer for the service and
// not for whichever worker took the request.
//
// Group commit per process: a thread of its own takes every increment waiting and runs one
// `BEGIN IMMEDIATE; SELECT value; UPDATE counter SET value = value + Σ; COMMIT`, then acknowledges
// each increment with the value its prefix reached. SQLite's write lock serialises the workers, so
// values are unique across processes and a set of `+1`s is 1..N. A reply waits for the commit that
// covers it; a reader never sees a commit before its fsync (SQLite syncs the WAL before it
// publishes the commit in the wal-index). A failed commit is never retried (the pages it wrote may
// be gone from the cache: fsyncgate): the counter turns failed, every increment gets 500 and the
// server stops with exit 6, as the single-process journal does. A busy lock is no failure: nothing
// was written, so the transaction is simply begun again.
//
// Turns: before its transaction a worker takes an flock on `counter.db.lock`. SQLite's own lock
// still serialises the commits, but a connection waiting for it polls with sleeps of up to 100 ms,
// and a worker that commits back to back starves the other: wrk -c32 against --workers 2 measured
// a p99 acknowledgement of 1.29 s (97 ms with one worker). The kernel wakes an flock waiter as soon
// as the holder lets go.
#include "counter.hpp"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

struct sqlite3;

namespace lastcall::server {

class SharedCounter final : public Counter {
public:
    struct Options {
        std::filesystem::path file;
        // How long BEGIN IMMEDIATE waits for another process's commit before it is begun again.
        std::chrono::milliseconds busy_timeout{5000};
        // Fault ack-before-durable: acknowledge when queued (from what this process last saw plus
        // what it queued since), commit every `lazy_interval`. A SIGKILL loses what was acknowledged
        // since the last commit, and two workers hand out the same values.
        bool ack_before_durable = false;
        std::chrono::milliseconds lazy_interval{100};
    };

    // Creates the database with its one row when it is missing or empty, and turns WAL on. The
    // master does it before any worker starts, so that workers never race to create it. A database
    // that holds tables but no counter is refused (never a silent restart from 0). Throws
    // std::runtime_error naming the file.
    static void prepare(const std::filesystem::path& file);

    // Opens the prepared database and reads the value. Throws std::runtime_error naming the file.
    explicit SharedCounter(Options options);
    ~SharedCounter() override;
    SharedCounter(const SharedCounter&) = delete;
    SharedCounter& operator=(const SharedCounter&) = delete;

    void start(std::function<void(const std::string&)> on_failure) override;
    // Done runs on the counter's thread after the commit (or at once: overflow, failed, closed).
    void increment(std::int64_t by, Done done) override;
    // A SELECT on the counter's thread, after the commits queued before it.
    void read(Done done) override;
    std::int64_t durable_value() const override { return last_value_.load(std::memory_order_acquire); }
    Stats stats() const override;
    // Commits what is queued (acknowledging it), stops the thread, closes the database. Idempotent.
    void close() override;

private:
    struct Waiting {
        std::int64_t by = 0;
        Done done;  // empty: already acknowledged (the ack-before-durable fault)
    };
    void run();
    void commit(std::vector<Waiting>& batch, bool closing);
    void answer_reads(std::vector<Done>& reads);
    void fail(std::vector<Waiting>& batch, const std::string& error);

    Options options_;
    sqlite3* db_ = nullptr;
    int turn_fd_ = -1;  // counter.db.lock: whose turn it is to commit (flock)
    std::function<void(const std::string&)> on_failure_;

    std::mutex mutex_;
    std::condition_variable wake_;
    std::vector<Waiting> increments_;
    std::vector<Done> reads_;
    bool started_ = false;
    bool stopping_ = false;
    bool closed_ = false;
    std::string failure_;  // not empty: a commit failed; nothing is acknowledged any more
    std::int64_t queued_sum_ = 0;  // the fault: acknowledged, not yet committed
    std::thread thread_;

    std::atomic<std::int64_t> last_value_{0};
    std::atomic<std::uint64_t> commits_{0};
    std::atomic<std::uint64_t> records_{0};
};

} // namespace lastcall::server

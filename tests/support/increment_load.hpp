#pragma once
// Closed-loop POST /counter/incr?by=1 on keep-alive connections, keeping every value the server
// acknowledged - the evidence for "no acknowledged increment lost, no value handed out twice".
// Bounded in count (per connection) as well as by stop().
#include <atomic>
#include <chrono>
#include <cstddef>
#include <filesystem>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace lastcall::testing {

class IncrementLoad {
public:
    IncrementLoad(unsigned short port, int connections, int max_per_connection = 200'000);
    ~IncrementLoad();
    IncrementLoad(const IncrementLoad&) = delete;
    IncrementLoad& operator=(const IncrementLoad&) = delete;

    void stop();
    // Bounded wait until `n` increments were acknowledged.
    bool wait_for_acks(std::size_t n, std::chrono::milliseconds limit);
    std::size_t acks() const { return acks_.load(); }
    std::vector<long> values() const;

private:
    void run(unsigned short port, int max_requests);

    std::atomic<bool> stopping_{false};
    std::atomic<std::size_t> acks_{0};
    mutable std::mutex mutex_;
    std::vector<long> values_;
    std::vector<std::thread> workers_;
};

// Over every value acknowledged: how many appear more than once.
std::size_t repeated_values(std::vector<long> values);

// GET /counter's value; -1 when the answer is not 200.
long read_counter(unsigned short port);

// What a SIGKILL test saw of the counter.
struct KillObservation {
    std::vector<long> acked_before;  // values acknowledged before the SIGKILL
    long after_restart = -1;         // the counter the restarted server reports
    std::vector<long> acked_after;   // values the restarted server acknowledged
};

// Starts lastcall-server again on `state` with `args`, reads the counter, takes up to 100 more
// increments (bounded: 10 s), then stops it with SIGTERM: fills `after_restart` and `acked_after`.
void observe_restart(const std::filesystem::path& state, const std::vector<std::string>& args, KillObservation& seen);

} // namespace lastcall::testing

#pragma once
// Closed-loop POST /counter/incr?by=1 on keep-alive connections, keeping every value the server
// acknowledged - the evidence for "no acknowledged increment lost, no value handed out twice".
// Bounded in count (per connection) as well as by stop().
#include <atomic>
#include <chrono>
#include <cstddef>
#include <mutex>
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

} // namespace lastcall::testing

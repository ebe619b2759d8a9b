#pragma once
// Background observers of the target, each on its own thread so a slow answer never stalls the
// timeline: the readiness prober (its own connection, every 10 ms, transitions recorded) and the
// /proc sampler (every 50 ms: open fds, threads, descendants, RSS).
#include "probe_client.hpp"

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <sys/types.h>
#include <thread>
#include <vector>

namespace lastcall::harness {

using SteadyTime = std::chrono::steady_clock::time_point;

struct ReadinessChange {
    std::int64_t t_us = 0;
    bool ready = false;
    int status = 0;  // -1: no answer
};

class ReadinessProber {
public:
    ReadinessProber(std::string host, std::uint16_t port, std::string path, SteadyTime run_start);
    ~ReadinessProber() { stop(); }
    void stop();
    bool ready() const { return ready_.load(); }
    std::vector<ReadinessChange> changes() const;

private:
    void run();
    ProbeClient client_;
    std::string path_;
    SteadyTime run_start_;
    std::atomic<bool> ready_{true};
    std::atomic<bool> stopping_{false};
    mutable std::mutex mutex_;
    std::vector<ReadinessChange> changes_;
    std::thread thread_;
};

struct ProcSample {
    std::int64_t t_us = 0;
    int fds = -1;
    long threads = 0;
    int descendants = 0;
    long rss_kib = 0;
};

class ProcSampler {
public:
    // `descendants` is asked each tick (the supervisor remembers every descendant it sees).
    ProcSampler(pid_t pid, SteadyTime run_start, std::function<int()> descendants);
    ~ProcSampler() { stop(); }
    void stop();
    void retarget(pid_t pid) { pid_.store(pid); }
    std::vector<ProcSample> samples() const;

private:
    void run();
    std::atomic<pid_t> pid_;
    SteadyTime run_start_;
    std::function<int()> descendants_;
    std::atomic<bool> stopping_{false};
    mutable std::mutex mutex_;
    std::vector<ProcSample> samples_;
    std::thread thread_;
};

} // namespace lastcall::harness

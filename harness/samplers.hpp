#pragma once
// Background observers of the target, each on its own thread so a slow answer never stalls the
// timeline: the readiness prober (every 10 ms, every answer recorded: an HTTP probe on its own
// connection; a TCP one asks the kernel whether the port has a listener, making no connection) and the
// /proc sampler (every 50 ms: open fds, threads, descendants, RSS, threads waiting on the disk, and
// the connections still in the target's accept queue, from the kernel).
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

// One readiness probe. A probe that got no answer in time says nothing about readiness (a busy
// server may not answer while it is perfectly ready), so it is its own kind, not a failure.
struct ProbeResult {
    enum class Kind : std::uint8_t { ready, not_ready, no_answer };
    std::int64_t sent_us = 0;  // the probe left at or after this time
    std::int64_t done_us = 0;
    int status = 0;            // HTTP status; -1: none
    Kind kind = Kind::no_answer;
    bool connected = false;    // it made a new connection to the target (an HTTP probe's is kept while the server keeps it; a TCP one asks the kernel)
};

struct ReadinessChange {
    std::int64_t t_us = 0;
    bool ready = false;
    int status = 0;  // -1: no answer
};
// Where the probe's answers changed between ready and not (an unanswered probe counts as not ready
// here: this is for drawing the readiness band, not for judging).
std::vector<ReadinessChange> readiness_changes(const std::vector<ProbeResult>& probes);

class ReadinessProber {
public:
    ReadinessProber(HostAddress address, std::uint16_t port, std::string path, SteadyTime run_start);
    ~ReadinessProber() { stop(); }
    void stop();
    bool ready() const { return ready_.load(); }  // the latest probe passed
    std::vector<ProbeResult> results() const;

private:
    void run();
    ProbeClient client_;
    std::uint16_t port_;
    std::string path_;
    SteadyTime run_start_;
    std::atomic<bool> ready_{true};
    std::atomic<bool> stopping_{false};
    mutable std::mutex mutex_;
    std::vector<ProbeResult> results_;
    std::thread thread_;
};

struct ProcSample {
    std::int64_t t_us = 0;
    int fds = -1;
    long threads = 0;
    int descendants = 0;
    long rss_kib = 0;
    int disk_waiting = 0;  // threads in state D: what the kernel, not the target, says it waits on
    // Connections to the target's port the kernel completed and the target had not accepted yet,
    // read just before `fds`: lastcall counts them open, the target holds no descriptor of them
    // (fd_leak). -1: the kernel was not asked.
    int accept_queue = -1;
};

class ProcSampler {
public:
    // `descendants` is asked each tick (the supervisor remembers every descendant it sees); `port`
    // is the target's, whose accept queue each sample reads (0: none read).
    ProcSampler(pid_t pid, std::uint16_t port, SteadyTime run_start, std::function<int()> descendants);
    ~ProcSampler() { stop(); }
    void stop();
    void retarget(pid_t pid) { pid_.store(pid); }
    std::vector<ProcSample> samples() const;

private:
    void run();
    std::atomic<pid_t> pid_;
    std::uint16_t port_;
    SteadyTime run_start_;
    std::function<int()> descendants_;
    std::atomic<bool> stopping_{false};
    mutable std::mutex mutex_;
    std::vector<ProcSample> samples_;
    std::thread thread_;
};

} // namespace lastcall::harness

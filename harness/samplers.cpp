#include "samplers.hpp"

#include "listener_watch.hpp"
#include "proc_reader.hpp"

#include <arpa/inet.h>
#include <cerrno>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

namespace lastcall::harness {

using Clock = std::chrono::steady_clock;

namespace {
std::int64_t micros_since(SteadyTime start) {
    return std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - start).count();
}
} // namespace

ReadinessProber::ReadinessProber(HostAddress address, std::uint16_t port, std::string path, SteadyTime run_start)
    : client_(std::move(address), port), port_(port), path_(std::move(path)), run_start_(run_start), thread_([this] { run(); }) {}

void ReadinessProber::stop() {
    stopping_ = true;
    if (thread_.joinable()) thread_.join();
}

std::vector<ProbeResult> ReadinessProber::results() const {
    std::lock_guard lock(mutex_);
    return results_;
}

std::vector<ReadinessChange> readiness_changes(const std::vector<ProbeResult>& probes) {
    std::vector<ReadinessChange> changes;
    bool ready = true;
    for (const auto& p : probes) {
        const bool now_ready = p.kind == ProbeResult::Kind::ready;
        if (now_ready == ready) continue;
        ready = now_ready;
        changes.push_back(ReadinessChange{p.done_us, now_ready, p.status});
    }
    return changes;
}

void ReadinessProber::run() {
    auto next = Clock::now();
    while (!stopping_) {
        ProbeResult probe;
        probe.sent_us = micros_since(run_start_);
        // A refused connection is an answer (nothing listens any more); silence is not.
        ProbeError error = ProbeError::none;
        const auto made_before = client_.connections_made();
        if (path_.empty()) {
            // TCP readiness: asked of the kernel (a listener on the port or none, a refusal's
            // answer) rather than by a connection the target would have to accept and close; a
            // connect only where the kernel cannot be asked.
            const auto listening = tcp_listener_on(port_);
            if (listening) {
                probe.status = *listening ? 200 : -1;
                if (!*listening) error = ProbeError::refused;
            } else {
                probe.status = client_.connect_only(std::chrono::milliseconds(200)) ? 200 : -1;
                if (probe.status < 0) error = ProbeError::connect_failed;
            }
        } else {
            const auto response = client_.request(path_, std::chrono::milliseconds(200), 0);
            probe.status = response.status;
            error = response.error;
        }
        probe.done_us = micros_since(run_start_);
        probe.connected = client_.connections_made() != made_before;
        probe.kind = probe.status >= 200 && probe.status < 300           ? ProbeResult::Kind::ready
                     : probe.status > 0 || error == ProbeError::refused ? ProbeResult::Kind::not_ready
                                                                        : ProbeResult::Kind::no_answer;
        ready_ = probe.kind == ProbeResult::Kind::ready;
        {
            std::lock_guard lock(mutex_);
            results_.push_back(probe);
        }
        next += std::chrono::milliseconds(10);
        std::this_thread::sleep_until(std::max(next, Clock::now()));
    }
}

ProcSampler::ProcSampler(pid_t pid, std::uint16_t port, SteadyTime run_start, std::function<int()> descendants)
    : pid_(pid), port_(port), run_start_(run_start), descendants_(std::move(descendants)), thread_([this] { run(); }) {}

void ProcSampler::stop() {
    stopping_ = true;
    if (thread_.joinable()) thread_.join();
}

std::vector<ProcSample> ProcSampler::samples() const {
    std::lock_guard lock(mutex_);
    return samples_;
}

void ProcSampler::run() {
    const long page_kib = ::sysconf(_SC_PAGESIZE) / 1024;
    auto next = Clock::now();
    while (!stopping_) {
        const auto pid = pid_.load();
        if (const auto stat = read_proc_stat(pid); stat && stat->state != 'Z') {
            ProcSample sample;
            sample.t_us = micros_since(run_start_);
            // The queue before the fds: a connection accepted in between is then in both, counted
            // as the target's own descriptor, never as one of lastcall's it lacks; at the start,
            // where the accepts crowd, that errs toward a smaller growth, not a false leak.
            if (port_ != 0) sample.accept_queue = tcp_accept_queue(port_).value_or(-1);
            sample.fds = count_open_fds(pid);
            // Memory read after the descriptors: an exiting process frees its memory before it
            // closes them, so a count taken while they closed comes with no resident memory, and
            // fd_leak skips it as the exit's. Read before, a sample could pair the live memory with
            // a half-closed table ("0 (3 fewer than at the start)" hid a leak on a fresh-clone CI).
            const auto after = read_proc_stat(pid);
            const bool still_alive = after && after->alive() && after->start_ticks == stat->start_ticks;
            sample.threads = stat->threads;
            sample.descendants = descendants_();
            sample.rss_kib = still_alive ? after->rss_pages * page_kib : 0;
            sample.disk_waiting = count_threads_waiting_on_disk(pid);
            std::lock_guard lock(mutex_);
            samples_.push_back(sample);
        }
        next += std::chrono::milliseconds(50);
        std::this_thread::sleep_until(std::max(next, Clock::now()));
    }
}

} // namespace lastcall::harness

#include "samplers.hpp"

#include "target_process.hpp"

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

ReadinessProber::ReadinessProber(std::string host, std::uint16_t port, std::string path, SteadyTime run_start)
    : client_(std::move(host), port), path_(std::move(path)), run_start_(run_start), thread_([this] { run(); }) {}

void ReadinessProber::stop() {
    stopping_ = true;
    if (thread_.joinable()) thread_.join();
}

std::vector<ReadinessChange> ReadinessProber::changes() const {
    std::lock_guard lock(mutex_);
    return changes_;
}

void ReadinessProber::run() {
    auto next = Clock::now();
    while (!stopping_) {
        const int status = path_.empty() ? (client_.connect_only(std::chrono::milliseconds(200)) ? 200 : -1)
                                         : client_.get(path_, std::chrono::milliseconds(200));
        const bool now_ready = status >= 200 && status < 300;
        if (now_ready != ready_.load()) {
            ready_ = now_ready;
            std::lock_guard lock(mutex_);
            changes_.push_back(ReadinessChange{micros_since(run_start_), now_ready, status});
        }
        next += std::chrono::milliseconds(10);
        std::this_thread::sleep_until(std::max(next, Clock::now()));
    }
}

ProcSampler::ProcSampler(pid_t pid, SteadyTime run_start, std::function<int()> descendants)
    : pid_(pid), run_start_(run_start), descendants_(std::move(descendants)), thread_([this] { run(); }) {}

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
            ProcSample sample{micros_since(run_start_), count_open_fds(pid), stat->threads, descendants_(), stat->rss_pages * page_kib};
            std::lock_guard lock(mutex_);
            samples_.push_back(sample);
        }
        next += std::chrono::milliseconds(50);
        std::this_thread::sleep_until(std::max(next, Clock::now()));
    }
}

} // namespace lastcall::harness

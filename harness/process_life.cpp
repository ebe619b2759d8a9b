#include "process_life.hpp"

#include <algorithm>
#include <ctime>
#include <unistd.h>

namespace lastcall::harness {

using Clock = std::chrono::steady_clock;

Clock::time_point steady_start_time(unsigned long long start_ticks) {
    // Start ticks count from boot on CLOCK_BOOTTIME, which runs on through a suspend; the steady
    // clock does not. Their difference now places the start on the steady clock.
    timespec boot{};
    ::clock_gettime(CLOCK_BOOTTIME, &boot);
    const auto steady_now = Clock::now();
    const auto since_boot = std::chrono::seconds(boot.tv_sec) + std::chrono::nanoseconds(boot.tv_nsec);
    const long hz = ::sysconf(_SC_CLK_TCK);
    const auto started = std::chrono::microseconds(static_cast<std::int64_t>(start_ticks) * 1'000'000 / (hz > 0 ? hz : 100));
    return steady_now - std::chrono::duration_cast<Clock::duration>(since_boot - started);
}

std::vector<ProcessLife> process_lives(const std::vector<FamilyMember>& members, Clock::time_point run_start) {
    const auto us = [run_start](Clock::time_point t) { return std::chrono::duration_cast<std::chrono::microseconds>(t - run_start).count(); };
    std::vector<ProcessLife> out;
    for (const auto& m : members) {
        ProcessLife life{m.pid, m.first_parent, m.generation, m.command, us(steady_start_time(m.start_ticks)), us(m.first_seen),
                         us(m.last_seen_alive), m.gone_seen ? us(*m.gone_seen) : -1};
        life.spawn_us = std::min(life.spawn_us, life.first_seen_us);  // it was seen, so it was born
        out.push_back(std::move(life));
    }
    std::sort(out.begin(), out.end(), [](const ProcessLife& a, const ProcessLife& b) { return a.spawn_us < b.spawn_us; });
    return out;
}

} // namespace lastcall::harness

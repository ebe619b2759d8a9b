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
    const long hz = ::sysconf(_SC_CLK_TCK) > 0 ? ::sysconf(_SC_CLK_TCK) : 100;
    // Never later than now: a start time past the boot clock is bad data (and would overflow).
    const auto now_ticks = static_cast<unsigned long long>(boot.tv_sec) * static_cast<unsigned long long>(hz) +
                           static_cast<unsigned long long>(boot.tv_nsec) * static_cast<unsigned long long>(hz) / 1'000'000'000ULL;
    const auto ticks = std::min(start_ticks, now_ticks);
    const auto started = std::chrono::microseconds(static_cast<std::int64_t>(ticks * 1'000'000ULL / static_cast<unsigned long long>(hz)));
    return steady_now - std::chrono::duration_cast<Clock::duration>(since_boot - started);
}

std::vector<ProcessLife> process_lives(const std::vector<FamilyMember>& members, Clock::time_point run_start,
                                       const std::vector<KernelExit>& kernel_exits) {
    const auto us = [run_start](Clock::time_point t) { return std::chrono::duration_cast<std::chrono::microseconds>(t - run_start).count(); };
    std::vector<ProcessLife> out;
    for (const auto& m : members) {
        ProcessLife life{m.pid, m.first_parent, m.generation, m.command, us(steady_start_time(m.start_ticks)), us(m.first_seen),
                         us(m.last_seen_alive), m.gone_seen ? us(*m.gone_seen) : -1};
        life.spawn_us = std::min(life.spawn_us, life.first_seen_us);  // it was seen, so it was born
        // The first end of this pid after this process's birth (a tick of slack): not an earlier owner's.
        const auto born = run_start + std::chrono::microseconds(life.spawn_us) - std::chrono::milliseconds(10);
        for (const auto& e : kernel_exits) {
            if (e.pid != m.pid || e.when < born) continue;
            life.exit_us = us(e.when);
            life.exit = exit_from_wait_status(e.wait_status);
            break;
        }
        out.push_back(std::move(life));
    }
    std::sort(out.begin(), out.end(), [](const ProcessLife& a, const ProcessLife& b) { return a.spawn_us < b.spawn_us; });
    return out;
}

void record_process_events(EventLog& events, const ProcessLife& life) {
    events.record_at_us(life.spawn_us, "process_spawn",
                        {{"pid", life.pid}, {"parent", life.parent}, {"generation", life.generation}, {"command", life.command},
                         {"seen_us", life.first_seen_us}, {"source", "/proc start time (10 ms ticks)"}});
    if (life.exit) {
        events.record_at_us(life.exit_us, "process_exit",
                            {{"pid", life.pid}, {"parent", life.parent}, {"generation", life.generation}, {"status", life.exit->describe()},
                             {"exited", life.exit->exited}, {"code", life.exit->code}, {"signal", life.exit->signal}, {"source", "kernel"}});
        return;
    }
    if (life.gone_us < 0) return;
    // lastcall is not its parent, and the kernel did not say: only when (within a scan), not how.
    events.record_at_us(life.gone_us, "process_exit",
                        {{"pid", life.pid}, {"parent", life.parent}, {"generation", life.generation}, {"last_seen_us", life.last_seen_us},
                         {"status", "unknown"}, {"source", "/proc scan (50 ms): ended after last_seen_us, by this time"}});
}

nlohmann::json to_json(const ProcessLife& life) {
    return {{"pid", life.pid},           {"parent", life.parent},           {"generation", life.generation}, {"command", life.command},
            {"spawn_us", life.spawn_us}, {"first_seen_us", life.first_seen_us}, {"last_seen_us", life.last_seen_us}, {"gone_us", life.gone_us},
            {"exit_us", life.exit_us},   {"exit", life.exit ? nlohmann::json(life.exit->describe()) : nlohmann::json(nullptr)}};
}

} // namespace lastcall::harness

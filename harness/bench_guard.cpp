#include "bench_guard.hpp"

#include <fmt/format.h>

#include <sys/resource.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

namespace lastcall::harness {

namespace {

std::uint64_t open_descriptors() {
    std::error_code ec;
    std::uint64_t n = 0;
    for (std::filesystem::directory_iterator it("/proc/self/fd", ec), end; !ec && it != end; it.increment(ec)) ++n;
    return n;
}

std::string limit_text(std::uint64_t limit) { return limit == RLIM_INFINITY ? std::string("unlimited") : std::to_string(limit); }

} // namespace

std::optional<std::string> descriptor_shortage(std::uint64_t connections, int threads, std::uint64_t open_now, std::uint64_t soft_limit,
                                               std::uint64_t hard_limit) {
    const auto own = open_now + descriptors_per_thread * static_cast<std::uint64_t>(threads) + descriptors_besides;
    const auto needed = connections + own;
    if (soft_limit == RLIM_INFINITY || needed <= soft_limit) return std::nullopt;
    const auto raise = hard_limit == RLIM_INFINITY || needed <= hard_limit
                           ? fmt::format("raise it with `ulimit -n {}` (up to the hard limit, `ulimit -Hn`: {})", needed, limit_text(hard_limit))
                           : fmt::format("the hard limit (`ulimit -Hn`) is {} too: root raises it (`ulimit -Hn {}`, or LimitNOFILE= in a "
                                         "systemd unit, nofile in /etc/security/limits.conf)",
                                         limit_text(hard_limit), needed);
    return fmt::format("-c {} needs about {} file descriptors ({} connections, {} for lastcall), and this process may open {} (`ulimit -n`, "
                       "Too many open files past it): {}, or use -c {} or fewer",
                       connections, needed, connections, own, soft_limit, raise, soft_limit > own ? soft_limit - own : 0);
}

std::optional<std::string> descriptor_shortage(const BenchOptions& o) {
    if (o.rate > 0 && !o.connections_given) return std::nullopt;
    rlimit limit{};
    if (::getrlimit(RLIMIT_NOFILE, &limit) != 0) return std::nullopt;
    return descriptor_shortage(static_cast<std::uint64_t>(o.connections), o.threads, open_descriptors(), limit.rlim_cur, limit.rlim_max);
}

bool out_of_descriptors(const LiveCounts& live) { return live.connect_errno == EMFILE || live.connect_errno == ENFILE; }

std::string early_stop(const LiveCounts& live, std::chrono::steady_clock::duration elapsed, const std::string& url) {
    if (out_of_descriptors(live)) {
        rlimit limit{};
        ::getrlimit(RLIMIT_NOFILE, &limit);
        return fmt::format("a connection could not be opened: {} (`ulimit -n` is {}{}); stopped at once rather than retry: use fewer "
                           "connections (-c, or a lower --rate) or raise the limit",
                           std::strerror(live.connect_errno), limit_text(limit.rlim_cur),
                           live.connect_errno == ENFILE ? "; the whole system is out of them" : "");
    }
    const auto refused = live.by_outcome[static_cast<std::size_t>(Outcome::rejected)];
    if (refused > 0 && refused == live.completed && elapsed >= refused_for_long_enough) {
        return fmt::format("every connect to {} was refused for {:.1f}s and nothing was served: stopped rather than wait the whole -d",
                           url, std::chrono::duration<double>(elapsed).count());
    }
    return {};
}

} // namespace lastcall::harness

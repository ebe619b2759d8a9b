#include "bench_report.hpp"

#include "signals.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <csignal>
#include <optional>

namespace lastcall::harness {

namespace {

std::string human_us(double us) {
    if (us < 1000) return fmt::format("{:.2f}us", us);
    if (us < 1e6) return fmt::format("{:.2f}ms", us / 1e3);
    return fmt::format("{:.2f}s", us / 1e6);
}

std::string human_count(double n) {
    if (n < 1000) return fmt::format("{:.2f}", n);
    if (n < 1e6) return fmt::format("{:.2f}k", n / 1e3);
    return fmt::format("{:.2f}M", n / 1e6);
}

std::string human_bytes(double n) {
    if (n < 1024) return fmt::format("{:.2f}B", n);
    if (n < 1024 * 1024) return fmt::format("{:.2f}KB", n / 1024);
    if (n < 1024.0 * 1024 * 1024) return fmt::format("{:.2f}MB", n / 1024 / 1024);
    return fmt::format("{:.2f}GB", n / 1024 / 1024 / 1024);
}

constexpr double distribution[] = {50, 75, 90, 99, 99.9, 99.99};

std::string percentile_key(double p) {
    auto text = fmt::format("p{}", p);
    for (auto& ch : text) {
        if (ch == '.') ch = '_';
    }
    return text;  // p50, p99_9, p99_99
}

std::string origin_text(const BenchOptions& o) {
    return o.rate > 0 ? fmt::format("from each request's intended start on the {:g}/s schedule (open loop: waits behind slow responses count)", o.rate)
                      : "from each request's send (closed loop; a new connection's connect not included)";
}

std::string failure_list(const BenchFailures& f) {
    std::string out;
    const auto add = [&](const char* name, std::uint64_t n) {
        if (n > 0) out += fmt::format("{}{} {}", out.empty() ? "" : ", ", name, n);
    };
    add("connect refused", f.connect_refused);
    add("connect failed", f.connect_error);
    add("timeout", f.timeout);
    add("reset", f.reset);
    add("closed before the response ended", f.closed);
    add("write", f.write);
    add("bad response", f.bad_response);
    add("lastcall's own error", f.harness);
    return out;
}

// Open loop: how many connections the schedule needs (Little's law: arrivals a second times the
// mean time each holds a connection), to set beside what -c allowed. None without a response.
std::optional<std::uint64_t> connections_needed(const BenchOptions& o, const BenchSummary& s) {
    if (o.rate <= 0 || s.completed == 0) return std::nullopt;
    return std::max<std::uint64_t>(1, static_cast<std::uint64_t>(std::llround(o.rate * s.latency.mean / 1e6)));
}

} // namespace

std::uint64_t arrivals_never_started(double rate, double elapsed_s, int threads, const BenchSummary& s, std::uint64_t skipped_arrivals) {
    if (rate <= 0) return 0;
    const auto due = static_cast<std::uint64_t>(rate * elapsed_s);
    const auto started = s.completed + s.failed.total() + s.cut_at_end + s.not_attempted + skipped_arrivals;
    if (started >= due) return 0;
    const auto behind = due - started;
    return behind <= std::max<std::uint64_t>(static_cast<std::uint64_t>(threads), due / 100) ? 0 : behind;
}

bool every_connect_refused(const BenchSummary& s) {
    return s.completed == 0 && s.failed.total() > 0 && s.failed.total() == s.failed.connect_refused;
}

std::uint64_t arrivals_behind(const BenchRun& run) {
    return run.stopped_for_own_limit || every_connect_refused(run.summary) ? 0 : run.arrivals_never_started;
}

int bench_exit_code(const BenchSummary& s, std::uint64_t arrivals_not_made, int interrupted_by) {
    if (interrupted_by != 0) return 128 + interrupted_by;
    if (s.completed == 0) return 3;
    if (s.failed.total() > 0 || s.non_2xx_3xx > 0 || arrivals_not_made > 0) return 1;
    return 0;
}

std::string bench_header(const BenchOptions& o) {
    std::string load;
    if (o.rate <= 0) load = fmt::format("{} connections", o.connections);
    else if (o.connections_given) load = fmt::format("at most {} connections, open loop at {:g} requests/s", o.connections, o.rate);
    else load = fmt::format("connections as needed, open loop at {:g} requests/s", o.rate);
    // The URL as written; the address beside it when the name is not it (localhost: 127.0.0.1).
    const auto url = o.url();
    const auto authority = url.substr(0, url.find('/', std::string_view("http://").size()));
    const auto address = authority == "http://" + o.address() ? std::string{} : fmt::format(" ({})", o.address());
    return fmt::format("Running {} test @ {}{}\n  {} threads and {}\n", format_duration(o.duration), url, address, o.threads, load);
}

std::string bench_text(const BenchOptions& o, const BenchRun& run) {
    const auto& s = run.summary;
    // Nothing served and every attempt refused: the target's doing, said once (the stop's line, or
    // the line below when the run was too short to stop early), and no schedule figure blames
    // lastcall's CPU: the arrivals it did not start were to a target that refused them all.
    const bool all_refused = every_connect_refused(s);
    std::string out;
    if (run.interrupted_by != 0) {
        out += fmt::format("  Interrupted by {} after {:.2f}s: the figures cover that time\n", signal_name(run.interrupted_by), run.elapsed_s);
    }
    if (!run.stopped_early.empty()) out += fmt::format("  Stopped after {:.2f}s: {}\n", run.elapsed_s, run.stopped_early);
    if (s.completed == 0) {
        out += "  No response completed: no latency figures\n";
        if (all_refused && run.stopped_early.empty()) out += fmt::format("  Nothing listens at {}: every connect was refused\n", o.url());
    } else {
        out += fmt::format("  Thread Stats   Avg      Stdev     Max   +/- Stdev\n");
        out += fmt::format("    Latency   {:>8}  {:>8}  {:>8}  {:>8.2f}%\n", human_us(s.latency.mean), human_us(s.latency.stdev),
                           human_us(s.latency.max), s.latency.within_stdev_percent);
        if (s.requests_per_thread.samples > 0) {
            const auto& r = s.requests_per_thread;
            out += fmt::format("    Req/Sec   {:>8}  {:>8}  {:>8}  {:>8.2f}%\n", human_count(r.mean), human_count(r.stdev), human_count(r.max),
                               r.within_stdev_percent);
        }
        out += fmt::format("  Latency measured {}\n", origin_text(o));
        if (o.latency_distribution) {
            out += "  Latency Distribution\n";
            for (const double p : distribution) {
                out += fmt::format("  {:>7}%  {:>9}\n", fmt::format("{:g}", p), human_us(static_cast<double>(s.latency_us.percentile(p))));
            }
        }
    }
    if (o.rate > 0) {
        const auto needed = connections_needed(o, s);
        std::string need;
        if (needed) {
            need = fmt::format("; {:g}/s at {} each needs about {}", o.rate, human_us(s.latency.mean), *needed);
            if (run.connection_limit > 0 && *needed > static_cast<std::uint64_t>(run.connection_limit)) need += ": raise -c to keep the schedule";
        }
        // A pool grows a connection before its connect: against a dead port it said "2 used at
        // once" when every connect was refused and none was made (the refusal is said once, above).
        if (all_refused) {
            out += "  Connections: none made\n";
        } else {
            out += fmt::format("  Connections: {} used at once{}{}\n", run.connections_used,
                               run.connection_limit > 0 ? fmt::format(" (limit -c {})", run.connection_limit) : std::string(" (as many as needed)"),
                               need);
        }
        if (run.skipped_arrivals > 0) {
            out += fmt::format("  Skipped arrivals: {} (not sent: {})\n", run.skipped_arrivals,
                               run.connection_limit > 0 ? fmt::format("all -c {} connections were busy", run.connection_limit)
                                                        : std::string("20000 requests per thread were outstanding already"));
        }
        // A run stopped for lastcall's own limit said why once (`Stopped after`), as did one whose
        // every connect was refused: their arrivals never started are not a rate lastcall's CPU could not keep.
        if (const auto behind = arrivals_behind(run); behind > 0) {
            out += fmt::format("  Behind schedule: {} arrivals due by the end were never started: lastcall could not keep up with {:g}/s "
                               "(about {:.0f}/s started; the latency above counts each late arrival's wait)\n",
                               behind, o.rate, o.rate - static_cast<double>(behind) / std::max(run.elapsed_s, 1e-9));
        }
    }
    out += fmt::format("  {} requests in {:.2f}s, {} read\n", s.completed, run.elapsed_s, human_bytes(static_cast<double>(s.bytes)));
    if (s.failed.total() > 0) out += fmt::format("  Failed: {} ({})\n", s.failed.total(), failure_list(s.failed));
    if (s.not_attempted > 0) {
        out += fmt::format("  Not attempted: {} connects lastcall had no file descriptor for (not the target's failures)\n", s.not_attempted);
    }
    if (s.non_2xx_3xx > 0) out += fmt::format("  Non-2xx or 3xx responses: {}\n", s.non_2xx_3xx);
    if (s.cut_at_end > 0) out += fmt::format("  In flight when the run stopped, not counted: {}\n", s.cut_at_end);
    const auto& h = run.history;
    if (h.dropped > 0) {
        const auto lowered = h.limit_lowered.empty() ? std::string{}
                                                     : fmt::format(" (lowered to {}: {})", human_bytes(static_cast<double>(h.limit)), h.limit_lowered);
        out += fmt::format("  History: {} of {} records kept ({} on disk); {} dropped past --max-history {}{}\n", h.records,
                           h.records + h.dropped, human_bytes(static_cast<double>(h.bytes)), h.dropped,
                           human_bytes(static_cast<double>(o.max_history)), lowered);
    }
    if (!h.error.empty()) out += fmt::format("  History: {}\n", h.error);
    const double seconds = run.elapsed_s > 0 ? run.elapsed_s : 1;
    out += fmt::format("Requests/sec: {:>10.2f}\n", static_cast<double>(s.completed) / seconds);
    out += fmt::format("Transfer/sec: {:>10}\n", human_bytes(static_cast<double>(s.bytes) / seconds));
    return out;
}

std::string bench_json(const BenchOptions& o, const BenchRun& run) {
    const auto& s = run.summary;
    const double seconds = run.elapsed_s > 0 ? run.elapsed_s : 1;
    nlohmann::json latency = {{"measured_from", s.origin == LatencyOrigin::send ? "send" : "intended_start"}, {"count", s.completed}};
    const auto us = [&](double v) -> nlohmann::json { return s.completed == 0 ? nlohmann::json(nullptr) : nlohmann::json(std::llround(v)); };
    latency["min"] = s.completed == 0 ? nlohmann::json(nullptr) : nlohmann::json(s.latency_us.min());
    latency["mean"] = us(s.latency.mean);
    latency["stdev"] = us(s.latency.stdev);
    latency["max"] = us(s.latency.max);
    for (const double p : distribution) {
        latency[percentile_key(p)] = s.completed == 0 ? nlohmann::json(nullptr) : nlohmann::json(s.latency_us.percentile(p));
    }
    const auto& f = s.failed;
    nlohmann::json out = {
        {"version", bench_json_version},
        {"url", o.url()},
        {"address", o.address()},
        {"method", o.method},
        {"mode", o.rate > 0 ? "open" : "closed"},
        {"rate", o.rate > 0 ? nlohmann::json(o.rate) : nlohmann::json(nullptr)},
        {"threads", o.threads},
        {"connections", o.rate > 0 && !o.connections_given ? nlohmann::json(nullptr) : nlohmann::json(o.connections)},
        {"connections_used", every_connect_refused(run.summary) ? 0 : o.rate > 0 ? run.connections_used : static_cast<std::size_t>(o.connections)},
        {"connections_needed", connections_needed(o, s) ? nlohmann::json(*connections_needed(o, s)) : nlohmann::json(nullptr)},
        {"duration_s", std::chrono::duration<double>(o.duration).count()},
        {"elapsed_s", run.elapsed_s},
        {"interrupted_by", run.interrupted_by != 0 ? nlohmann::json(signal_name(run.interrupted_by)) : nlohmann::json(nullptr)},
        {"stopped_early", run.stopped_early.empty() ? nlohmann::json(nullptr) : nlohmann::json(run.stopped_early)},
        {"requests", s.completed},
        {"requests_per_sec", static_cast<double>(s.completed) / seconds},
        {"bytes", s.bytes},
        {"bytes_per_sec", static_cast<double>(s.bytes) / seconds},
        {"non_2xx_3xx", s.non_2xx_3xx},
        {"failed", {{"total", f.total()}, {"connect_refused", f.connect_refused}, {"connect_error", f.connect_error}, {"timeout", f.timeout},
                    {"reset", f.reset}, {"closed", f.closed}, {"write", f.write}, {"bad_response", f.bad_response}, {"lastcall_error", f.harness}}},
        {"cut_at_end", s.cut_at_end},
        {"not_attempted", s.not_attempted},
        {"stopped_for_own_limit", run.stopped_for_own_limit},
        {"skipped_arrivals", run.skipped_arrivals},
        {"arrivals_behind", arrivals_behind(run)},
        {"arrivals_never_started", run.arrivals_never_started},
        {"latency_us", latency},
        {"requests_per_thread_sec", {{"mean", s.requests_per_thread.mean}, {"stdev", s.requests_per_thread.stdev}, {"max", s.requests_per_thread.max},
                                     {"within_stdev_percent", s.requests_per_thread.within_stdev_percent}, {"samples", s.requests_per_thread.samples}}},
        {"history", {{"records", run.history.records}, {"dropped", run.history.dropped}, {"bytes", run.history.bytes},
                     {"max_bytes", o.max_history}, {"limit_bytes", run.history.limit},
                     {"limit_lowered", run.history.limit_lowered.empty() ? nlohmann::json(nullptr) : nlohmann::json(run.history.limit_lowered)},
                     {"file", o.history_file.empty() ? nlohmann::json(nullptr) : nlohmann::json(o.history_file)},
                     {"error", run.history.error.empty() ? nlohmann::json(nullptr) : nlohmann::json(run.history.error)}}},
        {"exit_code", run.exit_code},
    };
    return out.dump(2) + "\n";
}

} // namespace lastcall::harness

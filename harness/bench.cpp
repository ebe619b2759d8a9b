#include "bench.hpp"

#include "bench_guard.hpp"
#include "bench_options.hpp"
#include "bench_report.hpp"
#include "bench_summary.hpp"
#include "load_generator.hpp"

#include <fmt/format.h>

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <csignal>
#include <cstdio>
#include <ctime>
#include <fstream>

namespace lastcall::harness {

namespace {

using Clock = std::chrono::steady_clock;

// SIGINT and SIGTERM blocked in this thread and in the load threads it starts, and waited for with
// sigtimedwait: the run ends the moment one arrives, with no handler and no polling. The mask
// goes back when the run is over.
class StopSignals {
public:
    StopSignals() {
        sigemptyset(&set_);
        sigaddset(&set_, SIGINT);
        sigaddset(&set_, SIGTERM);
        pthread_sigmask(SIG_BLOCK, &set_, &previous_);
    }
    ~StopSignals() { pthread_sigmask(SIG_SETMASK, &previous_, nullptr); }
    StopSignals(const StopSignals&) = delete;
    StopSignals& operator=(const StopSignals&) = delete;

    // The signal that came before `deadline`, or 0.
    int wait_until(Clock::time_point deadline) const {
        for (;;) {
            const auto left = deadline - Clock::now();
            if (left <= Clock::duration::zero()) return 0;
            const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(left).count();
            const timespec timeout{static_cast<std::time_t>(ns / 1'000'000'000), static_cast<long>(ns % 1'000'000'000)};
            const int signal = sigtimedwait(&set_, nullptr, &timeout);
            if (signal > 0) return signal;
            if (errno != EAGAIN && errno != EINTR) return 0;
        }
    }

private:
    sigset_t set_{};
    sigset_t previous_{};
};

Workload bench_workload(const BenchOptions& o) {
    Workload w;
    w.name = "bench";
    w.request.method = o.method;
    w.request.path = o.path;
    for (const auto& [name, value] : o.headers) w.request.headers[name] = value;
    w.request.body = o.body;
    w.connections = o.connections;
    w.timeout = o.timeout;
    if (o.rate > 0) {
        w.mode = LoadMode::open;
        w.rate = o.rate;
    }
    return w;
}

// $TMPDIR when set, else /var/tmp, which is on disk by convention (FHS), where /tmp is often a
// tmpfs: a history there would be held in memory.
std::filesystem::path bench_history_dir() {
    if (const char* dir = std::getenv("TMPDIR"); dir != nullptr && *dir != '\0') return dir;
    std::error_code ec;
    if (std::filesystem::is_directory("/var/tmp", ec) && ::access("/var/tmp", W_OK | X_OK) == 0) return "/var/tmp";
    return "/tmp";
}

// --history: the history kept, as history.jsonl lines, streamed from the threads' files (each
// thread's records in their order of completion). A failure is said, and the summary still printed.
void write_history_file(const LoadGenerator& load, std::ofstream& out, const std::string& file) {
    load.for_each_record([&](const RequestRecord& r) { out << to_json_line(r, "bench") << '\n'; });
    if (!out.flush()) fmt::print(stderr, "lastcall bench: --history {}: writing failed (disk full?)\n", file);
}

} // namespace

int run_bench(const BenchOptions& o) {
    // First of all: a Ctrl+C from now on ends the run with a summary (main()'s handler would only
    // set a flag), and the load threads started below inherit the mask.
    const StopSignals signals;
    std::ofstream history_out;
    if (!o.history_file.empty()) {
        history_out.open(o.history_file, std::ios::binary | std::ios::trunc);  // before the run: a bad path is a command-line error
        if (!history_out) throw std::invalid_argument("--history " + o.history_file + ": cannot be written");
    }
    if (const auto shortage = descriptor_shortage(o)) {
        fmt::print(stderr, "lastcall bench: {}\n", *shortage);
        return 2;
    }
    const auto start = Clock::now();
    LoadOptions options{o.host, o.port, o.threads, start};
    options.open_loop_connections = o.rate > 0 && o.connections_given ? o.connections : 0;
    options.history_bytes = o.max_history;
    options.history_dir = bench_history_dir();
    options.tally_origin = o.rate > 0 ? LatencyOrigin::intended_start : LatencyOrigin::send;
    LoadGenerator load({bench_workload(o)}, options);
    // With --json, stdout holds the JSON alone: the header goes to stderr.
    fmt::print(o.json ? stderr : stdout, "{}", bench_header(o));
    std::fflush(o.json ? stderr : stdout);
    load.start();
    BenchRun run;
    // Looked at every 50 ms: what must end the run before -d (bench_guard.hpp) is seen within that.
    for (auto now = Clock::now(); now < start + o.duration && run.interrupted_by == 0 && run.stopped_early.empty(); now = Clock::now()) {
        run.interrupted_by = signals.wait_until(std::min(start + o.duration, now + std::chrono::milliseconds(50)));
        if (run.interrupted_by == 0) run.stopped_early = early_stop(load.live(), Clock::now() - start, o.url());
    }
    run.stopped_for_own_limit = !run.stopped_early.empty() && out_of_descriptors(load.live());
    load.stop({});
    const auto stopped = Clock::now();
    load.finish(std::chrono::milliseconds(0));  // what is in flight now is cut, and counted apart
    run.elapsed_s = std::chrono::duration<double>(stopped - start).count();
    run.summary = load.tally().summary({options.tally_origin, o.threads,
                                        std::chrono::duration_cast<std::chrono::microseconds>(stopped - start).count()});
    if (history_out.is_open()) write_history_file(load, history_out, o.history_file);
    run.history = load.history_stats();
    run.skipped_arrivals = load.skipped_arrivals();
    run.connections_used = load.open_loop_connections_used();
    run.connection_limit = options.open_loop_connections;
    run.arrivals_never_started = arrivals_never_started(o.rate, run.elapsed_s, o.threads, run.summary, run.skipped_arrivals);
    run.exit_code = bench_exit_code(run.summary, run.skipped_arrivals + run.arrivals_never_started + run.summary.not_attempted, run.interrupted_by);
    fmt::print("{}", o.json ? bench_json(o, run) : bench_text(o, run));
    return run.exit_code;
}

} // namespace lastcall::harness

// Measures lastcall-server's shutdown figures against a real process on 127.0.0.1:
//   drain_tail   last in-flight response received -> process exit (median of N runs)
//   ready_flip   SIGTERM sent -> first /ready answered 503 (median of N runs)
//   idle_exit    C idle keep-alive connections open, SIGTERM -> exit (and -> reaped); RSS idle and with C connections;
//                the server's CPU over the stop (its threads' run time from the signal to the reaped
//                exit: what the stop costs whatever the machine's load, which stretches the wall time)
//                and where the wall time went by its own report (draining, the rest up to the report,
//                and the exit after it).
// Usage: server_figures [--runs N] [--connections C] [--close-linger D] [--idle-runs M] [--compare OLD].
// Prints one "name value unit" line per figure. --close-linger is passed to the server of idle_exit
// (the default there: the server's own, 200ms), which holds every connection that promised
// keep-alive for that long. --idle-runs: idle_exit M times, with medians. --compare OLD: each of
// those runs also with OLD (another lastcall-server binary), alternating, and this build's medians
// over OLD's: on a shared machine single figures are noise, paired ones drift together.
#include "raw_http.hpp"
#include "reference_server.hpp"

#include <nlohmann/json.hpp>

#include <poll.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <sys/resource.h>
#include <sys/time.h>
#include <thread>
#include <vector>

namespace {

using namespace lastcall::testing;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
namespace fs = std::filesystem;

double ms_between(Clock::time_point a, Clock::time_point b) {
    return std::chrono::duration<double, std::milli>(b - a).count();
}

double median(std::vector<double> values) {
    std::sort(values.begin(), values.end());
    const auto n = values.size();
    return n % 2 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
}

fs::path scratch(const std::string& name) {
    const auto dir = fs::temp_directory_path() / "lastcall-figures" / name;
    fs::remove_all(dir);
    fs::create_directories(dir.parent_path());
    return dir;
}

long rss_kib(pid_t pid) {
    std::ifstream status("/proc/" + std::to_string(pid) + "/status");
    std::string key;
    while (status >> key) {
        if (key == "VmRSS:") {
            long kib = 0;
            status >> kib;
            return kib;
        }
        status.ignore(4096, '\n');
    }
    return -1;
}

// Run time of every thread of `pid` so far (schedstat: nanoseconds, not /proc/PID/stat's ticks).
double thread_cpu_ms(pid_t pid) {
    double ns = 0;
    std::error_code ec;
    for (const auto& task : fs::directory_iterator("/proc/" + std::to_string(pid) + "/task", ec)) {
        std::ifstream schedstat(task.path() / "schedstat");
        double run_ns = 0;
        if (schedstat >> run_ns) ns += run_ns;
    }
    return ns / 1e6;
}

// User + system time of the children reaped so far (a reaped server's whole life is added).
double reaped_children_cpu_ms() {
    rusage usage{};
    getrusage(RUSAGE_CHILDREN, &usage);
    const auto ms = [](const timeval& t) { return static_cast<double>(t.tv_sec) * 1e3 + static_cast<double>(t.tv_usec) / 1e3; };
    return ms(usage.ru_utime) + ms(usage.ru_stime);
}

double drain_tail_once(int run) {
    ReferenceServer server(scratch("drain-tail-" + std::to_string(run)), {});
    auto slow = RawConnection::open(server.port());
    slow->send_get("/slow?ms=150");
    std::this_thread::sleep_for(50ms);
    server.process().signal(SIGTERM);
    const auto response = slow->read_response(5s);
    const auto responded = Clock::now();
    const auto status = server.process().wait(10s);
    const auto exited = Clock::now();
    if (response.status != 200 || !status || !status->clean()) return -1;
    return ms_between(responded, exited);
}

double ready_flip_once(int run) {
    ReferenceServer server(scratch("ready-flip-" + std::to_string(run)), {"--drain-delay", "2s"});
    auto probe = RawConnection::open(server.port());
    probe->send_get("/ready");
    if (probe->read_response(2s).status != 200) return -1;
    const auto signalled = Clock::now();
    server.process().signal(SIGTERM);
    for (int attempt = 0; attempt < 100000; ++attempt) {
        probe->send_get("/ready");
        const auto response = probe->read_response(2s);
        if (response.status == 503) return ms_between(signalled, Clock::now());
        if (response.status != 200) return -1;
    }
    return -1;
}

// One stop with `count` idle keep-alive connections open.
struct IdleExit {
    std::size_t connections = 0;
    double wall_ms = 0;  // SIGTERM sent -> exit (the server's pidfd readable: it is gone)
    // Exit -> reaped: the reaper's wait4 also drops the dead process's /proc dentries, ~2 us for each
    // /proc/PID/fd/N that anything listed while its connections were open. Something on the test
    // machine lists them now and then (0-10,000 such dentries a run): 0-20 ms of the parent's
    // time that was counted as the server's.
    double reap_ms = 0;
    double cpu_ms = -1;  // the server's threads over that stop
    bool clean = false;
    std::string split;   // where the wall time went, by the server's own report
    long idle_rss_kib = 0, loaded_rss_kib = 0;
};

// Where the wall time went: the report's phases, then the rest (the signal's delivery before the
// coordinator's clock starts, and the exit after the report).
std::string split_of(const fs::path& report_file, double wall_ms) {
    try {
        const auto report = nlohmann::json::parse(std::ifstream(report_file));
        double draining = 0, cleaning = 0, persisting = 0;
        for (const auto& phase : report.at("phases")) {
            const auto took = phase.at("end_ms").get<double>() - phase.at("start_ms").get<double>();
            if (phase.at("phase") == "draining") draining = took;
            if (phase.at("phase") == "cleaning") cleaning = took;
            if (phase.at("phase") == "persisting") persisting = took;
        }
        const auto total = report.at("total_ms").get<double>();
        char text[200];
        std::snprintf(text, sizeof text, "draining %.1f, after it to the report %.1f (cleaning %.1f, persisting %.1f), report to exit %.1f",
                      draining, total - draining, cleaning, persisting, wall_ms - total);
        return text;
    } catch (const std::exception& e) {
        return std::string("(no report: ") + e.what() + ")";
    }
}

IdleExit idle_exit_once(int count, const std::string& close_linger) {
    std::vector<std::string> args{"--threads", "2"};
    if (!close_linger.empty()) args.insert(args.end(), {"--close-linger", close_linger});
    const auto state = scratch("idle");
    ReferenceServer server(state, args);
    IdleExit result;
    result.idle_rss_kib = rss_kib(server.process().pid());
    std::vector<RawConnection> connections;
    connections.reserve(static_cast<std::size_t>(count));
    for (int i = 0; i < count; ++i) {
        auto c = RawConnection::open(server.port());
        if (!c) {
            std::fprintf(stderr, "could only open %d connections\n", i);
            break;
        }
        c->send_get("/fast");  // a served request: now a reused, idle keep-alive connection
        if (c->read_response(5s).status != 200) break;
        connections.push_back(std::move(*c));
    }
    result.connections = connections.size();
    result.loaded_rss_kib = rss_kib(server.process().pid());
    // The client is idle from here: its 10,000 sockets take the server's FINs in the kernel, on
    // loopback within the server's close(2) (half of that close's work is the receiving side's).
    const auto cpu_before_signal = thread_cpu_ms(server.process().pid());
    const auto children_before = reaped_children_cpu_ms();
    const int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, server.process().pid(), 0));
    const auto signalled = Clock::now();
    server.process().signal(SIGTERM);
    auto exited = Clock::time_point{};
    if (pidfd >= 0) {
        pollfd fd{pidfd, POLLIN, 0};
        if (::poll(&fd, 1, 30000) == 1) exited = Clock::now();
        ::close(pidfd);
    }
    const auto status = server.process().wait(30s);
    const auto reaped = Clock::now();
    if (exited == Clock::time_point{}) exited = reaped;  // no pidfd: the reap is all there is
    result.wall_ms = ms_between(signalled, exited);
    result.reap_ms = ms_between(exited, reaped);
    if (status) result.cpu_ms = reaped_children_cpu_ms() - children_before - cpu_before_signal;
    result.clean = status && status->clean();
    result.split = split_of(state / "shutdown-report.json", result.wall_ms);
    return result;
}

void print_idle_exit(const IdleExit& run, const std::string& close_linger) {
    std::printf("idle_connections %zu count\n", run.connections);
    std::printf("idle_exit_ms %.2f ms (close linger %s) %s\n", run.wall_ms, close_linger.empty() ? "default" : close_linger.c_str(),
                run.clean ? "" : "(not clean)");
    std::printf("idle_exit_reap_ms %.2f ms (exit -> reaped: the parent's wait4)\n", run.reap_ms);
    if (run.cpu_ms >= 0) std::printf("idle_exit_cpu_ms %.1f ms (the server's threads, signal to exit)\n", run.cpu_ms);
    std::printf("idle_exit_split_ms %s\n", run.split.c_str());
    std::printf("rss_idle_kib %ld KiB\n", run.idle_rss_kib);
    std::printf("rss_with_connections_kib %ld KiB\n", run.loaded_rss_kib);
}

// `runs` idle exits of this build, or (with `other`, another lastcall-server binary) of both builds
// in turn, other first: on a shared machine the load drifts, and alternating puts both under it
// alike. Medians per build, and this build's over the other's.
void idle_exits(int count, const std::string& close_linger, int runs, const std::string& other) {
    if (runs <= 1 && other.empty()) {
        print_idle_exit(idle_exit_once(count, close_linger), close_linger);
        return;
    }
    const char* given = std::getenv("LASTCALL_TEST_SERVER");
    const std::string this_build = given ? given : "";
    const auto use = [](const std::string& binary) {
        if (binary.empty()) ::unsetenv("LASTCALL_TEST_SERVER");
        else ::setenv("LASTCALL_TEST_SERVER", binary.c_str(), 1);
    };
    std::vector<double> walls[2], cpus[2], reaps[2];
    const char* names[2] = {"this", "other"};
    for (int run = 0; run < runs; ++run) {
        for (int which = other.empty() ? 0 : 1; which >= 0; --which) {
            use(which == 0 ? this_build : other);
            const auto r = idle_exit_once(count, close_linger);
            if (r.cpu_ms >= 0 && r.clean) {
                walls[which].push_back(r.wall_ms);
                cpus[which].push_back(r.cpu_ms);
                reaps[which].push_back(r.reap_ms);
            }
            std::printf("idle_exit_run %s %d: %zu connections, %.2f ms, cpu %.1f ms%s; %s; reaped %.1f later\n", names[which], run + 1,
                        r.connections, r.wall_ms, r.cpu_ms, r.clean ? "" : " (not clean)", r.split.c_str(), r.reap_ms);
            std::fflush(stdout);
        }
    }
    use(this_build);
    for (int which = 0; which < (other.empty() ? 1 : 2); ++which) {
        if (walls[which].empty()) continue;
        std::printf("idle_exit_median_ms %s %.2f ms, cpu %.1f ms, reaped %.2f ms after the exit (of %zu runs, close linger %s)\n",
                    names[which], median(walls[which]), median(cpus[which]), median(reaps[which]), walls[which].size(),
                    close_linger.empty() ? "default" : close_linger.c_str());
    }
    if (!other.empty() && !walls[0].empty() && !walls[1].empty()) {
        std::printf("idle_exit_ratio this/other: wall %.3f, cpu %.3f\n", median(walls[0]) / median(walls[1]), median(cpus[0]) / median(cpus[1]));
    }
}

} // namespace

int main(int argc, char** argv) {
    int runs = 20;
    int connections = 10000;
    int idle_runs = 1;
    std::string close_linger, compare;
    for (int i = 1; i + 1 < argc; i += 2) {
        const std::string flag = argv[i];
        if (flag == "--runs") runs = std::stoi(argv[i + 1]);
        if (flag == "--connections") connections = std::stoi(argv[i + 1]);
        if (flag == "--close-linger") close_linger = argv[i + 1];
        if (flag == "--idle-runs") idle_runs = std::stoi(argv[i + 1]);
        if (flag == "--compare") compare = argv[i + 1];
    }
    rlimit limit{};
    getrlimit(RLIMIT_NOFILE, &limit);
    limit.rlim_cur = std::min<rlim_t>(limit.rlim_max, 2 * static_cast<rlim_t>(connections) + 1024);
    setrlimit(RLIMIT_NOFILE, &limit);  // inherited by the server

    std::vector<double> tails, flips;
    for (int run = 0; run < runs; ++run) {
        if (const auto t = drain_tail_once(run); t >= 0) tails.push_back(t);
        if (const auto f = ready_flip_once(run); f >= 0) flips.push_back(f);
    }
    if (!tails.empty()) {
        std::printf("drain_tail_median_ms %.3f ms (of %zu runs; min %.3f, max %.3f)\n", median(tails), tails.size(),
                    *std::min_element(tails.begin(), tails.end()), *std::max_element(tails.begin(), tails.end()));
    }
    if (!flips.empty()) {
        std::printf("ready_flip_median_ms %.3f ms (of %zu runs; max %.3f)\n", median(flips), flips.size(),
                    *std::max_element(flips.begin(), flips.end()));
    }
    idle_exits(connections, close_linger, idle_runs, compare);
    return 0;
}

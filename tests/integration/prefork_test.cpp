// lastcall-server --workers N on real processes: the master forwards, escalates, replaces and
// reloads; its exit code and shutdown-report.json say how each worker ended.
#include "raw_http.hpp"
#include "reference_server.hpp"

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <csignal>
#include <fstream>
#include <set>
#include <sstream>
#include <thread>

namespace lastcall::testing {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

std::set<pid_t> children_of(pid_t pid) {
    std::set<pid_t> out;
    std::error_code ec;
    for (fs::directory_iterator it(fmt::format("/proc/{}/task", pid), ec), end; !ec && it != end; it.increment(ec)) {
        std::ifstream in(it->path() / "children");
        for (pid_t child; in >> child;) out.insert(child);
    }
    return out;
}

nlohmann::json master_report(const fs::path& state) {
    std::ifstream in(state / "shutdown-report.json");
    return nlohmann::json::parse(in, nullptr, false);
}

std::vector<std::string> fates(const nlohmann::json& report) {
    std::vector<std::string> out;
    if (report.is_discarded()) return out;
    for (const auto& w : report["workers"]) out.push_back(w["id"].get<std::string>() + " " + w["fate"].get<std::string>());
    return out;
}

struct Prefork {
    explicit Prefork(std::vector<std::string> extra) : state(fresh_test_dir() / "state") {
        std::vector<std::string> args{"--workers", "2", "--threads", "1"};
        args.insert(args.end(), extra.begin(), extra.end());
        server = std::make_unique<ReferenceServer>(state, args);
    }
    pid_t master() const { return server->process().pid(); }
    int exit_code(std::chrono::milliseconds timeout) {
        const auto status = server->process().wait(timeout);
        return status && status->exited ? status->code : -1;
    }
    fs::path state;
    std::unique_ptr<ReferenceServer> server;
};

TEST(Prefork, TermDrainsEveryWorkerAndTheSlowRequestIsServed) {
    Prefork p({});
    EXPECT_EQ(children_of(p.master()).size(), 2u);
    auto slow = RawConnection::open(p.server->port());
    ASSERT_TRUE(slow);
    const auto sent = std::chrono::system_clock::now();
    slow->send_get("/slow?ms=700");
    std::this_thread::sleep_for(200ms);
    p.server->process().signal(SIGTERM);
    EXPECT_EQ(slow->read_response(5s).status, 200);
    EXPECT_EQ(p.exit_code(10s), 0);
    const auto report = master_report(p.state);
    EXPECT_EQ(fates(report), (std::vector<std::string>{"1.1 drained", "1.2 drained"}));
    // The workers' own reports, folded: the slow request was one worker's, in flight at the signal;
    // draining lasted at least until it was answered, 700 ms after it was sent.
    ASSERT_FALSE(report.is_discarded());
    EXPECT_EQ(report["role"], "master");
    EXPECT_EQ(report["signal_name"], "SIGTERM");
    EXPECT_GT(report["signal_at_unix_us"].get<std::int64_t>(), 0);
    EXPECT_EQ(report["counts"]["in_flight_at_signal"], 1);
    for (const auto& w : report["workers"]) EXPECT_TRUE(w["report"].is_object()) << w["id"] << " has no report of its own";
    const auto draining = std::find_if(report["phases"].begin(), report["phases"].end(), [](const auto& ph) { return ph["phase"] == "draining"; });
    ASSERT_NE(draining, report["phases"].end());
    // The master's signal time is taken before it forwards the signal: no worker's phase is earlier.
    EXPECT_GE(report["phases"][0]["start_ms"].get<double>(), 0.0) << report["phases"].dump();
    const auto drain_end = std::chrono::system_clock::time_point(std::chrono::microseconds(report["signal_at_unix_us"].get<std::int64_t>())) +
                           std::chrono::duration_cast<std::chrono::system_clock::duration>(std::chrono::duration<double, std::milli>((*draining)["end_ms"].get<double>()));
    EXPECT_GE(drain_end, sent + 700ms);
    EXPECT_EQ((*draining)["outcome"], "completed");
}

TEST(Prefork, AWorkerKilledWhileRunningIsReplaced) {
    Prefork p({});
    const auto before = children_of(p.master());
    ASSERT_EQ(before.size(), 2u);
    ::kill(*before.begin(), SIGKILL);
    std::set<pid_t> after;
    for (int i = 0; i < 100 && (after.size() != 2 || after == before); ++i) {
        std::this_thread::sleep_for(20ms);
        after = children_of(p.master());
    }
    EXPECT_EQ(after.size(), 2u);
    EXPECT_EQ(after.count(*before.begin()), 0u);
    EXPECT_EQ(http_get(p.server->port(), "/fast").status, 200);
    p.server->process().signal(SIGTERM);
    EXPECT_EQ(p.exit_code(10s), 0);  // a crash while running is replaced, not a failed shutdown
    EXPECT_EQ(fates(master_report(p.state)), (std::vector<std::string>{"1.1 crashed", "1.2 drained", "1.1#2 drained"}));
}

// SIGHUP under load: the new generation is ready before the old one retires, so every request
// is answered, and afterwards only new workers serve.
TEST(Prefork, ReloadUnderLoadLosesNothingAndReplacesEveryWorker) {
    Prefork p({});
    const auto old_workers = children_of(p.master());
    std::atomic<bool> done{false};
    std::atomic<int> ok{0};
    std::vector<std::string> failures;
    std::thread load([&] {
        while (!done) {
            const auto r = http_get(p.server->port(), "/fast", 2s);
            if (r.status == 200) ++ok;
            else failures.push_back(fmt::format("status {} {}", r.status, r.error));
        }
    });
    std::this_thread::sleep_for(200ms);
    p.server->process().signal(SIGHUP);
    std::set<pid_t> now;
    for (int i = 0; i < 150; ++i) {
        std::this_thread::sleep_for(20ms);
        now = children_of(p.master());
        bool any_old = false;
        for (auto pid : old_workers) any_old = any_old || now.count(pid);
        if (!any_old && now.size() == 2) break;
    }
    std::this_thread::sleep_for(200ms);
    done = true;
    load.join();
    EXPECT_TRUE(failures.empty()) << failures.size() << " failed, first: " << failures.front();
    EXPECT_GT(ok.load(), 0);
    for (auto pid : old_workers) EXPECT_EQ(now.count(pid), 0u) << "old worker " << pid << " still there";
    EXPECT_EQ(now.size(), 2u);
    p.server->process().signal(SIGTERM);
    EXPECT_EQ(p.exit_code(10s), 0);
    const auto report = master_report(p.state);
    ASSERT_FALSE(report.is_discarded());
    EXPECT_EQ(report["reloads"][0]["outcome"], "completed");
}

// A stop while a reload's new workers still boot: they start with the shutdown signals blocked, so
// the forwarded TERM waits until they handle it and they stop cleanly (it used to kill them by its
// default action: "crashed", exit 7, 4 of 4 runs).
TEST(Prefork, TermDuringAReloadStopsTheBootingWorkersCleanly) {
    Prefork p({});
    p.server->process().signal(SIGHUP);
    std::this_thread::sleep_for(2ms);
    p.server->process().signal(SIGTERM);
    EXPECT_EQ(p.exit_code(10s), 0) << master_report(p.state).dump(1);
    EXPECT_EQ(fates(master_report(p.state)), (std::vector<std::string>{"1.1 drained", "1.2 drained", "2.1 drained", "2.2 drained"}));
}

// While it lives, every process started from here has a disk on which each fsync of a state
// dir's write probe stalls for `stall` (support/slow_fsync.cpp, preloaded).
class StalledProbeFsync {
public:
    explicit StalledProbeFsync(std::chrono::milliseconds stall) {
        ::setenv("LD_PRELOAD", SLOW_FSYNC_LIBRARY, 1);
        ::setenv("LASTCALL_SLOW_FSYNC_MS", std::to_string(stall.count()).c_str(), 1);
        ::setenv("LASTCALL_SLOW_FSYNC_MATCH", ".write-probe", 1);
        ::setenv("ASAN_OPTIONS", "verify_asan_link_order=0", 1);  // a sanitizer build: the shim comes first
    }
    ~StalledProbeFsync() {
        for (const char* name : {"LD_PRELOAD", "LASTCALL_SLOW_FSYNC_MS", "LASTCALL_SLOW_FSYNC_MATCH", "ASAN_OPTIONS"}) ::unsetenv(name);
    }
    StalledProbeFsync(const StalledProbeFsync&) = delete;
    StalledProbeFsync& operator=(const StalledProbeFsync&) = delete;
};

// Beside a build, one fsync of a booting worker's write probe took 8.2 s; a reload soak's new
// generation waited for it while the old one served alone. The master proves the file system
// takes an fsync once; its workers, in directories inside its own, must not wait for another.
// Here each probe fsync stalls 1.5 s against a 1 s boot timeout: a worker that waits misses it.
TEST(Prefork, WorkersBootWithoutWaitingForAStalledDiskTheMasterAlreadyProbed) {
    std::unique_ptr<Prefork> p;
    {
        StalledProbeFsync stalled(1500ms);
        p = std::make_unique<Prefork>(std::vector<std::string>{"--worker-boot-timeout", "1s"});
    }
    EXPECT_TRUE(p->server->wait_for_log("\"master serving\"")) << p->server->stderr_text();
    p->server->process().signal(SIGHUP);  // a reload: the new generation boots on the same disk
    std::this_thread::sleep_for(800ms);
    p->server->process().signal(SIGTERM);
    EXPECT_EQ(p->exit_code(10s), 0) << p->server->stderr_text();
    EXPECT_EQ(fates(master_report(p->state)), (std::vector<std::string>{"1.1 drained", "1.2 drained", "2.1 drained", "2.2 drained"}))
        << master_report(p->state).dump(1);
}

TEST(Prefork, StragglersAreKilledAtTheGracefulTimeoutAndNamed) {
    Prefork p({"--fault", "ignore-sigterm", "--graceful-timeout", "1s"});
    p.server->process().signal(SIGTERM);
    EXPECT_EQ(p.exit_code(10s), 7);
    const auto report = master_report(p.state);
    ASSERT_FALSE(report.is_discarded());
    EXPECT_EQ(report["stragglers"].size(), 2u);
    EXPECT_EQ(fates(report), (std::vector<std::string>{"1.1 killed", "1.2 killed"}));
}

TEST(Prefork, WithNoKillEscalationTheMasterWaitsForeverForStragglers) {
    Prefork p({"--fault", "ignore-sigterm", "--fault", "no-kill-escalation", "--graceful-timeout", "500ms"});
    p.server->process().signal(SIGTERM);
    EXPECT_EQ(p.exit_code(2s), -1) << "the master exited although its workers never did";
}

TEST(Prefork, WithMasterNoForwardWorkersServeUntilKilled) {
    Prefork p({"--fault", "master-no-forward", "--graceful-timeout", "1s"});
    p.server->process().signal(SIGTERM);
    std::this_thread::sleep_for(300ms);
    EXPECT_EQ(http_get(p.server->port(), "/ready").status, 200) << "the workers heard of the shutdown";
    EXPECT_EQ(p.exit_code(10s), 7);
}

} // namespace
} // namespace lastcall::testing

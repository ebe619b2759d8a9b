// zero_downtime and workers_drained on hand-built evidence: a master (pid 100) with two workers,
// reloaded at 1 s (workers 201, 202 replaced by 301, 302), TERM at 3 s. Each check passes on the
// clean story and fails, for the reason it names, on each way the story can go wrong.
#include "checks.hpp"

#include <gtest/gtest.h>

#include <csignal>

namespace lastcall::harness {
namespace {

class WorkerChecksTest : public ::testing::Test {
protected:
    WorkerChecksTest() {
        scenario.name = "t";
        Workload w;
        w.name = "fast";
        scenario.workloads = {w};
        scenario.expect.streams_clean = false;
        scenario.target.ready.http_path = "/ready";
        run.workload_names = {"fast"};
        GenerationSummary g;
        g.number = 1;
        g.pid = 100;
        run.generations = {g};
        SignalSent reload{1'000'000, SIGHUP, "target", 1, true, "", false, 1'000'100};
        reload.purpose = SignalPurpose::reload;
        run.signals = {reload, SignalSent{3'000'000, SIGTERM, "target", 1, true, "", false, 3'000'100}};
        run.exit = TargetExit{true, 0, 0};
        run.exit_us = 3'400'000;
        run.duration_us = 3'500'000;
        run.port_released = true;
        // Old workers, seen long before the reload, gone by 1.35 s; new ones born at 1.01 s.
        run.processes = {life(201, -500'000, 1'300'000, 1'350'000), life(202, -500'000, 1'250'000, 1'300'000),
                         life(301, 1'010'000, 3'300'000, 3'350'000), life(302, 1'010'000, 3'300'000, 3'350'000)};
        for (std::int64_t t = 0; t < 2'900'000; t += 100'000) run.history.push_back(ok(t, t + 2'000));
        for (std::int64_t t = 0; t < 3'000'000; t += 100'000) run.probes.push_back(probe(t, 200));
        count();
    }
    static ProcessLife life(pid_t pid, std::int64_t spawn, std::int64_t last_seen, std::int64_t gone) {
        return ProcessLife{pid, 100, 1, "lastcall-server --workers 0", spawn, spawn + 20'000, last_seen, gone};
    }
    static RequestRecord ok(std::int64_t sent, std::int64_t done) {
        RequestRecord r;
        r.id = static_cast<std::uint64_t>(sent / 1000) + 1;
        r.connection_id = 1;
        r.intended_us = r.sent_us = sent;
        r.first_byte_us = r.done_us = done;
        r.status = 200;
        r.outcome = Outcome::ok;
        return r;
    }
    static ProbeResult probe(std::int64_t sent, int status) {
        using Kind = ProbeResult::Kind;
        return ProbeResult{sent, sent + 500, status, status / 100 == 2 ? Kind::ready : status > 0 ? Kind::not_ready : Kind::no_answer};
    }
    void count() {
        run.outcomes = {};
        for (const auto& r : run.history) ++run.outcomes[static_cast<std::size_t>(r.outcome)];
    }
    void set_report(const std::string& workers) {
        auto parsed = parse_target_report(R"({"version":1,"role":"master","exit_code":0,"stragglers":[],"workers":)" + workers + "}");
        ASSERT_TRUE(parsed.report) << parsed.error;
        run.report.state = TargetReportReading::State::ok;
        run.report.report = parsed.report;
    }
    CheckResult check(const std::string& name) {
        count();
        for (auto& c : evaluate_checks(scenario, run)) {
            if (c.name == name) return c;
        }
        ADD_FAILURE() << "no check " << name;
        return {};
    }
    Scenario scenario;
    RunResult run;
};

// ---- zero_downtime

TEST_F(WorkerChecksTest, ZeroDowntimeIsOffUnlessNamed) {
    EXPECT_EQ(check("zero_downtime").status, CheckStatus::skip);
}

TEST_F(WorkerChecksTest, ZeroDowntimePassesWhenNewWorkersServeAndNothingFailed) {
    scenario.expect.zero_downtime = Expectations::ZeroDowntime{};
    const auto c = check("zero_downtime");
    EXPECT_EQ(c.status, CheckStatus::pass) << c.message;
    EXPECT_EQ(c.measured, "1 reload: 0 dropped, 0 refused, readiness held; 2→2 workers; slowest 350.0ms");
}

TEST_F(WorkerChecksTest, ZeroDowntimeFailsOnARefusalInTheWindow) {
    scenario.expect.zero_downtime = Expectations::ZeroDowntime{};
    auto refused = ok(1'400'000, 1'400'300);  // after the old ones ended, inside the 200 ms that follow
    refused.outcome = Outcome::rejected;
    refused.status = 0;
    refused.failure = Failure::connect_refused;
    run.history.push_back(refused);
    const auto c = check("zero_downtime");
    EXPECT_EQ(c.status, CheckStatus::fail);
    EXPECT_EQ(c.message, "requests failed across a reload: 0 dropped, 1 refused, 0 idle_close_race, 0 slow");
    ASSERT_FALSE(c.evidence.empty());
    EXPECT_NE(c.evidence[0].find("rejected (connect_refused)"), std::string::npos) << c.evidence[0];
    EXPECT_NE(c.evidence.back().find("judged from"), std::string::npos);
}

TEST_F(WorkerChecksTest, ZeroDowntimeFailsOnADropAndIgnoresOnesAfterTheShutdownSignal) {
    scenario.expect.zero_downtime = Expectations::ZeroDowntime{};
    auto after_term = ok(3'100'000, 3'100'500);
    after_term.outcome = Outcome::rejected;
    run.history.push_back(after_term);
    EXPECT_EQ(check("zero_downtime").status, CheckStatus::pass) << "a refusal after TERM is the shutdown's";
    auto dropped = ok(1'050'000, 1'060'000);
    dropped.outcome = Outcome::dropped;
    dropped.failure = Failure::reset;
    run.history.push_back(dropped);
    const auto c = check("zero_downtime");
    EXPECT_EQ(c.status, CheckStatus::fail);
    EXPECT_EQ(c.measured, "1 reload: 1 dropped, 0 refused, readiness held; 2→2 workers; slowest 350.0ms");
}

// A reload that ended just before the shutdown signal (reloads queue on a busy machine): a request
// sent just before the signal and refused after it is the shutdown's, and so is a probe answered 503.
TEST_F(WorkerChecksTest, ZeroDowntimeLeavesWhatTheShutdownAnsweredToIt) {
    scenario.expect.zero_downtime = Expectations::ZeroDowntime{};
    run.processes[0] = life(201, -500'000, 2'950'000, 2'990'000);  // the last old worker ended 10 ms before TERM
    auto refused_by_shutdown = ok(2'999'000, 3'004'000);
    refused_by_shutdown.outcome = Outcome::rejected;
    refused_by_shutdown.status = 503;
    run.history.push_back(refused_by_shutdown);
    run.history.push_back(ok(2'991'000, 2'991'900));  // served by the new ones after the old ones ended
    run.probes.push_back(probe(2'999'800, 503));
    run.probes.back().done_us = 3'001'000;
    const auto c = check("zero_downtime");
    EXPECT_EQ(c.status, CheckStatus::pass) << c.message;
    // The same refusal answered before the signal is the reload's.
    auto refused_before = refused_by_shutdown;
    refused_before.sent_us = 2'995'000;
    refused_before.done_us = 2'996'000;
    run.history.push_back(refused_before);
    const auto failed = check("zero_downtime");
    EXPECT_EQ(failed.status, CheckStatus::fail);
    EXPECT_EQ(failed.message, "requests failed across a reload: 0 dropped, 1 refused, 0 idle_close_race, 0 slow");
}

TEST_F(WorkerChecksTest, ZeroDowntimeFailsWhenReadinessFailsDuringTheReload) {
    scenario.expect.zero_downtime = Expectations::ZeroDowntime{};
    run.probes.push_back(probe(1'200'000, 503));
    const auto c = check("zero_downtime");
    EXPECT_EQ(c.status, CheckStatus::fail);
    EXPECT_EQ(c.message, "reload at 1.000s: readiness probe sent at 1.200s answered 503");
}

TEST_F(WorkerChecksTest, ZeroDowntimeFailsWhenAnOldWorkerOutlivesTheReload) {
    scenario.expect.zero_downtime = Expectations::ZeroDowntime{};
    run.processes[0].gone_us = 3'350'000;  // 201 still served at TERM
    run.processes[0].last_seen_us = 3'300'000;
    const auto c = check("zero_downtime");
    EXPECT_EQ(c.status, CheckStatus::fail);
    EXPECT_EQ(c.message, "reload at 1.000s: old worker pid 201 (lastcall-server --workers 0) was still alive at 3.000s (the shutdown signal or the end)");
}

TEST_F(WorkerChecksTest, ZeroDowntimeTakesAScanStarvedPastTheSignalAsNoEvidenceOfLife) {
    scenario.expect.zero_downtime = Expectations::ZeroDowntime{};
    run.processes[0].gone_us = 3'400'000;  // last seen alive at 1.3 s; the next scan came only after TERM
    const auto c = check("zero_downtime");
    EXPECT_EQ(c.status, CheckStatus::pass) << c.message;
    EXPECT_EQ(c.measured, "1 reload: 0 dropped, 0 refused, readiness held; 2→2 workers; slowest 2000.0ms");
}

TEST_F(WorkerChecksTest, ZeroDowntimeFailsWhenTheOldWorkersTakeLongerThanWithin) {
    scenario.expect.zero_downtime = Expectations::ZeroDowntime{std::chrono::milliseconds(300), std::nullopt};
    const auto c = check("zero_downtime");
    EXPECT_EQ(c.status, CheckStatus::fail);
    EXPECT_EQ(c.message, "reload at 1.000s: the old workers ended 350.0ms after it, over 300.0ms");
}

TEST_F(WorkerChecksTest, ZeroDowntimeFailsWhenNoNewWorkerWasSpawned) {
    scenario.expect.zero_downtime = Expectations::ZeroDowntime{};
    run.processes.resize(2);
    const auto c = check("zero_downtime");
    EXPECT_EQ(c.status, CheckStatus::fail);
    EXPECT_EQ(c.message, "reload at 1.000s: no new child of the target was spawned");
}

TEST_F(WorkerChecksTest, ZeroDowntimeFailsWhenNothingWasServedAfterTheOldWorkersEnded) {
    scenario.expect.zero_downtime = Expectations::ZeroDowntime{};
    std::erase_if(run.history, [](const RequestRecord& r) { return r.sent_us > 1'350'000; });
    const auto c = check("zero_downtime");
    EXPECT_EQ(c.status, CheckStatus::fail);
    EXPECT_EQ(c.message, "reload at 1.000s: no request sent after the last old worker ended (1.350s) completed: nothing shows the new ones serve");
}

TEST_F(WorkerChecksTest, ZeroDowntimeFailsOnASlowRequestWhenALatencyIsBound) {
    scenario.expect.zero_downtime = Expectations::ZeroDowntime{std::chrono::seconds(10), std::chrono::milliseconds(100)};
    run.history.push_back(ok(1'100'000, 1'400'000));
    const auto c = check("zero_downtime");
    EXPECT_EQ(c.status, CheckStatus::fail);
    EXPECT_EQ(c.bound, "per reload: 0 dropped, 0 refused, readiness held, old workers gone < 10000.0ms, latency < 100.0ms");
    EXPECT_EQ(c.message, "requests failed across a reload: 0 dropped, 0 refused, 0 idle_close_race, 1 slow");
}

TEST_F(WorkerChecksTest, ZeroDowntimeFailsWithoutAReload) {
    scenario.expect.zero_downtime = Expectations::ZeroDowntime{};
    run.signals.erase(run.signals.begin());
    const auto c = check("zero_downtime");
    EXPECT_EQ(c.status, CheckStatus::fail);
    EXPECT_EQ(c.message, "no reload was delivered: nothing was shown");
}

TEST_F(WorkerChecksTest, ZeroDowntimeCountsAWorkerBornJustBeforeTheReloadAsOld) {
    scenario.expect.zero_downtime = Expectations::ZeroDowntime{};
    // Born 30 ms before the reload, before any scan saw it: a tick (10 ms) earlier than the reload is old.
    run.processes.push_back(ProcessLife{203, 100, 1, "w", 970'000, 1'020'000, 1'280'000, 1'330'000});
    const auto c = check("zero_downtime");
    EXPECT_EQ(c.status, CheckStatus::pass) << c.message;
    EXPECT_EQ(c.measured, "1 reload: 0 dropped, 0 refused, readiness held; 3→2 workers; slowest 350.0ms");
}

// ---- workers_drained

TEST_F(WorkerChecksTest, WorkersDrainedPassesWhenEveryWorkerExitedWithAListedCode) {
    scenario.expect.workers_drained = Expectations::WorkersDrained{};
    set_report(R"([{"id":"1.1","pid":201,"fate":"drained","ended_while":"reloading","exit":"exit 0"},
                  {"id":"2.1","pid":301,"fate":"drained","ended_while":"stopping","exit":"exit 0","ended_ms":812.5}])");
    const auto c = check("workers_drained");
    EXPECT_EQ(c.status, CheckStatus::pass) << c.message;
    EXPECT_EQ(c.measured, "2 ended: 2 drained, 0 killed, 0 crashed");
}

TEST_F(WorkerChecksTest, WorkersDrainedFailsOnAWorkerKilledAtTheTimeout) {
    scenario.expect.workers_drained = Expectations::WorkersDrained{};
    set_report(R"([{"id":"1.1","pid":201,"fate":"killed","ended_while":"stopping","exit":"killed by SIGKILL","ended_ms":2031.0},
                  {"id":"1.2","pid":202,"fate":"drained","ended_while":"stopping","exit":"exit 0"}])");
    run.report.report->stragglers = {"1.1 (pid 201)"};
    const auto c = check("workers_drained");
    EXPECT_EQ(c.status, CheckStatus::fail);
    EXPECT_EQ(c.message, "1 killed and 0 crashed, where 0 and 0 were expected");
    ASSERT_GE(c.evidence.size(), 2u);
    EXPECT_EQ(c.evidence[0], "worker 1.1 (pid 201): killed by SIGKILL while stopping at 2031.0ms of the master's life");
    EXPECT_EQ(c.evidence[1], "stragglers the target named: 1.1 (pid 201)");
}

TEST_F(WorkerChecksTest, WorkersDrainedFailsOnACrashAndOnAnUnlistedCode) {
    scenario.expect.workers_drained = Expectations::WorkersDrained{};
    set_report(R"([{"id":"1.1","pid":201,"fate":"crashed","ended_while":"stopping","exit":"killed by SIGSEGV"},
                  {"id":"1.2","pid":202,"fate":"drained","ended_while":"stopping","exit":"exit 4"}])");
    auto c = check("workers_drained");
    EXPECT_EQ(c.status, CheckStatus::fail);
    EXPECT_EQ(c.measured, "2 ended: 0 drained, 0 killed, 2 crashed");
    scenario.expect.workers_drained->exit = {0, 4};
    c = check("workers_drained");
    EXPECT_EQ(c.measured, "2 ended: 1 drained, 0 killed, 1 crashed");
    scenario.expect.workers_drained->crashed = 1;
    EXPECT_EQ(check("workers_drained").status, CheckStatus::pass);
}

TEST_F(WorkerChecksTest, WorkersDrainedHoldsTheExpectedKillsExactly) {
    scenario.expect.workers_drained = Expectations::WorkersDrained{2, 0, {0}};
    set_report(R"([{"id":"1.1","pid":201,"fate":"killed","ended_while":"stopping","exit":"killed by SIGKILL"},
                  {"id":"1.2","pid":202,"fate":"drained","ended_while":"stopping","exit":"exit 0"}])");
    const auto c = check("workers_drained");
    EXPECT_EQ(c.status, CheckStatus::fail) << "an escalation expected to kill both killed one";
    EXPECT_EQ(c.message, "1 killed and 0 crashed, where 2 and 0 were expected");
}

TEST_F(WorkerChecksTest, WorkersDrainedDoesNotCountEndsLastcallCaused) {
    scenario.expect.workers_drained = Expectations::WorkersDrained{};
    SignalSent kill{500'000, SIGKILL, "worker 1 (pid 201)", 1, true, "", false, 500'100};
    kill.purpose = SignalPurpose::process;
    kill.target = SignalTarget::worker;
    kill.pids = {201};
    run.signals.insert(run.signals.begin(), kill);
    set_report(R"([{"id":"1.1","pid":201,"fate":"crashed","ended_while":"running","exit":"killed by SIGKILL"},
                  {"id":"1.2","pid":202,"fate":"drained","ended_while":"stopping","exit":"exit 0"}])");
    const auto c = check("workers_drained");
    EXPECT_EQ(c.status, CheckStatus::pass) << c.message;
    EXPECT_EQ(c.measured, "1 ended: 1 drained, 0 killed, 0 crashed (1 more ended by lastcall's signals)");
}

TEST_F(WorkerChecksTest, WorkersDrainedIsSkippedWithoutExitStatuses) {
    scenario.expect.workers_drained = Expectations::WorkersDrained{};
    run.process_events = "scan: no permission";
    const auto c = check("workers_drained");
    EXPECT_EQ(c.status, CheckStatus::skip);
    EXPECT_EQ(c.message, "4 of 4 endings unknown: lastcall is not the workers' parent, the kernel did not say (scan: no permission) and the "
                         "target wrote no report with workers[]");
}

TEST_F(WorkerChecksTest, WorkersDrainedTakesTheKernelsStatusesOverTheReport) {
    scenario.expect.workers_drained = Expectations::WorkersDrained{};
    for (auto& p : run.processes) {
        p.exit_us = p.gone_us - 20'000;
        p.exit = TargetExit{true, 0, 0};
    }
    run.processes[1].exit = TargetExit{false, 0, SIGKILL};
    // The report says all drained; the kernel, which lastcall trusts first, says one was killed.
    set_report(R"([{"id":"1.1","pid":201,"exit":"exit 0"},{"id":"1.2","pid":202,"exit":"exit 0"}])");
    const auto c = check("workers_drained");
    EXPECT_EQ(c.status, CheckStatus::fail);
    EXPECT_EQ(c.measured, "4 ended: 3 drained, 1 killed, 0 crashed");
    ASSERT_GE(c.evidence.size(), 2u);
    EXPECT_EQ(c.evidence[0], "pid 202 (lastcall-server --workers 0): killed by SIGKILL at 1.280s");
    EXPECT_EQ(c.evidence.back(), "judged from: the kernel (netlink process connector)");
}

TEST_F(WorkerChecksTest, WorkersDrainedLeavesWhatDiedAfterLastcallKilledTheTargetToLastcall) {
    scenario.expect.workers_drained = Expectations::WorkersDrained{};
    for (auto& p : run.processes) {
        p.exit_us = p.gone_us - 20'000;
        p.exit = TargetExit{true, 0, 0};
    }
    run.processes[2].exit = run.processes[3].exit = TargetExit{false, 0, SIGKILL};  // ended at 3.33 s
    SignalSent kill{3'200'000, SIGKILL, "group", 1, true, "", false, 3'200'100};
    kill.target = SignalTarget::group;
    run.signals.push_back(kill);
    const auto c = check("workers_drained");
    EXPECT_EQ(c.status, CheckStatus::pass) << c.message;
    EXPECT_EQ(c.measured, "2 ended: 2 drained, 0 killed, 0 crashed (2 more ended by lastcall's signals)");
}

TEST_F(WorkerChecksTest, ZeroDowntimeUsesTheKernelsExactEnds) {
    scenario.expect.zero_downtime = Expectations::ZeroDowntime{};
    for (auto& p : run.processes) p.exit_us = p.gone_us - 40'000;  // the scans saw the ends 40 ms late
    const auto c = check("zero_downtime");
    EXPECT_EQ(c.status, CheckStatus::pass) << c.message;
    EXPECT_EQ(c.measured, "1 reload: 0 dropped, 0 refused, readiness held; 2→2 workers; slowest 310.0ms");
}

TEST_F(WorkerChecksTest, WorkersDrainedCountsAnUnreadableExitAsACrash) {
    scenario.expect.workers_drained = Expectations::WorkersDrained{};
    set_report(R"([{"id":"1.1","pid":201,"fate":"drained","ended_while":"stopping","exit":"exit zero"}])");
    EXPECT_EQ(check("workers_drained").measured, "1 ended: 0 drained, 0 killed, 1 crashed");
}

} // namespace
} // namespace lastcall::harness

// Every check that the self-test matrix does not already drive to failure with a faulty server is
// shown failing here, on hand-built evidence, for the reason it names.
#include "checks.hpp"

#include <gtest/gtest.h>

#include <csignal>

namespace lastcall::harness {
namespace {

using namespace std::chrono_literals;

class ChecksTest : public ::testing::Test {
protected:
    ChecksTest() {
        scenario.name = "t";
        Workload w;
        w.name = "w";
        scenario.workloads = {w};
        scenario.expect.streams_clean = false;
        scenario.target.ready.http_path = "/ready";
        run.workload_names = {"w"};
        run.signals = {SignalSent{1'000'000, SIGTERM, "target", 1, true, "", false}};
        run.exit = TargetExit{true, 0, 0};
        run.exit_us = 1'010'000;
        run.port_released = true;
        run.probes = {probe(990'000, 200), probe(1'001'000, 503)};
        add(ok(900'000, 950'000));
    }
    // A connect the target refused (nothing sent), seen at `done`.
    static RequestRecord refused_connect(std::int64_t done) {
        auto r = ok(-1, done);
        r.sent_us = -1;
        r.status = 0;
        r.outcome = Outcome::rejected;
        r.failure = Failure::connect_refused;
        return r;
    }
    static RequestRecord ok(std::int64_t sent, std::int64_t done) {
        RequestRecord r;
        r.id = 256;
        r.connection_id = 1;
        r.intended_us = r.sent_us = sent;
        r.first_byte_us = r.done_us = done;
        r.status = 200;
        r.outcome = Outcome::ok;
        r.connection_close = true;
        return r;
    }
    static ProbeResult probe(std::int64_t sent, int status) {
        using Kind = ProbeResult::Kind;
        return ProbeResult{sent, sent + 500, status, status / 100 == 2 ? Kind::ready : status > 0 ? Kind::not_ready : Kind::no_answer};
    }
    void set_report(const std::string& text) {
        auto parsed = parse_target_report(text);
        run.report.state = parsed.report ? TargetReportReading::State::ok : TargetReportReading::State::corrupt;
        run.report.report = parsed.report;
        run.report.detail = parsed.error;
    }
    void add(const RequestRecord& r) {
        run.history.push_back(r);
        ++run.outcomes[static_cast<std::size_t>(r.outcome)];
    }
    CheckResult check(const std::string& name) {
        for (auto& c : evaluate_checks(scenario, run)) {
            if (c.name == name) return c;
        }
        throw std::runtime_error("no check " + name);
    }

    Scenario scenario;
    RunResult run;
};

TEST_F(ChecksTest, BaselinePasses) {
    for (const auto& c : evaluate_checks(scenario, run)) EXPECT_NE(c.status, CheckStatus::fail) << c.name << ": " << c.message;
}

TEST_F(ChecksTest, IdleCloseRaceFollowsItsPolicy) {
    auto race = ok(1'000'500, 1'000'600);
    race.outcome = Outcome::idle_close_race;
    race.status = 0;
    add(race);
    EXPECT_EQ(check("idle_close_race").status, CheckStatus::fail);
    scenario.expect.idle_close_race = Expectations::RacePolicy::retried;
    EXPECT_EQ(check("idle_close_race").status, CheckStatus::fail) << "not retried";
    run.history.back().retried = true;
    auto retry = ok(1'000'600, 1'000'700);
    retry.retry_of = race.id;
    add(retry);
    EXPECT_EQ(check("idle_close_race").status, CheckStatus::pass);
    scenario.expect.idle_close_race = Expectations::RacePolicy::tolerate;
    EXPECT_EQ(check("idle_close_race").status, CheckStatus::pass);
}

// A history that lost records (limits.history_bytes reached, a disk that filled) leaves every
// other verdict judging part of the run: harness_errors says so and fails.
TEST_F(ChecksTest, AnIncompleteHistoryFailsHarnessErrors) {
    EXPECT_EQ(check("harness_errors").status, CheckStatus::pass);
    run.history_dropped = 12;
    run.history_limit = 4096;
    auto c = check("harness_errors");
    EXPECT_EQ(c.status, CheckStatus::fail);
    EXPECT_EQ(c.measured, "12");
    ASSERT_FALSE(c.evidence.empty());
    EXPECT_EQ(c.evidence[0], "12 requests were not recorded: the history reached limits.history_bytes (4096 bytes)");
    run.history_dropped = 0;
    run.history_error = "writing the history file: No space left on device";
    c = check("harness_errors");
    EXPECT_EQ(c.status, CheckStatus::fail);
    ASSERT_FALSE(c.evidence.empty());
    EXPECT_EQ(c.evidence[0], "the history: writing the history file: No space left on device");
}

// An open loop judged by what its schedule had due: past the edge (250 ms of arrivals, 2 % of those
// due) never started is a workload short of its rate; within it, a stall at the stop.
TEST_F(ChecksTest, AnOpenLoopShortOfItsRateFailsWorkloadsRan) {
    scenario.workloads[0].mode = LoadMode::open;
    scenario.workloads[0].rate = 1000;
    run.open_loops = {OpenLoopTally{9'800, 0, 200, 10s}};  // 200 behind: 250 ms is 250
    EXPECT_EQ(check("workloads_ran").status, CheckStatus::pass);
    run.open_loops = {OpenLoopTally{4'000, 100, 5'900, 10s}};
    const auto c = check("workloads_ran");
    EXPECT_EQ(c.status, CheckStatus::fail);
    EXPECT_EQ(c.measured, "1 of 1 ran, 1 short of its rate");
    EXPECT_EQ(c.message, "workload 'w' started 4000 of the 10000 arrivals its 1000/s schedule had due in 10.00 s (about 400/s): 5900 never "
                         "started, lastcall could not keep up (its CPU, not the target); 100 skipped, 20000 requests per thread being outstanding already");
    scenario.workloads[0].mode = LoadMode::closed;
    EXPECT_EQ(check("workloads_ran").status, CheckStatus::pass) << "a closed loop has no schedule";
}

TEST_F(ChecksTest, ErrorsCountUnexpectedStatuses) {
    auto error = ok(950'000, 960'000);
    error.status = 500;
    error.outcome = Outcome::error;
    add(error);
    const auto c = check("errors");
    EXPECT_EQ(c.status, CheckStatus::fail);
    ASSERT_FALSE(c.evidence.empty());
    EXPECT_NE(c.evidence[0].find("status 500"), std::string::npos) << c.evidence[0];
}

TEST_F(ChecksTest, RejectionsWithoutRetryAfterOrBeforeTheSignalAreUnclean) {
    auto bare = ok(1'002'000, 1'002'100);
    bare.status = 503;
    bare.outcome = Outcome::rejected;
    bare.retry_after_s = -1;
    add(bare);
    EXPECT_EQ(check("rejections_clean").status, CheckStatus::fail);
    run.history.back().retry_after_s = 1;
    EXPECT_EQ(check("rejections_clean").status, CheckStatus::pass);
    add(refused_connect(500'000));
    EXPECT_EQ(check("rejections_clean").status, CheckStatus::fail) << "refused before any signal";
}

// A SIGKILLed server refuses connections before kill() returns to lastcall: a refusal between
// sending the signal and kill() returning is the signal's doing (a soak under disk load saw 16 of
// them in 0.14 ms, judged "refused before any signal" while the signal was stamped on return).
TEST_F(ChecksTest, RefusalWhileTheSignalIsBeingSentIsNotBeforeIt) {
    run.signals = {SignalSent{2'046'400, SIGKILL, "target", 1, true, "", false, 2'046'564}};
    add(refused_connect(2'046'422));
    EXPECT_EQ(check("rejections_clean").status, CheckStatus::pass) << check("rejections_clean").message;
    run.signals.back().t_us = 2'046'500;  // sent after the refusal: refused before any signal
    EXPECT_EQ(check("rejections_clean").status, CheckStatus::fail);
}

TEST_F(ChecksTest, RejectionDuringTheDrainDelayFails) {
    scenario.expect.accepting_during_drain_delay = 1s;
    auto refused = ok(1'100'000, 1'100'100);
    refused.outcome = Outcome::rejected;
    refused.failure = Failure::connect_refused;
    add(refused);
    EXPECT_EQ(check("accepting_during_drain_delay").status, CheckStatus::fail);
}

TEST_F(ChecksTest, DrainTailMeasuresLastResponseToExit) {
    run.exit_us = 5'000'000;  // lingered four seconds after the signal with nothing left to do
    const auto c = check("drain_tail");
    EXPECT_EQ(c.status, CheckStatus::fail);
    EXPECT_EQ(c.measured, "4000.0ms");
}

// report.json's numbers: what was measured, the bound, the unit, the comparison the verdict is.
TEST_F(ChecksTest, NumbersStandBesideTheDisplayStrings) {
    run.exit_us = 5'000'000;
    const auto tail = check("drain_tail");
    ASSERT_TRUE(tail.numbers);
    EXPECT_EQ(tail.numbers->value, 4000.0);
    EXPECT_EQ(tail.numbers->unit, "ms");
    EXPECT_EQ(tail.numbers->comparison, "<");
    EXPECT_LT(*tail.numbers->bound, 4000.0) << "failed, and the numbers say why";
    auto cut = ok(900'000, 1'005'000);
    cut.outcome = Outcome::dropped;
    add(cut);
    const auto dropped = check("dropped");
    ASSERT_TRUE(dropped.numbers);
    EXPECT_EQ(dropped.numbers->value, 1.0);
    EXPECT_EQ(dropped.numbers->bound, 0.0);
    EXPECT_EQ(dropped.numbers->comparison, "<=");
    run.exit = TargetExit{false, 0, SIGTERM};
    const auto exit = check("exit");
    ASSERT_TRUE(exit.numbers);
    EXPECT_EQ(exit.numbers->value, 143.0) << "a death by signal N as a shell shows it";
    EXPECT_EQ(exit.numbers->bound, 0.0);
    EXPECT_FALSE(check("port_released").numbers) << "nothing to count";
    for (const auto& c : evaluate_checks(scenario, run)) {
        if (c.numbers && c.numbers->value) EXPECT_FALSE(c.numbers->unit.empty()) << c.name;
        if (c.numbers && !c.numbers->comparison.empty()) EXPECT_TRUE(c.numbers->bound) << c.name;
    }
}

TEST_F(ChecksTest, DrainTailDefaultLetsAnOrdinaryServerLoopFinish) {
    run.exit_us = 2'297'000;  // gunicorn's arbiter: up to ~1.3 s after the last response (issue 7, item 3)
    EXPECT_EQ(check("drain_tail").status, CheckStatus::pass);
}

// Samples of the target every 50 ms from `from` to `to`, with a thread in state D (waiting on the
// disk) in those inside [disk_from, disk_to].
std::vector<ProcSample> samples_with_disk_wait(std::int64_t from, std::int64_t to, std::int64_t disk_from, std::int64_t disk_to) {
    std::vector<ProcSample> samples;
    for (auto t = from; t <= to; t += 50'000) {
        ProcSample s;
        s.t_us = t;
        s.disk_waiting = t >= disk_from && t <= disk_to ? 1 : 0;
        samples.push_back(s);
    }
    return samples;
}

// A correct server whose checkpoint fsync stalled 6.5 s on a busy disk (noise soak): the kernel saw
// it waiting on the disk, so that time is not the server's lingering.
TEST_F(ChecksTest, DrainTailDoesNotCountTimeTheKernelShowsWaitingOnTheDisk) {
    run.exit_us = 7'700'000;
    run.samples = samples_with_disk_wait(0, 7'650'000, 1'100'000, 7'600'000);
    const auto c = check("drain_tail");
    EXPECT_EQ(c.status, CheckStatus::pass) << c.message;
    EXPECT_EQ(c.measured, "200.0ms of its own");
    ASSERT_EQ(c.evidence.size(), 1u);
    EXPECT_EQ(c.evidence[0].find("6500.0ms of the 6700.0ms after the last response waiting on the disk"), 0u) << c.evidence[0];
}

TEST_F(ChecksTest, DrainTailStillFailsATargetThatLingersBesideShortDiskWaits) {
    run.exit_us = 5'000'000;  // four seconds after the signal; the disk held it half a second
    run.samples = samples_with_disk_wait(0, 4'950'000, 2'000'000, 2'500'000);
    auto c = check("drain_tail");
    EXPECT_EQ(c.status, CheckStatus::fail) << c.message;
    EXPECT_EQ(c.measured, "3500.0ms of its own");
    // A thread caught in state D by single samples (short fsyncs) is no stall: nothing is taken off.
    run.samples = samples_with_disk_wait(0, 4'950'000, 0, 0);
    for (std::size_t i = 0; i < run.samples.size(); i += 2) run.samples[i].disk_waiting = 1;
    c = check("drain_tail");
    EXPECT_EQ(c.measured, "4000.0ms");
    // Samples far apart (a starved sampler) count at most two periods each.
    run.samples = {ProcSample{1'000'000, -1, 0, 0, 0, 1}, ProcSample{4'900'000, -1, 0, 0, 0, 1}};
    c = check("drain_tail");
    EXPECT_EQ(c.measured, "3900.0ms of its own");
}

TEST_F(ChecksTest, PortStillBoundFails) {
    run.port_released = false;
    EXPECT_EQ(check("port_released").status, CheckStatus::fail);
}

TEST_F(ChecksTest, JobNotCompletedAfterRestartFails) {
    scenario.expect.jobs_accounted = true;
    scenario.workloads[0].job = JobContract{"/id", "/jobs/{id}", "/state", "completed"};
    auto job = ok(100'000, 110'000);
    job.status = 202;
    job.reply_value = "7";
    add(job);
    run.restarted = true;
    run.job_states_after_restart[JobRef{0, "7"}] = JobReadback{false, "/state is \"resumable\""};
    const auto c = check("jobs_accounted");
    EXPECT_EQ(c.status, CheckStatus::fail);
    EXPECT_EQ(c.evidence, std::vector<std::string>{"job 7: /state is \"resumable\" (done when /state is completed)"});
    run.job_states_after_restart[JobRef{0, "7"}] = JobReadback{true, "/state is \"completed\""};
    EXPECT_EQ(check("jobs_accounted").status, CheckStatus::pass);
}

// The set model: every acknowledged element read back; an element handed out twice hides a loss.
TEST_F(ChecksTest, AckedSetElementsMissingOrReissuedFail) {
    Expectations::AckedWrites a;
    a.workload = "w";
    a.model = Expectations::AckedWrites::Model::set;
    a.element_pointer = "/element";
    a.read_path = "/set";
    a.read_pointer = "/elements";
    scenario.expect.acked_writes = a;
    for (const char* element : {"1", "2", "\"x\""}) {
        auto r = ok(100'000, 110'000);
        r.reply_value = element;
        add(r);
    }
    run.restarted = true;
    run.acked_state_after_restart = nlohmann::json::parse(R"([1, 2, "x", 7])");
    auto c = check("acked_writes_durable");
    EXPECT_EQ(c.status, CheckStatus::pass) << c.message;
    EXPECT_EQ(c.measured, "3 of 3 present");
    run.acked_state_after_restart = nlohmann::json::parse(R"([2])");
    c = check("acked_writes_durable");
    EXPECT_EQ(c.status, CheckStatus::fail);
    EXPECT_EQ(c.measured, "1 of 3 present");
    EXPECT_EQ(c.evidence, (std::vector<std::string>{"missing: \"x\"", "missing: 1"}));
    // A restart that lost element 2 gave it out again to a later write: present, but twice.
    auto again = ok(120'000, 130'000);
    again.reply_value = "2";
    add(again);
    run.acked_state_after_restart = nlohmann::json::parse(R"([1, 2, "x"])");
    c = check("acked_writes_durable");
    EXPECT_EQ(c.status, CheckStatus::fail);
    EXPECT_EQ(c.message, "1 elements were acknowledged to more than one write: the server forgot earlier ones");
    EXPECT_EQ(c.evidence, std::vector<std::string>{"2 was acknowledged to 2 writes"});
    run.acked_state_after_restart = nlohmann::json::parse(R"({"elements": []})");
    EXPECT_EQ(check("acked_writes_durable").measured, "not an array");
}

// exit: a list of codes and signals; a code from 129 also takes the death by signal code - 128.
TEST_F(ChecksTest, ExitListsCodesAndSignals) {
    using Exit = Expectations::Exit;
    run.exit = TargetExit{false, 0, SIGTERM};  // uvicorn re-raises the signal
    scenario.expect.exit = {Exit{false, 0}, Exit{false, 143}};
    auto c = check("exit");
    EXPECT_EQ(c.status, CheckStatus::pass) << c.message;
    EXPECT_EQ(c.bound, "exit 0 or exit 143");
    scenario.expect.exit = {Exit{false, 0}, Exit{true, SIGTERM}};
    EXPECT_EQ(check("exit").status, CheckStatus::pass);
    scenario.expect.exit = {Exit{false, 0}, Exit{true, SIGWINCH}};
    c = check("exit");
    EXPECT_EQ(c.status, CheckStatus::fail);
    EXPECT_EQ(c.message, "expected exit 0 or SIGWINCH, saw killed by SIGTERM");
    run.exit = TargetExit{true, 143, 0};  // a real exit(143) is code 143, not a signal
    scenario.expect.exit = {Exit{true, SIGTERM}};
    EXPECT_EQ(check("exit").status, CheckStatus::fail);
}

// `off` in the scenario: the check is listed, skipped, saying who turned it off.
TEST_F(ChecksTest, ChecksTurnedOffAreSkippedSayingSo) {
    run.port_released = false;
    scenario.expect.off = {"port_released", "dropped"};
    const auto c = check("port_released");
    EXPECT_EQ(c.status, CheckStatus::skip);
    EXPECT_EQ(c.message, "off in the scenario");
    EXPECT_EQ(check("dropped").status, CheckStatus::skip);
}

TEST_F(ChecksTest, SlowResponsesWhileDrainingFailTheLatencyBound) {
    scenario.expect.p99_during_drain = 10ms;
    add(ok(960'000, 1'005'000));  // 45 ms, completed between the signal and the exit
    EXPECT_EQ(check("p99_during_drain").status, CheckStatus::fail);
}

TEST_F(ChecksTest, ShutdownReportIsCheckedForOrderBudgetsAndConsistency) {
    scenario.expect.stuck_abandoned_within = 1s;
    set_report(R"({"signal_at_unix_us":0,"exit_code":0,"abandoned_tasks":[],"counts":{"streams_ended_by_shutdown":0},
        "phases":[{"phase":"draining","start_ms":0,"end_ms":5,"outcome":"completed"},
                  {"phase":"preparing","start_ms":5,"end_ms":6,"outcome":"completed"}]})");
    EXPECT_EQ(check("shutdown_report").status, CheckStatus::fail) << "phases out of order";
    EXPECT_EQ(check("stuck_abandoned_within").status, CheckStatus::fail) << "nothing was abandoned";
    set_report(R"({"exit_code":4,"abandoned_tasks":["stuck-1"],"counts":{"streams_ended_by_shutdown":0},
        "phases":[{"phase":"draining","start_ms":0,"end_ms":5,"outcome":"completed"},
                  {"phase":"tasks","start_ms":5,"end_ms":400,"outcome":"timed_out"}]})");
    const auto c = check("shutdown_report");
    EXPECT_EQ(c.status, CheckStatus::fail);
    EXPECT_EQ(c.evidence.size(), 2u) << "a timed-out phase when exit 0 was expected, and the exit codes disagree";
    EXPECT_EQ(check("stuck_abandoned_within").status, CheckStatus::pass);
}

// Found by explore against the correct server: `[prefork] slow x1, sse x1; reload at 100ms;
// SIGTERM at 4100ms` failed "the harness saw 3 streams ended by shutdown, the report counts 1". The
// reload's retiring workers ended two streams before the shutdown; a master's report counts the
// workers that stopped with it. Only the streams this shutdown ended are compared.
TEST_F(ChecksTest, ShutdownReportComparesOnlyTheStreamsThisShutdownEnded) {
    const auto stream_ended_by_shutdown = [](std::int64_t done) {
        auto r = ok(100'000, done);
        r.outcome = Outcome::ended_by_shutdown;
        return r;
    };
    add(stream_ended_by_shutdown(400'000));  // a reload's retiring worker, before the signal
    add(stream_ended_by_shutdown(450'000));
    add(stream_ended_by_shutdown(1'004'000));
    const std::string report = R"({"exit_code":0,"counts":{"streams_ended_by_shutdown":1},
        "phases":[{"phase":"draining","start_ms":0,"end_ms":5,"outcome":"completed"}]})";
    set_report(report);
    EXPECT_EQ(check("shutdown_report").status, CheckStatus::pass) << check("shutdown_report").message;
    add(stream_ended_by_shutdown(1'006'000));  // one more ended by this shutdown than the report counts
    const auto c = check("shutdown_report");
    EXPECT_EQ(c.status, CheckStatus::fail);
    EXPECT_EQ(c.message, "the harness saw 2 streams ended by this shutdown, the report counts 1");
}

// `[prefork-short-grace] sse x1, outlasting x1; SIGTERM at 100ms` (explore, 4 of 5): a worker
// killed at the graceful timeout writes no report, so its master cannot count what it ended.
TEST_F(ChecksTest, AMastersStreamCountIsNotComparedWhenAStoppingWorkerWasKilled) {
    auto stream = ok(100'000, 1'004'000);
    stream.outcome = Outcome::ended_by_shutdown;
    add(stream);
    set_report(R"({"exit_code":0,"counts":{"streams_ended_by_shutdown":0},"stragglers":["1.1"],
        "workers":[{"id":"1.1","pid":42,"fate":"killed","ended_while":"stopping","exit":"killed by SIGKILL"}],
        "phases":[{"phase":"draining","start_ms":0,"end_ms":5,"outcome":"completed"}]})");
    EXPECT_EQ(check("shutdown_report").status, CheckStatus::pass) << check("shutdown_report").message;
    set_report(R"({"exit_code":0,"counts":{"streams_ended_by_shutdown":0},
        "workers":[{"id":"1.1","pid":42,"fate":"drained","ended_while":"stopping","exit":"exit 0"}],
        "phases":[{"phase":"draining","start_ms":0,"end_ms":5,"outcome":"completed"}]})");
    EXPECT_EQ(check("shutdown_report").status, CheckStatus::fail) << "every worker reported: the count must hold";
}

// Item 1 of issue 7: a probe that was already failing (a busy server does not answer it) is no
// evidence of readiness after the signal; only a probe sent after the bound and answered 2xx is.
TEST_F(ChecksTest, ReadinessAlreadyFailingBeforeTheSignalIsNoFalseAlarm) {
    run.probes = {probe(900'000, -1), probe(990'000, -1), probe(1'050'000, -1), probe(1'200'000, -1)};
    run.exit_us = 1'400'000;
    const auto c = check("readiness_flip");
    EXPECT_EQ(c.status, CheckStatus::pass) << c.message;
    EXPECT_NE(c.measured.find("already failing"), std::string::npos) << c.measured;
}

// The demo (stuck-task, set-durability): a probe sent just before the signal was answered 503
// 1.35 ms after it (events.jsonl's readiness event), the next one was refused 9.9 ms after. The
// check said "9.9ms (first failing probe, status -1) ... already failing before the signal": it
// took the first probe sent after the signal, and never said what -1 was.
TEST_F(ChecksTest, ReadinessFlipIsTheFirstNotReadyAnswerAfterTheSignalAsEventsJsonlShowsIt) {
    using Kind = ProbeResult::Kind;
    run.probes = {ProbeResult{989'000, 989'600, 200, Kind::ready}, ProbeResult{999'800, 1'001'350, 503, Kind::not_ready},
                  ProbeResult{1'009'700, 1'009'900, -1, Kind::not_ready}};
    run.exit_us = 1'500'000;
    auto c = check("readiness_flip");
    EXPECT_EQ(c.status, CheckStatus::pass) << c.message;
    EXPECT_EQ(c.measured, "1.4ms (the first not-ready answer, events.jsonl readiness at t_us 1001350: answered 503, to a probe sent 0.2ms before the signal)");
    ASSERT_TRUE(c.numbers && c.numbers->value);
    EXPECT_DOUBLE_EQ(*c.numbers->value, 1.35);
    run.probes.erase(run.probes.begin() + 1);  // only the refusal after the signal: said in words
    c = check("readiness_flip");
    EXPECT_EQ(c.measured, "9.9ms (the first not-ready answer, events.jsonl readiness at t_us 1009900: connection refused: nothing listened on the "
                          "port any more)");
}

TEST_F(ChecksTest, ReadinessEndsWithAnExitInsideOneProbeInterval) {
    run.probes = {probe(990'000, 200)};  // the next probe never started: the target was gone
    run.exit_us = 1'004'000;
    const auto c = check("readiness_flip");
    EXPECT_EQ(c.status, CheckStatus::pass) << c.message;
    EXPECT_EQ(c.measured, "4.0ms (the exit)");
}

TEST_F(ChecksTest, ReadinessStillPassingAfterTheBoundFails) {
    run.probes = {probe(990'000, 200), probe(1'050'000, 200), probe(1'150'000, 200), probe(1'160'000, 503)};
    run.exit_us = 2'000'000;
    const auto c = check("readiness_flip");
    EXPECT_EQ(c.status, CheckStatus::fail);
    ASSERT_FALSE(c.evidence.empty());
    EXPECT_NE(c.evidence[0].find("150.0ms after the signal (its delivery) was answered 200"), std::string::npos) << c.evidence[0];
}

// A target starved of CPU handles the signal late; its report says when, and the clock starts there
// (seen in a soak under load: the probe answered 200 224 ms after delivery, 503 16 ms later).
TEST_F(ChecksTest, ReadinessCountsFromWhenTheTargetHandledTheSignal) {
    run.run_start_unix_us = 1'000'000'000'000;
    run.probes = {probe(990'000, 200), probe(1'195'000, 200), probe(1'230'000, 503)};
    run.exit_us = 1'700'000;
    EXPECT_EQ(check("readiness_flip").status, CheckStatus::fail) << "from the delivery, 195 ms is too late";
    set_report(R"({"signal_at_unix_us":1000001220000,"phases":[]})");  // it handled the signal 220 ms after delivery
    const auto c = check("readiness_flip");
    EXPECT_EQ(c.status, CheckStatus::pass) << c.message;
    EXPECT_NE(c.measured.find("from the target's handling of the signal, 220.0ms after delivery"), std::string::npos) << c.measured;
    set_report(R"({"signal_at_unix_us":1000000500000,"phases":[]})");  // a signal before the delivery is not believed
    EXPECT_EQ(check("readiness_flip").status, CheckStatus::fail);
}

// Item 2: a response to a request sent before draining began may have been written before it, and
// a busy client sees it late; only requests sent after draining had certainly begun are judged.
TEST_F(ChecksTest, CloseAnnouncedJudgesOnlyRequestsSentAfterDrainingBegan) {
    run.run_start_unix_us = 1'000'000'000'000;
    set_report(R"({"signal_at_unix_us":1000001000000,"phases":[{"phase":"preparing","start_ms":0,"end_ms":0.2},
                  {"phase":"draining","start_ms":0.2,"end_ms":9}]})");
    auto seen_late = ok(999'000, 1'008'000);  // sent before the signal, read 8 ms later by a busy client
    seen_late.connection_close = false;
    seen_late.closed_after = true;
    add(seen_late);
    EXPECT_EQ(check("close_announced").status, CheckStatus::pass);
    auto after = ok(1'003'000, 1'004'000);  // sent 3 ms after the signal: draining had begun at 0.2 ms
    after.connection_close = false;
    after.closed_after = true;
    add(after);
    const auto c = check("close_announced");
    EXPECT_EQ(c.status, CheckStatus::fail);
    ASSERT_GE(c.evidence.size(), 2u);
    EXPECT_NE(c.evidence[0].find("the target's shutdown report"), std::string::npos) << c.evidence[0];
    EXPECT_NE(c.evidence[1].find("sent 1.003s"), std::string::npos) << c.evidence[1];
}

TEST_F(ChecksTest, CloseAnnouncedWithoutAReportUsesARefusedConnection) {
    auto refused = ok(1'002'000, 1'002'100);
    refused.status = 0;
    refused.outcome = Outcome::rejected;
    refused.failure = Failure::connect_refused;
    add(refused);
    auto after = ok(1'003'000, 1'004'000);
    after.connection_close = false;
    after.closed_after = true;
    add(after);
    const auto c = check("close_announced");
    EXPECT_EQ(c.status, CheckStatus::fail);
    EXPECT_NE(c.evidence[0].find("connection refused at 1.002s"), std::string::npos) << c.evidence[0];
}

// Item 5: streams cut by a kill never ended; they are not clean.
TEST_F(ChecksTest, StreamsStillOpenAtAKillAreNotClean) {
    scenario.workloads[0].kind = WorkloadKind::stream;
    scenario.expect.streams_clean = true;
    auto stream = ok(500'000, 3'000'000);
    stream.outcome = Outcome::unknown;
    stream.failure = Failure::truncated_stream;
    add(stream);
    const auto c = check("streams_clean");
    EXPECT_EQ(c.status, CheckStatus::fail);
    EXPECT_EQ(c.measured, "w: 1 of 2 ended with the HTTP message");
    EXPECT_NE(c.message.find("still open when the target was killed"), std::string::npos) << c.message;
}

// Item 9: an undelivered signal fails the run, said plainly; one after the target exited does not.
TEST_F(ChecksTest, UndeliveredSignalFails) {
    run.signals.push_back(SignalSent{1'500'000, SIGTERM, "child 1", 1, false, "the target (pid 42) has 0 children", false});
    const auto c = check("signals_delivered");
    EXPECT_EQ(c.status, CheckStatus::fail);
    ASSERT_EQ(c.evidence.size(), 1u);
    EXPECT_EQ(c.evidence[0], "SIGTERM at 1.500s to child 1: not delivered (the target (pid 42) has 0 children)");
    run.signals.back() = SignalSent{1'500'000, SIGKILL, "target", 1, false, "the target had already exited", true};
    EXPECT_EQ(check("signals_delivered").status, CheckStatus::pass);
}

// Item 11: a workload that made no request proves nothing.
TEST_F(ChecksTest, WorkloadThatNeverRanFails) {
    Workload idle;
    idle.name = "late";
    scenario.workloads.push_back(idle);
    run.workload_names.push_back("late");
    const auto c = check("workloads_ran");
    EXPECT_EQ(c.status, CheckStatus::fail);
    EXPECT_EQ(c.message, "workload 'late' made no request at all");
}

// A corrupt report is a failing check, not "no report".
TEST_F(ChecksTest, CorruptShutdownReportFails) {
    set_report(R"({"phases":[{"phase":"draining","start_ms":"soon"}]})");
    const auto c = check("shutdown_report");
    EXPECT_EQ(c.status, CheckStatus::fail);
    EXPECT_EQ(c.message, "phases[0].start_ms is not a number");
}

// Fewer descriptors before the exit than at the start (a draining server closed its listener) is
// no leak and is said so, not printed as "-2"; more than the allowance fails with the growth.
TEST_F(ChecksTest, FdLeakSaysFewerDescriptorsInWordsAndFailsOnGrowth) {
    run.samples = {ProcSample{100'000, 20}, ProcSample{1'000'000, 18}};
    const auto fewer = check("fd_leak");
    EXPECT_EQ(fewer.status, CheckStatus::pass);
    EXPECT_EQ(fewer.measured, "0 (2 fewer than at the start)");
    run.samples = {ProcSample{100'000, 20}, ProcSample{1'000'000, 40}};
    const auto grown = check("fd_leak");
    EXPECT_EQ(grown.status, CheckStatus::fail);
    EXPECT_EQ(grown.measured, "+20");
    EXPECT_EQ(grown.message, "open descriptors grew by 20 beyond the connections still open");
}

// The user's run: 62 keep-alive connections opened at once, the first sample before the target
// accepted any (all 62 in its accept queue, 15 fds), the last with all accepted (77 fds). No
// leak: the queued ones are not counted as held. Not asked (-1), they were: +62, the false leak.
TEST_F(ChecksTest, FdLeakCountsOnlyTheConnectionsTheTargetAccepted) {
    for (std::uint64_t c = 2; c < 64; ++c) {
        auto r = ok(2'000, 800'000);
        r.connection_id = c;
        r.connection_close = false;  // kept alive: open until the run's end
        add(r);
    }
    run.samples = {ProcSample{3'000, 15}, ProcSample{1'000'000, 77}};
    run.samples[0].accept_queue = 62;
    run.samples[1].accept_queue = 0;
    const auto queued = check("fd_leak");
    EXPECT_EQ(queued.status, CheckStatus::pass) << queued.measured;
    EXPECT_EQ(queued.measured, "0");
    run.samples[1].fds = 77 + 20;
    const auto grown = check("fd_leak");
    EXPECT_EQ(grown.status, CheckStatus::fail);
    EXPECT_EQ(grown.measured, "+20");
    bool said = false;
    for (const auto& e : grown.evidence) said = said || e.find("still in the target's accept queue (the kernel's count, sock_diag: 62 at the baseline, 0 before exit)") != std::string::npos;
    EXPECT_TRUE(said) << "the evidence says what the count rests on";
    run.samples[0].accept_queue = run.samples[1].accept_queue = -1;
    run.samples[1].fds = 77;
    EXPECT_EQ(check("fd_leak").measured, "+62") << "without the kernel's count the queued connections read as held";
}

} // namespace
} // namespace lastcall::harness

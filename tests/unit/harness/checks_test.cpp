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
        run.signals = {SignalSent{1'000'000, SIGTERM, "target"}};
        run.exit = TargetExit{true, 0, 0};
        run.exit_us = 1'010'000;
        run.port_released = true;
        run.readiness = {ReadinessChange{1'001'000, false, 503}};
        add(ok(900'000, 950'000));
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
    auto early = ok(-1, 500'000);
    early.sent_us = -1;
    early.status = 0;
    early.outcome = Outcome::rejected;
    early.failure = Failure::connect_refused;
    add(early);
    EXPECT_EQ(check("rejections_clean").status, CheckStatus::fail) << "refused before any signal";
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
    run.exit_us = 3'000'000;  // lingered two seconds after the signal with nothing left to do
    const auto c = check("drain_tail");
    EXPECT_EQ(c.status, CheckStatus::fail);
    EXPECT_EQ(c.measured, "2000.0ms");
}

TEST_F(ChecksTest, PortStillBoundFails) {
    run.port_released = false;
    EXPECT_EQ(check("port_released").status, CheckStatus::fail);
}

TEST_F(ChecksTest, JobNotCompletedAfterRestartFails) {
    scenario.expect.jobs_accounted = true;
    auto job = ok(100'000, 110'000);
    job.status = 202;
    job.job_id = 7;
    add(job);
    run.restarted = true;
    run.job_states_after_restart[7] = "resumable";
    const auto c = check("jobs_accounted");
    EXPECT_EQ(c.status, CheckStatus::fail);
    EXPECT_EQ(c.evidence, std::vector<std::string>{"job 7 is resumable"});
    run.job_states_after_restart[7] = "completed";
    EXPECT_EQ(check("jobs_accounted").status, CheckStatus::pass);
}

TEST_F(ChecksTest, SlowResponsesWhileDrainingFailTheLatencyBound) {
    scenario.expect.p99_during_drain = 10ms;
    add(ok(960'000, 1'005'000));  // 45 ms, completed between the signal and the exit
    EXPECT_EQ(check("p99_during_drain").status, CheckStatus::fail);
}

TEST_F(ChecksTest, ShutdownReportIsCheckedForOrderBudgetsAndConsistency) {
    scenario.expect.stuck_abandoned_within = 1s;
    run.shutdown_report = R"({"signal_at_unix_us":0,"exit_code":0,"abandoned_tasks":[],"counts":{"streams_ended_by_shutdown":0},
        "phases":[{"phase":"draining","start_ms":0,"end_ms":5,"outcome":"completed"},
                  {"phase":"preparing","start_ms":5,"end_ms":6,"outcome":"completed"}]})";
    EXPECT_EQ(check("shutdown_report").status, CheckStatus::fail) << "phases out of order";
    EXPECT_EQ(check("stuck_abandoned_within").status, CheckStatus::fail) << "nothing was abandoned";
    run.shutdown_report = R"({"exit_code":4,"abandoned_tasks":["stuck-1"],"counts":{"streams_ended_by_shutdown":0},
        "phases":[{"phase":"draining","start_ms":0,"end_ms":5,"outcome":"completed"},
                  {"phase":"tasks","start_ms":5,"end_ms":400,"outcome":"timed_out"}]})";
    const auto c = check("shutdown_report");
    EXPECT_EQ(c.status, CheckStatus::fail);
    EXPECT_EQ(c.evidence.size(), 2u) << "a timed-out phase when exit 0 was expected, and the exit codes disagree";
    EXPECT_EQ(check("stuck_abandoned_within").status, CheckStatus::pass);
}

} // namespace
} // namespace lastcall::harness

// A failed check's moment (CheckResult::at_us), which report.html marks on the timeline: the first
// offending request's end, the exit, the deadline that ran out; none for a check without one.
#include "checks.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <csignal>

namespace lastcall::harness {
namespace {

using namespace std::chrono_literals;

CheckResult find(const std::vector<CheckResult>& checks, const std::string& name) {
    for (const auto& c : checks) {
        if (c.name == name) return c;
    }
    throw std::runtime_error("no check " + name);
}

RequestRecord request(std::uint64_t id, std::int64_t sent, std::int64_t done, Outcome outcome) {
    RequestRecord r;
    r.id = id;
    r.connection_id = id;
    r.intended_us = r.sent_us = sent;
    r.first_byte_us = r.done_us = done;
    r.status = outcome == Outcome::ok ? 200 : 0;
    r.outcome = outcome;
    return r;
}

struct CheckMoments : ::testing::Test {
    CheckMoments() {
        scenario.name = "t";
        Workload w;
        w.name = "w";
        scenario.workloads = {w};
        scenario.expect.streams_clean = false;
        run.workload_names = {"w"};
        SignalSent term;
        term.t_us = 1'000'000;
        term.signal = SIGTERM;
        term.to = "target";
        term.generation = 1;
        run.signals = {term};
        run.exit = TargetExit{false, 0, SIGTERM};  // no-drain: killed by its own signal
        run.exit_us = 1'004'000;
        run.port_released = true;
        for (const auto& r : {request(1, 900'000, 950'000, Outcome::ok), request(2, 990'000, 1'003'000, Outcome::dropped),
                              request(3, 980'000, 1'002'000, Outcome::dropped)}) {
            run.history.push_back(r);
            ++run.outcomes[static_cast<std::size_t>(r.outcome)];
        }
    }
    Scenario scenario;
    RunResult run;
};

TEST_F(CheckMoments, AFailedCheckIsPlacedWhereItsFailureShows) {
    scenario.expect.shutdown_time = 2ms;
    const auto checks = evaluate_checks(scenario, run);
    const auto dropped = find(checks, "dropped");
    ASSERT_EQ(dropped.status, CheckStatus::fail);
    EXPECT_EQ(dropped.at_us, 1'002'000) << "the earliest dropped request's end, not the first in the history";
    const auto exit = find(checks, "exit");
    ASSERT_EQ(exit.status, CheckStatus::fail);
    EXPECT_EQ(exit.at_us, 1'004'000);
    const auto shutdown = find(checks, "shutdown_time");
    ASSERT_EQ(shutdown.status, CheckStatus::fail);
    EXPECT_EQ(shutdown.at_us, 1'002'000) << "the signal plus the bound: where the deadline ran out";
}

} // namespace
} // namespace lastcall::harness

// The fold of the workers' shutdown reports into the master's: each phase from its latest start to
// its latest end (every worker in it, then every worker out of it), its worst outcome, on the
// master's signal time; counts and connections are sums.
#include "master_report.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace lastcall::server {
namespace {

using nlohmann::json;

json worker_report(std::int64_t signal_at_unix_us, double drain_end_ms, const char* drain_outcome, int in_flight) {
    return {{"signal_at_unix_us", signal_at_unix_us},
            {"phases",
             {{{"phase", "draining"}, {"start_ms", 0.5}, {"end_ms", drain_end_ms}, {"outcome", drain_outcome}, {"detail", drain_outcome}},
              {{"phase", "exiting"}, {"start_ms", drain_end_ms + 1}, {"end_ms", drain_end_ms + 2}, {"outcome", "completed"}, {"detail", ""}}}},
            {"counts", {{"in_flight_at_signal", in_flight}, {"completed_during_drain", in_flight}}},
            {"connections", {{"accepted", 3}, {"accept_paused_ms", 1.5}}},
            {"abandoned_tasks", json::array()},
            {"durability_error", ""},
            {"escalated", false}};
}

TEST(MasterReport, EachPhaseRunsFromWhenEveryWorkerWasInItToWhenTheLastLeftIt) {
    const std::int64_t master_signal = 1'000'000'000;
    // The second worker heard the signal 10 ms after the master and drained longer, then was cut.
    const auto first = worker_report(master_signal + 2'000, 100.0, "completed", 1);
    const auto second = worker_report(master_signal + 10'000, 300.0, "timed_out", 2);
    const auto folded = fold_worker_reports({&first, &second}, master_signal);

    ASSERT_EQ(folded["phases"].size(), 2u);
    const auto& draining = folded["phases"][0];
    EXPECT_EQ(draining["phase"], "draining");
    EXPECT_DOUBLE_EQ(draining["start_ms"].get<double>(), 10.5);  // the second worker's start
    EXPECT_DOUBLE_EQ(draining["end_ms"].get<double>(), 310.0);   // the second worker's end
    EXPECT_EQ(draining["outcome"], "timed_out");
    EXPECT_EQ(draining["detail"], "timed_out");
    EXPECT_EQ(folded["phases"][1]["phase"], "exiting");
    // In order, though the first worker was exiting before the second had stopped draining.
    EXPECT_GE(folded["phases"][1]["start_ms"].get<double>(), draining["end_ms"].get<double>());
    EXPECT_EQ(folded["counts"]["in_flight_at_signal"], 3);
    EXPECT_EQ(folded["connections"]["accepted"], 6);
    EXPECT_DOUBLE_EQ(folded["connections"]["accept_paused_ms"].get<double>(), 3.0);
}

TEST(MasterReport, ASkippedPhaseReadsCompletedWhenAnotherWorkerCompletedIt) {
    const auto skipped = worker_report(5'000, 0.0, "skipped", 0);
    const auto completed = worker_report(5'000, 50.0, "completed", 1);
    EXPECT_EQ(fold_worker_reports({&skipped, &completed}, 5'000)["phases"][0]["outcome"], "completed");
    EXPECT_EQ(fold_worker_reports({&completed, &skipped}, 5'000)["phases"][0]["outcome"], "completed");
}

TEST(MasterReport, NoWorkerReportsGiveEmptyPhasesNotAMadeUpShutdown) {
    const auto folded = fold_worker_reports({}, 5'000);
    EXPECT_TRUE(folded["phases"].empty());
    EXPECT_TRUE(folded["counts"].empty());
}

TEST(MasterReport, ADurabilityErrorOrEscalationOfAnyWorkerIsTheServices) {
    auto calm = worker_report(5'000, 10.0, "completed", 0);
    auto failed = worker_report(5'000, 10.0, "completed", 0);
    failed["durability_error"] = "fsync failed: EIO";
    failed["escalated"] = true;
    const auto folded = fold_worker_reports({&calm, &failed}, 5'000);
    EXPECT_EQ(folded["durability_error"], "fsync failed: EIO");
    EXPECT_EQ(folded["escalated"], true);
}

} // namespace
} // namespace lastcall::server

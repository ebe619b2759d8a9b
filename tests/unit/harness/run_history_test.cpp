// A run's history on disk, sorted by intended start with bounded memory: the order is the stable
// sort's (ties in the source's order), across merge rounds; and checks over it give the verdicts
// the same records held in memory give, while holding only the first few offending requests.
#include "checks.hpp"
#include "run_history.hpp"
#include "test_dir.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <csignal>
#include <random>

namespace lastcall::harness {
namespace {

RequestRecord record(std::uint64_t n, std::int64_t intended, Outcome outcome) {
    RequestRecord r;
    r.id = (n << 8) | (n % 2);  // two "threads"
    r.connection_id = static_cast<std::uint32_t>(n % 7 + 1);
    r.intended_us = intended;
    r.sent_us = intended + 10;
    r.first_byte_us = intended + 300;
    r.done_us = intended + 400;
    r.status = outcome == Outcome::dropped ? 0 : outcome == Outcome::rejected ? 503 : 200;
    r.outcome = outcome;
    r.failure = outcome == Outcome::dropped ? Failure::reset : Failure::none;
    return r;
}

RecordSource source_of(const std::vector<RequestRecord>& records) {
    return [&records](const RecordVisitor& visit) {
        for (const auto& r : records) visit(r);
        return true;
    };
}

std::vector<RequestRecord> read_all(const RunHistory& h) {
    std::vector<RequestRecord> out;
    EXPECT_TRUE(h.for_each([&](const RequestRecord& r) { out.push_back(r); })) << h.error();
    return out;
}

// Few distinct intended times, so ties are everywhere: they must keep the source's order, within a
// chunk (the stable sort) and across chunks and merge rounds (the earlier run first).
TEST(RunHistory, SortsByIntendedStartKeepingTiesInSourceOrderAcrossMergeRounds) {
    std::mt19937 random(7);
    std::vector<RequestRecord> source;
    for (std::uint64_t n = 1; n <= 5000; ++n) source.push_back(record(n, static_cast<std::int64_t>(random() % 50) * 1000, Outcome::ok));
    source[17].reply_value = R"({"id":"job-17"})";
    auto expected = source;
    std::stable_sort(expected.begin(), expected.end(), [](const auto& a, const auto& b) { return a.intended_us < b.intended_us; });
    // 10 records a chunk: 500 runs, more than one merge round of 64.
    for (const std::size_t chunk : {std::size_t{10}, std::size_t{4999}, std::size_t{5000}, RunHistory::default_chunk_records}) {
        const auto h = RunHistory::sort(testing::fresh_test_dir(std::to_string(chunk)), source_of(source), [](RequestRecord&) {}, chunk);
        ASSERT_EQ(h->size(), source.size());
        const auto got = read_all(*h);
        ASSERT_EQ(got.size(), expected.size());
        for (std::size_t i = 0; i < got.size(); ++i) {
            ASSERT_EQ(got[i].id, expected[i].id) << "chunk " << chunk << ", position " << i;
            ASSERT_EQ(got[i].reply_value, expected[i].reply_value);
        }
    }
}

TEST(RunHistory, AppliesTheAdjustmentBeforeSortingAndReadsAnEmptySource) {
    std::vector<RequestRecord> source{record(1, 2000, Outcome::dropped), record(2, 1000, Outcome::ok)};
    const auto h = RunHistory::sort(testing::fresh_test_dir(), source_of(source), [](RequestRecord& r) { r.outcome = Outcome::unknown; }, 1);
    const auto got = read_all(*h);
    ASSERT_EQ(got.size(), 2u);
    EXPECT_EQ(got[0].id, source[1].id);
    EXPECT_EQ(got[0].outcome, Outcome::unknown);
    EXPECT_EQ(got[1].outcome, Outcome::unknown);

    const std::vector<RequestRecord> none;
    const auto empty = RunHistory::sort(testing::fresh_test_dir("empty"), source_of(none), [](RequestRecord&) {});
    EXPECT_EQ(empty->size(), 0u);
    EXPECT_TRUE(read_all(*empty).empty());
}

TEST(RunHistory, NothingStaysInTheDirectory) {
    const auto dir = testing::fresh_test_dir();
    std::vector<RequestRecord> source;
    for (std::uint64_t n = 1; n <= 100; ++n) source.push_back(record(n, static_cast<std::int64_t>(1000 - n), Outcome::ok));
    const auto h = RunHistory::sort(dir, source_of(source), [](RequestRecord&) {}, 10);
    EXPECT_EQ(read_all(*h).size(), 100u);
    EXPECT_TRUE(std::filesystem::is_empty(dir));
}

class RecordedChecks : public ::testing::Test {
protected:
    RecordedChecks() {
        scenario.name = "t";
        Workload w;
        w.name = "w";
        scenario.workloads = {w};
        scenario.target.ready.http_path = "/ready";
        scenario.expect.rejections_clean = true;
        scenario.expect.close_announced = true;
        run.workload_names = {"w"};
        run.signals = {SignalSent{1'000'000, SIGTERM, "target", 1, true, "", false}};
        run.exit = TargetExit{true, 0, 0};
        run.exit_us = 3'000'000;
        run.port_released = true;
    }
    // The same records recorded on disk (in a shuffled source order, sorted back) instead of in memory.
    RunResult recorded(std::vector<RequestRecord> records) const {
        auto r = run;
        std::shuffle(records.begin(), records.end(), std::mt19937(3));
        r.recorded = RunHistory::sort(testing::fresh_test_dir(), source_of(records), [](RequestRecord&) {}, 64);
        r.history.clear();
        return r;
    }

    Scenario scenario;
    RunResult run;
};

// 1000 dropped requests, the earliest not first: the verdict, measured value, moment and evidence
// are those of the in-memory history, and the evidence names three and says how many more.
TEST_F(RecordedChecks, ManyFailingRequestsKeepTheEvidenceCapAndTheVerdict) {
    std::vector<RequestRecord> records;
    for (std::uint64_t n = 1; n <= 1500; ++n) {
        const auto t = static_cast<std::int64_t>(n) * 1000;
        records.push_back(record(n, t, n > 500 ? Outcome::dropped : Outcome::ok));
        if (n == 1500) records.back().done_us = 100;  // ended earliest of all: the check's moment
    }
    for (const auto& r : records) ++run.outcomes[static_cast<std::size_t>(r.outcome)];
    run.history = records;
    const auto in_memory = evaluate_checks(scenario, run);
    const auto on_disk = evaluate_checks(scenario, recorded(records));
    ASSERT_EQ(in_memory.size(), on_disk.size());
    for (std::size_t i = 0; i < in_memory.size(); ++i) {
        const auto& a = in_memory[i];
        const auto& b = on_disk[i];
        EXPECT_EQ(a.name, b.name);
        EXPECT_EQ(a.status, b.status) << a.name;
        EXPECT_EQ(a.measured, b.measured) << a.name;
        EXPECT_EQ(a.message, b.message) << a.name;
        EXPECT_EQ(a.evidence, b.evidence) << a.name;
        EXPECT_EQ(a.at_us, b.at_us) << a.name;
    }
    const auto dropped = std::find_if(on_disk.begin(), on_disk.end(), [](const CheckResult& c) { return c.name == "dropped"; });
    ASSERT_NE(dropped, on_disk.end());
    EXPECT_EQ(dropped->status, CheckStatus::fail);
    EXPECT_EQ(dropped->measured, "1000");
    ASSERT_EQ(dropped->evidence.size(), 4u);
    EXPECT_EQ(dropped->evidence[0].rfind("#" + std::to_string((501ULL << 8) | 1) + " ", 0), 0u) << dropped->evidence[0];
    EXPECT_EQ(dropped->evidence[3], "... and 997 more");
    EXPECT_EQ(dropped->at_us, 100);
}

// Rejections and closes judged around the signal: the same verdicts from disk as from memory.
TEST_F(RecordedChecks, RequestsAroundTheSignalJudgeAlike) {
    std::vector<RequestRecord> records;
    for (std::uint64_t n = 1; n <= 400; ++n) {
        auto r = record(n, static_cast<std::int64_t>(n) * 5000, n % 9 == 0 ? Outcome::rejected : Outcome::ok);
        r.retry_after_s = n % 18 == 0 ? -1 : 1;  // some bare 503s
        r.closed_after = n % 11 == 0;            // some closes not announced
        records.push_back(r);
    }
    // A connection refused after the signal: draining had begun by then (close_announced judges from it).
    auto refused = record(401, 1'500'000, Outcome::rejected);
    refused.status = 0;
    refused.failure = Failure::connect_refused;
    records.push_back(refused);
    for (const auto& r : records) ++run.outcomes[static_cast<std::size_t>(r.outcome)];
    run.history = records;
    const auto in_memory = evaluate_checks(scenario, run);
    const auto on_disk = evaluate_checks(scenario, recorded(records));
    ASSERT_EQ(in_memory.size(), on_disk.size());
    int failed = 0;
    for (std::size_t i = 0; i < in_memory.size(); ++i) {
        EXPECT_EQ(in_memory[i].status, on_disk[i].status) << in_memory[i].name;
        EXPECT_EQ(in_memory[i].measured, on_disk[i].measured) << in_memory[i].name;
        EXPECT_EQ(in_memory[i].evidence, on_disk[i].evidence) << in_memory[i].name;
        if (in_memory[i].status == CheckStatus::fail) failed += in_memory[i].name == "rejections_clean" || in_memory[i].name == "close_announced";
    }
    EXPECT_EQ(failed, 2);  // rejections_clean and close_announced: a comparison of passes alone proves little
}

} // namespace
} // namespace lastcall::harness

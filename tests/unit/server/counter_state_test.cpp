// The counter's encodings and its replay: a checkpoint plus the journal rebuilds exactly the
// acknowledged state, and anything that does not add up is refused, naming the journal.
#include "counter_state.hpp"

#include <gtest/gtest.h>

namespace lastcall::server {
namespace {

using coordinator::Journal;

std::vector<Journal::Record> records(std::initializer_list<std::tuple<std::uint64_t, std::int64_t, std::int64_t>> list) {
    std::vector<Journal::Record> out;
    for (const auto& [seq, by, value] : list) out.push_back({seq, encode_increment({by, value})});
    return out;
}

std::string refusal(const CounterState& from, const std::vector<Journal::Record>& journal) {
    try {
        replay(from, journal, "/state/counter.journal");
    } catch (const std::runtime_error& e) {
        return e.what();
    }
    return "accepted";
}

TEST(CounterState, CheckpointPayloadRoundTripsAndTheOldFormatIsRead) {
    EXPECT_EQ(decode_checkpoint(encode_checkpoint({-42, 7})), (CounterState{-42, 7}));
    EXPECT_EQ(decode_checkpoint("counter 5\n"), (CounterState{5, 0}));
    for (const char* bad : {"", "counter x\n", "counter 1\njournal_seq -1\n", "counter 1\njournal_seq 2\nmore\n", "counter 1"}) {
        EXPECT_THROW(decode_checkpoint(bad), std::runtime_error) << bad;
    }
}

TEST(CounterState, IncrementRecordsRoundTrip) {
    const auto bytes = encode_increment({-3, 1'000'000'000'000});
    EXPECT_EQ(bytes.size(), 16u);
    const auto back = decode_increment(bytes);
    EXPECT_EQ(back.by, -3);
    EXPECT_EQ(back.value, 1'000'000'000'000);
    EXPECT_THROW(decode_increment("short"), std::runtime_error);
}

TEST(CounterState, ReplayAppliesWhatTheCheckpointDoesNotCover) {
    const auto journal = records({{3, 1, 10}, {4, 2, 12}, {5, 5, 17}});
    const auto from_checkpoint = replay({10, 3}, journal, "j");
    EXPECT_EQ(from_checkpoint.state, (CounterState{17, 5}));
    EXPECT_EQ(from_checkpoint.applied, 2u);
    // The previous generation (a fallback) replays further back to the same state.
    EXPECT_EQ(replay({9, 2}, journal, "j").state, (CounterState{17, 5}));
    // A checkpoint as new as the journal: nothing to apply.
    EXPECT_EQ(replay({17, 5}, journal, "j").state, (CounterState{17, 5}));
    EXPECT_EQ(replay({0, 0}, {}, "j").state, (CounterState{0, 0}));
}

TEST(CounterState, ReplayRefusesGapsAndStepsThatDoNotAddUp) {
    EXPECT_NE(refusal({10, 2}, records({{4, 1, 11}})).find("records 3..3 are missing"), std::string::npos);
    EXPECT_NE(refusal({0, 0}, records({{2, 1, 1}})).find("records 1..1 are missing"), std::string::npos);
    EXPECT_NE(refusal({10, 2}, records({{3, 1, 12}})).find("10 + 1 is not 12"), std::string::npos);
    EXPECT_NE(refusal({10, 3}, records({{3, 1, 9}})).find("the checkpoint says 10"), std::string::npos);
    EXPECT_NE(refusal({10, 2}, {{3, "bad"}}).find("not 16"), std::string::npos);
    EXPECT_NE(refusal({10, 2}, records({{4, 1, 11}})).find("/state/counter.journal"), std::string::npos);
}

} // namespace
} // namespace lastcall::server

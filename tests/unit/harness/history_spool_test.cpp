// The history's on-disk form: every field survives the round trip, a typical record is small, a
// truncated or foreign byte string is never read as a record, and the spool keeps within its cap
// and says what it dropped.
#include "history_codec.hpp"
#include "history_spool.hpp"
#include "test_dir.hpp"

#include <gtest/gtest.h>

#include <stdexcept>
#include <vector>

namespace lastcall::harness {
namespace {

RequestRecord every_field_set() {
    RequestRecord r;
    r.id = (123456789ULL << 8) | 3;
    r.retry_of = (99ULL << 8) | 3;
    r.intended_us = 5'000'000'000;
    r.sent_us = 5'000'000'100;
    r.first_byte_us = 4'999'999'000;  // before the intended start: deltas are signed
    r.done_us = 5'000'300'000;
    r.bytes = 1ULL << 40;
    r.body_bytes = 12345;
    r.closed_after_us = 5'000'400'000;
    r.connection_id = 4'000'000'000u;
    r.reuse_index = 77;
    r.events = 12;
    r.proxy_record = 9;
    r.workload = 65535;
    r.status = 503;
    r.retry_after_s = -2;
    r.outcome = Outcome::idle_close_race;
    r.failure = Failure::body_sha256_mismatch;
    r.stream_end = StreamEnd::shutdown;
    r.connection_close = true;
    r.retried = true;
    r.closed_after = true;
    r.unsolicited_after = true;
    r.connect_us = 5'000'000'100;
    r.syn_retried = true;
    r.reply_value = R"({"id":"job-1"})";
    return r;
}

RequestRecord typical(std::uint64_t n) {
    RequestRecord r;
    r.id = (n << 8) | 1;
    r.intended_us = static_cast<std::int64_t>(n) * 10;
    r.sent_us = r.intended_us + 2;
    r.first_byte_us = r.intended_us + 40;
    r.done_us = r.intended_us + 45;
    r.bytes = 120;
    r.body_bytes = 2;
    r.connection_id = 17;
    r.reuse_index = static_cast<std::uint32_t>(n);
    r.status = 200;
    r.outcome = Outcome::ok;
    return r;
}

std::string json(const RequestRecord& r) { return to_json_line(r, "w"); }

TEST(HistoryCodec, EveryFieldSurvivesTheRoundTrip) {
    auto before_t0 = typical(1);  // times before the load's start (a spawn's) are negative, not "never"
    before_t0.intended_us = -500;
    before_t0.sent_us = -2;
    before_t0.done_us = 0;
    for (const auto& original : {every_field_set(), RequestRecord{}, typical(1), before_t0}) {
        std::string bytes;
        encode_record(original, bytes);
        RequestRecord back;
        back.reply_value = "left over from an earlier record";
        ASSERT_EQ(decode_record(bytes, back), bytes.size());
        EXPECT_EQ(json(back), json(original));
    }
}

TEST(HistoryCodec, ATypicalRequestTakesAFewDozenBytes) {
    std::string bytes;
    encode_record(typical(1'000'000), bytes);
    EXPECT_LE(bytes.size(), 32u) << "the record grew: state the new figure in harness/README.md";
}

TEST(HistoryCodec, ATruncatedOrForeignRecordIsNoRecord) {
    std::string bytes;
    encode_record(every_field_set(), bytes);
    RequestRecord back;
    for (std::size_t n = 0; n < bytes.size(); ++n) EXPECT_EQ(decode_record(std::string_view(bytes).substr(0, n), back), 0u) << n;
    auto bad_outcome = bytes;
    bad_outcome[bad_outcome.find(static_cast<char>(Outcome::idle_close_race), 5)] = 100;
    EXPECT_EQ(decode_record(bad_outcome, back), 0u);
    EXPECT_EQ(decode_record(std::string(20, '\xff'), back), 0u);  // a varint longer than 64 bits
}

TEST(HistorySpool, StreamsBackEveryRecordInOrderAcrossBufferAndReadBoundaries) {
    const auto dir = testing::fresh_test_dir();
    HistorySpool spool(dir, default_history_bytes);
    constexpr std::uint64_t count = 200'000;  // several 256 KiB buffers, several 1 MiB reads
    for (std::uint64_t n = 1; n <= count; ++n) {
        auto r = typical(n);
        if (n % 1000 == 0) r.reply_value = std::string(reply_value_limit, '7');  // the widest record, now and then
        spool.append(r);
    }
    spool.flush();
    EXPECT_EQ(spool.records(), count);
    EXPECT_EQ(spool.dropped(), 0u);
    std::uint64_t seen = 0;
    bool in_order = true;
    ASSERT_TRUE(spool.for_each([&](const RequestRecord& r) {
        ++seen;
        in_order = in_order && r.id == ((seen << 8) | 1) && r.reply_value.size() == (seen % 1000 == 0 ? reply_value_limit : 0);
    })) << spool.error();
    EXPECT_EQ(seen, count);
    EXPECT_TRUE(in_order);
    EXPECT_TRUE(std::filesystem::is_empty(dir)) << "the file is unlinked at once: nothing is left behind";
}

TEST(HistorySpool, PastItsCapRecordsAreDroppedAndCounted) {
    HistorySpool spool(testing::fresh_test_dir(), 1000);
    for (std::uint64_t n = 1; n <= 1000; ++n) spool.append(typical(n));
    spool.flush();
    EXPECT_LE(spool.bytes(), 1000u);
    EXPECT_GT(spool.records(), 0u);
    EXPECT_EQ(spool.records() + spool.dropped(), 1000u);
    std::uint64_t seen = 0;
    ASSERT_TRUE(spool.for_each([&](const RequestRecord&) { ++seen; }));
    EXPECT_EQ(seen, spool.records());
}

TEST(HistorySpool, ADirectoryThatCannotHoldItIsAClearError) {
    try {
        HistorySpool spool("/nonexistent/lastcall", default_history_bytes);
        FAIL() << "no error";
    } catch (const std::runtime_error& e) {
        EXPECT_NE(std::string(e.what()).find("/nonexistent/lastcall"), std::string::npos) << e.what();
    }
}

} // namespace
} // namespace lastcall::harness

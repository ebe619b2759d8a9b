// Stream positions: parsed from Last-Event-ID without trusting it, encoded into the checkpoint
// after the counter's lines, refused (never read as an empty table) when they do not check out,
// and carried across a restart of the counter store exactly as the server wires it.
#include "counter_store.hpp"
#include "stream_positions.hpp"

#include "test_dir.hpp"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <fstream>

namespace lastcall::server {
namespace {

TEST(StreamPositions, EventIdsAreParsedWithoutTrustingThem) {
    const auto id = parse_event_id("0123abcd-41");
    ASSERT_TRUE(id);
    EXPECT_EQ(id->stream, "0123abcd");
    EXPECT_EQ(id->seq, 41u);
    EXPECT_EQ(format_event_id("0123abcd", 41), "0123abcd-41");
    for (const char* bad : {"", "41", "-41", "abc-", "abc-4x", "abc-+4", "a b-4", "abc-99999999999999999999"}) {
        EXPECT_FALSE(parse_event_id(bad)) << bad;
    }
    EXPECT_FALSE(parse_event_id(std::string(65, 'a') + "-1")) << "a stream name is at most 64 characters";
}

TEST(StreamPositions, EncodeDecodeRoundTrip) {
    StreamPositions positions;
    positions.keep("aaaa", {3, 10, 50});
    positions.keep("bbbb", {0, 5, 0});
    positions.keep("cccc", {7, 7, 1});
    positions.finished("cccc");
    EXPECT_EQ(positions.size(), 2u);
    const auto text = positions.encode();
    EXPECT_EQ(text, "stream aaaa 3 10 50\nstream bbbb 0 5 0\n");
    const auto decoded = StreamPositions::decode(text);
    ASSERT_EQ(decoded.size(), 2u);
    EXPECT_EQ(decoded.at("aaaa"), (StreamPosition{3, 10, 50}));
    StreamPositions restored;
    restored.restore(decoded);
    EXPECT_EQ(restored.find("bbbb"), (StreamPosition{0, 5, 0}));
    EXPECT_FALSE(restored.find("cccc"));
    EXPECT_TRUE(StreamPositions::decode("").empty());
}

TEST(StreamPositions, AnythingThatDoesNotCheckOutIsRefused) {
    for (const char* bad : {"stream a 1 2 3", "stream a 1 2\n", "stream a 1 2 3 4\n", "strem a 1 2 3\n", "stream a x 2 3\n",
                            "stream a 3 2 3\n", "stream a 1 2 3\nstream a 1 2 3\n", "stream a -1 2 3\n", "\n", "counter 5\n"}) {
        EXPECT_THROW(StreamPositions::decode(bad), std::runtime_error) << bad;
    }
}

TEST(StreamPositions, TheOldestIsForgottenBeyondTheLimit) {
    StreamPositions positions;
    for (std::size_t i = 0; i <= StreamPositions::max_entries; ++i) positions.keep(fmt::format("s{}", i), {0, 1, 0});
    EXPECT_EQ(positions.size(), StreamPositions::max_entries);
    EXPECT_FALSE(positions.find("s0"));
    EXPECT_TRUE(positions.find(fmt::format("s{}", StreamPositions::max_entries)));
}

// As server.cpp wires it: the positions ride in the counter's checkpoint.
CounterStore::Options wired(const std::filesystem::path& dir, StreamPositions& streams) {
    CounterStore::Options o;
    o.state_dir = dir;
    o.extra_state = [&streams] { return streams.encode(); };
    o.validate_extra = [](const std::string& extra) { StreamPositions::decode(extra); };
    return o;
}

TEST(StreamPositions, SurviveARestartInTheCheckpoint) {
    const auto dir = testing::fresh_test_dir();
    {
        StreamPositions streams;
        streams.keep("abcd", {4, 20, 100});
        CounterStore store(wired(dir, streams));
        store.recover();
        store.start({});
        store.checkpointer().write(store.snapshot());
        store.checkpointed();
    }
    StreamPositions streams;
    CounterStore restarted(wired(dir, streams));
    const auto recovered = restarted.recover();
    streams.restore(StreamPositions::decode(recovered.extra));
    EXPECT_EQ(streams.find("abcd"), (StreamPosition{4, 20, 100}));
    EXPECT_EQ(recovered.state.value, 0);
}

TEST(StreamPositions, ACorruptTableRefusesTheStart) {
    const auto dir = testing::fresh_test_dir();
    {
        coordinator::Checkpointer checkpointer(dir / "checkpoint.dat");
        checkpointer.write("counter 3\njournal_seq 0\nstream abcd 9 2 100\n");  // checksum right, content not
    }
    StreamPositions streams;
    CounterStore store(wired(dir, streams));
    try {
        store.recover();
        FAIL() << "a refused table must refuse the start";
    } catch (const std::exception& e) {
        EXPECT_NE(std::string(e.what()).find("more events sent than the stream has"), std::string::npos) << e.what();
    }
}

} // namespace
} // namespace lastcall::server

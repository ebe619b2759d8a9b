// Stream resumption on real processes: a stream ended by SIGTERM is asked for again, with its last
// event id, from the next generation of lastcall-server on the same state directory. The correct
// server sends the rest of that stream (the next id first, up to its last event, then the complete
// end); forget-stream-positions sends a new stream from event 0.
#include "raw_http.hpp"
#include "reference_server.hpp"

#include <boost/crc.hpp>
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <csignal>
#include <fstream>
#include <sstream>
#include <thread>

namespace lastcall::testing {
namespace {

using namespace std::chrono_literals;

constexpr const char* stream_target = "/stream?chunks=60&interval_ms=20";

std::vector<std::string> event_ids(const std::string& body) {
    std::vector<std::string> ids;
    for (std::size_t at = body.find("id: "); at != std::string::npos; at = body.find("id: ", at + 1)) {
        if (at != 0 && body[at - 1] != '\n') continue;
        ids.push_back(body.substr(at + 4, body.find('\n', at) - at - 4));
    }
    return ids;
}

std::string stream_of(const std::string& id) { return id.substr(0, id.rfind('-')); }
long seq_of(const std::string& id) { return std::stol(id.substr(id.rfind('-') + 1)); }

void wait_stream_in_flight(unsigned short port) {
    for (int attempt = 0; attempt < 200; ++attempt) {
        const auto status = http_get(port, "/status");
        if (status.status == 200 && nlohmann::json::parse(status.body).at("streams").get<long>() >= 1) return;
        std::this_thread::sleep_for(10ms);
    }
    FAIL() << "the stream never reached the server";
}

struct Resumption {
    RawResponse before, after;
    std::vector<std::string> ids_before, ids_after;
    ExitStatus exit;
};

Resumption interrupt_and_resume(const std::vector<std::string>& faults) {
    const auto state = fresh_test_dir() / "state";
    std::vector<std::string> args{"--stream-grace", "100ms"};
    for (const auto& fault : faults) args.insert(args.end(), {"--fault", fault});
    Resumption seen;
    {
        ReferenceServer server(state, args);
        auto stream = RawConnection::open(server.port());
        stream->send_get(stream_target);
        wait_stream_in_flight(server.port());
        server.process().signal(SIGTERM);
        seen.before = stream->read_response(5s);
        if (const auto status = server.process().wait(10s)) seen.exit = *status;
    }
    seen.ids_before = event_ids(seen.before.body);
    if (seen.ids_before.empty()) return seen;
    ReferenceServer restarted(state, args);
    auto resume = RawConnection::open(restarted.port());
    resume->send(fmt::format("GET {} HTTP/1.1\r\nHost: 127.0.0.1\r\nLast-Event-ID: {}\r\n\r\n", stream_target, seen.ids_before.back()));
    seen.after = resume->read_response(10s);
    seen.ids_after = event_ids(seen.after.body);
    restarted.process().signal(SIGTERM);
    restarted.process().wait(5s);
    return seen;
}

TEST(StreamResume, TheRestartedServerSendsTheRestWithNoGapAndNoDuplicate) {
    const auto seen = interrupt_and_resume({});
    ASSERT_TRUE(seen.exit.clean()) << describe(seen.exit);
    ASSERT_TRUE(seen.before.complete) << seen.before.error;
    EXPECT_NE(seen.before.body.find(R"("reason":"shutdown")"), std::string::npos) << seen.before.body;
    ASSERT_FALSE(seen.ids_before.empty());
    ASSERT_LT(seen.ids_before.size(), 60u) << "the stream ended before SIGTERM: nothing to resume";
    ASSERT_EQ(seen.after.status, 200);
    EXPECT_TRUE(seen.after.complete) << seen.after.error;
    EXPECT_NE(seen.after.body.find(R"("reason":"complete")"), std::string::npos) << seen.after.body;

    // Both halves together: events 0..59 of one stream, each once, in order.
    auto all = seen.ids_before;
    all.insert(all.end(), seen.ids_after.begin(), seen.ids_after.end());
    ASSERT_EQ(all.size(), 60u) << "before: " << seen.ids_before.size() << ", after: " << seen.ids_after.size();
    const auto stream = stream_of(all.front());
    for (std::size_t i = 0; i < all.size(); ++i) {
        EXPECT_EQ(all[i], fmt::format("{}-{}", stream, i)) << "event " << i;
    }
    // Event n of a stream has fixed content.
    EXPECT_NE(seen.after.body.find(fmt::format("id: {}-59\nevent: tick\ndata: {{\"seq\":59}}\n", stream)), std::string::npos);
}

TEST(StreamResume, ForgetStreamPositionsSendsANewStreamFromTheStart) {
    const auto seen = interrupt_and_resume({"forget-stream-positions"});
    ASSERT_TRUE(seen.exit.clean()) << describe(seen.exit);
    ASSERT_FALSE(seen.ids_before.empty());
    ASSERT_EQ(seen.after.status, 200);
    ASSERT_FALSE(seen.ids_after.empty());
    EXPECT_NE(stream_of(seen.ids_after.front()), stream_of(seen.ids_before.back()));
    EXPECT_EQ(seq_of(seen.ids_after.front()), 0);
    EXPECT_EQ(seen.ids_after.size(), 60u) << "the whole stream generated again";
}

TEST(StreamResume, AnIdTheServerNeverSentStartsANewStream) {
    const auto state = fresh_test_dir() / "state";
    ReferenceServer server(state, {});
    auto c = RawConnection::open(server.port());
    c->send("GET /stream?chunks=3&interval_ms=0 HTTP/1.1\r\nHost: 127.0.0.1\r\nLast-Event-ID: 0123456789abcdef-5\r\n\r\n");
    const auto response = c->read_response(5s);
    const auto ids = event_ids(response.body);
    ASSERT_EQ(ids.size(), 3u) << response.body;
    EXPECT_NE(stream_of(ids[0]), "0123456789abcdef");
    EXPECT_EQ(seq_of(ids[0]), 0);
    server.process().signal(SIGTERM);
    server.process().wait(5s);
}

// Version 1 of the checkpoint format (still read): its crc32 covers the payload only, so a test
// can write a payload whose checksum is right and whose content is not.
std::string version1_checkpoint(std::uint64_t generation, const std::string& payload) {
    boost::crc_32_type crc;
    crc.process_bytes(payload.data(), payload.size());
    return fmt::format("LASTCALL-CHECKPOINT 1\ngeneration {}\nbytes {}\ncrc32 {:08x}\n\n{}", generation, payload.size(), crc.checksum(), payload);
}

TEST(StreamResume, ABadStreamPositionRefusesTheStartAndTheFallbackApplies) {
    const auto dir = fresh_test_dir();
    const auto state = dir / "state";
    std::filesystem::create_directories(state);
    std::ofstream(state / "checkpoint.dat.prev", std::ios::binary) << version1_checkpoint(1, "counter 41\njournal_seq 0\nstream abcd 2 9 100\n");
    std::ofstream(state / "checkpoint.dat", std::ios::binary) << version1_checkpoint(2, "counter 42\njournal_seq 0\nstream abcd 9 2 100\n");
    {
        ChildProcess refused({server_binary(), "--port", "0", "--state-dir", state.string()}, dir / "stderr");
        const auto status = refused.wait(10s);
        ASSERT_TRUE(status);
        EXPECT_EQ(status->code, 3) << describe(*status);
    }
    std::ostringstream text;
    text << std::ifstream(dir / "stderr").rdbuf();
    EXPECT_NE(text.str().find("more events sent than the stream has"), std::string::npos) << text.str();
    EXPECT_NE(text.str().find((state / "checkpoint.dat").string()), std::string::npos) << text.str();

    // The previous generation's table is read back, never an empty one: abcd resumes at event 2.
    ReferenceServer server(state, {"--checkpoint-fallback"});
    auto c = RawConnection::open(server.port());
    c->send("GET /stream HTTP/1.1\r\nHost: 127.0.0.1\r\nLast-Event-ID: abcd-1\r\n\r\n");
    const auto response = c->read_response(10s);
    EXPECT_EQ(event_ids(response.body), (std::vector<std::string>{"abcd-2", "abcd-3", "abcd-4", "abcd-5", "abcd-6", "abcd-7", "abcd-8"}));
    server.process().signal(SIGTERM);
    server.process().wait(5s);
}

} // namespace
} // namespace lastcall::testing

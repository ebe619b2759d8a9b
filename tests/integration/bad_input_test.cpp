// Bad input gets a clear answer and loses nothing.
#include "raw_http.hpp"
#include "reference_server.hpp"

#include <boost/crc.hpp>
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <csignal>

#include <fstream>
#include <iterator>
#include <thread>

namespace lastcall::testing {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

std::string read_file(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), {}};
}

ExitStatus run_to_exit(const std::vector<std::string>& args, const fs::path& stderr_file) {
    std::vector<std::string> argv{server_binary()};
    argv.insert(argv.end(), args.begin(), args.end());
    ChildProcess process(argv, stderr_file);
    const auto status = process.wait(10s);
    return status.value_or(ExitStatus{false, 0, SIGKILL});
}

TEST(ServerBadInput, MalformedRequestGets400AndTheServerKeepsServing) {
    ReferenceServer server(fresh_test_dir() / "state", {});
    auto connection = RawConnection::open(server.port());
    connection->send("NOT A REQUEST\r\n\r\n");
    EXPECT_EQ(connection->read_response(2s).status, 400);
    auto huge = RawConnection::open(server.port());
    huge->send("GET /fast HTTP/1.1\r\nX-Big: " + std::string(20000, 'a') + "\r\n\r\n");
    EXPECT_EQ(huge->read_response(2s).status, 431);
    EXPECT_EQ(http_get(server.port(), "/nope").status, 404);
    EXPECT_EQ(http_get(server.port(), "/slow?ms=abc").status, 400);
    EXPECT_EQ(http_get(server.port(), "/fast").status, 200);
}

TEST(ServerBadInput, SlowlorisIsCutByTheHeaderTimeout) {
    ReferenceServer server(fresh_test_dir() / "state", {"--header-timeout", "300ms"});
    auto slowloris = RawConnection::open(server.port());
    slowloris->send("GET /fast HTTP/1.1\r\nHost: x\r\n");
    EXPECT_TRUE(slowloris->closed_without_bytes(3s));
    EXPECT_EQ(http_get(server.port(), "/fast").status, 200);
}

// The idle wait holds no read buffer and keeps its own timer: a keep-alive connection with nothing
// to say is closed at --idle-timeout, one that keeps asking is not.
TEST(ServerBadInput, IdleKeepAliveConnectionIsClosedAtTheIdleTimeoutABusyOneIsNot) {
    ReferenceServer server(fresh_test_dir() / "state", {"--idle-timeout", "300ms"});
    auto idle = RawConnection::open(server.port());
    auto busy = RawConnection::open(server.port());
    ASSERT_TRUE(idle && busy);
    idle->send_get("/fast");
    ASSERT_EQ(idle->read_response(3s).status, 200);
    const auto started = std::chrono::steady_clock::now();
    for (int i = 0; i < 8; ++i) {  // 800 ms of requests 100 ms apart, well past the idle timeout
        ASSERT_TRUE(busy->send_get("/fast"));
        ASSERT_EQ(busy->read_response(3s).status, 200) << "request " << i << " on the busy connection";
        std::this_thread::sleep_for(100ms);
    }
    EXPECT_GE(std::chrono::steady_clock::now() - started, 300ms);
    EXPECT_TRUE(idle->closed_without_bytes(3s)) << "the idle connection outlived --idle-timeout";
}

TEST(ServerBadInput, UnknownFlagPointsToHelpAndExits2) {
    const auto dir = fresh_test_dir();
    const auto status = run_to_exit({"--no-such-flag"}, dir / "stderr");
    EXPECT_EQ(status.code, 2);
    const auto text = read_file(dir / "stderr");
    EXPECT_NE(text.find("unknown option '--no-such-flag'"), std::string::npos) << text;
    EXPECT_NE(text.find("Run 'lastcall-server --help' for the options"), std::string::npos) << text;
}

TEST(ServerBadInput, PortInUseIsOneClearLine) {
    const auto dir = fresh_test_dir();
    ReferenceServer first(dir / "first", {});
    const auto status = run_to_exit({"--port", std::to_string(first.port()), "--state-dir", (dir / "second").string()},
                                    dir / "stderr");
    EXPECT_EQ(status.code, 3);
    EXPECT_EQ(read_file(dir / "stderr"),
              "lastcall-server: cannot listen on 127.0.0.1:" + std::to_string(first.port()) + ": Address already in use\n");
}

TEST(ServerBadInput, UnusableStateDirIsRefusedAtStart) {
    const auto dir = fresh_test_dir();
    std::ofstream(dir / "a-file") << "x";
    const auto status = run_to_exit({"--port", "0", "--state-dir", (dir / "a-file").string()}, dir / "stderr");
    EXPECT_EQ(status.code, 3);
    EXPECT_NE(read_file(dir / "stderr").find("state dir"), std::string::npos);
}

TEST(ServerBadInput, CorruptCheckpointIsRefusedAndKept) {
    const auto dir = fresh_test_dir();
    fs::create_directories(dir / "state");
    const std::string garbage = "LASTCALL-CHECKPOINT 1\ngeneration 3\nbytes 11\ncrc32 deadbeef\n\ncounter 99\n";
    std::ofstream(dir / "state" / "checkpoint.dat") << garbage;
    const auto status = run_to_exit({"--port", "0", "--state-dir", (dir / "state").string()}, dir / "stderr");
    EXPECT_EQ(status.code, 3);
    const auto text = read_file(dir / "stderr");
    EXPECT_NE(text.find("is corrupt: crc32"), std::string::npos) << text;
    EXPECT_EQ(read_file(dir / "state" / "checkpoint.dat"), garbage);
}

// --- The checkpoint: refuse what is wrong, naming the file; fall back without destroying anything.

fs::path state_with_two_generations(const fs::path& dir) {
    const auto state = dir / "state";
    for (int by : {41, 1}) {  // generation 1 holds 41, generation 2 holds 42
        ReferenceServer server(state, {});
        EXPECT_EQ(http_post(server.port(), "/counter/incr?by=" + std::to_string(by)).status, 200);
        server.process().signal(SIGTERM);
        EXPECT_TRUE(server.process().wait(5s));
    }
    return state;
}

long counter_of(unsigned short port) {
    const auto body = http_get(port, "/counter").body;
    const auto at = body.find(':');
    return at == std::string::npos ? -1 : std::stol(body.substr(at + 1));
}

// The fallback used to hard-link the corrupt file into .prev at the next checkpoint (destroying
// the only good generation) and to reuse its generation number.
TEST(ServerBadInput, FallbackKeepsTheGoodGenerationAndLosesNothing) {
    const auto dir = fresh_test_dir();
    const auto state = state_with_two_generations(dir);
    const auto good_previous = read_file(state / "checkpoint.dat.prev");
    auto corrupt = read_file(state / "checkpoint.dat");
    corrupt.back() = '7';
    std::ofstream(state / "checkpoint.dat", std::ios::binary | std::ios::trunc) << corrupt;
    {
        ReferenceServer server(state, {"--checkpoint-fallback"});
        // Generation 1 plus the journal records after it: the write of generation 2 is not lost.
        EXPECT_EQ(counter_of(server.port()), 42);
        server.process().signal(SIGTERM);
        const auto status = server.process().wait(5s);
        ASSERT_TRUE(status);
        EXPECT_TRUE(status->clean()) << describe(*status);
    }
    EXPECT_EQ(read_file(state / "checkpoint.dat.prev"), good_previous) << "the good generation was replaced";
    EXPECT_EQ(read_file(state / "checkpoint.dat.corrupt"), corrupt) << "the corrupt file must be kept aside";
    EXPECT_NE(read_file(state / "checkpoint.dat").find("generation 3\n"), std::string::npos)
        << "generation 2 is the corrupt file's number: " << read_file(state / "checkpoint.dat");
    ReferenceServer restarted(state, {});  // no fallback needed any more
    EXPECT_EQ(counter_of(restarted.port()), 42);
}

TEST(ServerBadInput, EditedGenerationIsRefused) {
    const auto dir = fresh_test_dir();
    const auto state = state_with_two_generations(dir);
    auto bytes = read_file(state / "checkpoint.dat");
    const auto at = bytes.find("generation 2");
    ASSERT_NE(at, std::string::npos) << bytes;
    bytes.replace(at, 12, "generation 9");
    std::ofstream(state / "checkpoint.dat", std::ios::binary | std::ios::trunc) << bytes;
    const auto status = run_to_exit({"--port", "0", "--state-dir", state.string()}, dir / "stderr");
    EXPECT_EQ(status.code, 3);
    const auto text = read_file(dir / "stderr");
    EXPECT_NE(text.find((state / "checkpoint.dat").string() + " is corrupt"), std::string::npos) << text;
}

// Version 1 of the format (which every version reads): a right checksum over "counter x".
std::string version1_checkpoint(std::uint64_t generation, const std::string& payload) {
    boost::crc_32_type crc;
    crc.process_bytes(payload.data(), payload.size());
    return "LASTCALL-CHECKPOINT 1\ngeneration " + std::to_string(generation) + "\nbytes " + std::to_string(payload.size()) +
           "\ncrc32 " + fmt::format("{:08x}", crc.checksum()) + "\n\n" + payload;
}

TEST(ServerBadInput, RefusedPayloadNamesTheFileAndTheFallbackApplies) {
    const auto dir = fresh_test_dir();
    const auto state = dir / "state";
    fs::create_directories(state);
    std::ofstream(state / "checkpoint.dat.prev", std::ios::binary) << version1_checkpoint(1, "counter 41\n");
    std::ofstream(state / "checkpoint.dat", std::ios::binary) << version1_checkpoint(2, "counter x\n");
    const auto status = run_to_exit({"--port", "0", "--state-dir", state.string()}, dir / "stderr");
    EXPECT_EQ(status.code, 3);
    const auto text = read_file(dir / "stderr");
    EXPECT_NE(text.find((state / "checkpoint.dat").string()), std::string::npos) << text;
    ReferenceServer server(state, {"--checkpoint-fallback"});
    EXPECT_EQ(counter_of(server.port()), 41);
}

// A directory where the checkpoint goes could never be replaced at shutdown. It used to be called
// "corrupt"; with the fallback the server then served, acknowledged, and exited 6 losing the writes.
TEST(ServerBadInput, DirectoryInPlaceOfTheCheckpointIsRefusedAtStartEvenWithTheFallback) {
    const auto dir = fresh_test_dir();
    const auto state = dir / "state";
    fs::create_directories(state / "checkpoint.dat");
    std::ofstream(state / "checkpoint.dat.prev", std::ios::binary) << version1_checkpoint(1, "counter 41\n");
    const auto status = run_to_exit({"--port", "0", "--state-dir", state.string(), "--checkpoint-fallback"}, dir / "stderr");
    EXPECT_EQ(status.code, 3) << describe(status);
    const auto text = read_file(dir / "stderr");
    EXPECT_NE(text.find("is a directory"), std::string::npos) << text;
}

} // namespace
} // namespace lastcall::testing

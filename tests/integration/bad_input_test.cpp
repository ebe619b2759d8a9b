// Bad input gets a clear answer and loses nothing.
#include "raw_http.hpp"
#include "reference_server.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <iterator>

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

TEST(ServerBadInput, UnknownFlagPrintsUsageAndExits2) {
    const auto dir = fresh_test_dir();
    const auto status = run_to_exit({"--no-such-flag"}, dir / "stderr");
    EXPECT_EQ(status.code, 2);
    const auto text = read_file(dir / "stderr");
    EXPECT_NE(text.find("unknown option '--no-such-flag'"), std::string::npos) << text;
    EXPECT_NE(text.find("usage: lastcall-server"), std::string::npos) << text;
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

} // namespace
} // namespace lastcall::testing

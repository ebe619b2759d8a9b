// The Beast example, built against the installed coordinator package by the ctest fixture
// InstalledPackage.BuildsTheExample, run as a real process: it drains, cancels its task, closes
// its resource, checkpoints its count and exits 0; the count survives a restart.
#include "child_process.hpp"
#include "raw_http.hpp"
#include "reference_server.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <csignal>
#include <fstream>

namespace lastcall::testing {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

class ExampleServer {
public:
    explicit ExampleServer(const fs::path& state) : process_({LASTCALL_EXAMPLE_BINARY, "0", state.string()}, state.string() + ".stderr") {
        const auto line = process_.read_line(10s);
        const std::string prefix = "listening 127.0.0.1:";
        if (!line || line->rfind(prefix, 0) != 0) throw std::runtime_error("the example did not start");
        port_ = static_cast<unsigned short>(std::stoi(line->substr(prefix.size())));
    }
    unsigned short port() const { return port_; }
    ChildProcess& process() { return process_; }

private:
    ChildProcess process_;
    unsigned short port_ = 0;
};

TEST(ExampleServer, DrainsCancelsCleansAndCheckpointsThroughTheInstalledPackage) {
    ASSERT_TRUE(fs::exists(LASTCALL_EXAMPLE_BINARY)) << "run through ctest: the fixture InstalledPackage.BuildsTheExample builds it";
    const auto state = fresh_test_dir() / "state";
    {
        ExampleServer server(state);
        EXPECT_EQ(http_post(server.port(), "/count").body, "1\n");
        EXPECT_EQ(http_post(server.port(), "/count").body, "2\n");
        auto slow = RawConnection::open(server.port());
        slow->send_get("/hello?ms=300");
        server.process().signal(SIGTERM);
        // Served (it was read before the signal) or refused cleanly (after): never cut.
        const auto response = slow->read_response(3s);
        EXPECT_TRUE(response.complete) << response.error;
        EXPECT_TRUE(response.status == 200 || response.status == 503) << response.status;
        EXPECT_EQ(response.header("connection"), "close");
        const auto status = server.process().wait(5s);
        ASSERT_TRUE(status);
        EXPECT_TRUE(status->clean()) << describe(*status);
    }
    const auto report = nlohmann::json::parse(std::ifstream(state / "shutdown-report.json"));
    EXPECT_EQ(report.at("exit_code"), 0);
    EXPECT_EQ(report.at("counts").at("tasks_cancelled"), 1);
    EXPECT_EQ(report.at("resources").at(0).at("name"), "log");
    EXPECT_EQ(report.at("checkpoint").at("outcome"), "written");
    ExampleServer restarted(state);
    EXPECT_EQ(http_get(restarted.port(), "/count").body, "2\n");
}

} // namespace
} // namespace lastcall::testing

#pragma once
// Starts lastcall-server on a free loopback port with its own state directory, for integration tests.
#include "child_process.hpp"
#include "test_dir.hpp"

#include <chrono>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

namespace lastcall::testing {

class ReferenceServer {
public:
    // Throws std::runtime_error (with the server's stderr) if it never says it is listening.
    ReferenceServer(const std::filesystem::path& state_dir, std::vector<std::string> extra_args);
    unsigned short port() const { return port_; }
    ChildProcess& process() { return *process_; }
    std::string stderr_text() const;
    // Waits (bounded) until the server has logged `needle`: the state a test means, not a sleep.
    // Its stdout and its log are two pipes, so "listening" can be read before the log line written
    // just after it.
    bool wait_for_log(const std::string& needle, std::chrono::milliseconds limit = std::chrono::seconds(5)) const;

private:
    std::filesystem::path stderr_file_;
    std::unique_ptr<ChildProcess> process_;
    unsigned short port_ = 0;
};

} // namespace lastcall::testing

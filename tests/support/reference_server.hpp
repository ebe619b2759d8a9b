#pragma once
// Starts lastcall-server on a free loopback port with its own state directory, for integration tests.
#include "child_process.hpp"
#include "test_dir.hpp"

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

private:
    std::filesystem::path stderr_file_;
    std::unique_ptr<ChildProcess> process_;
    unsigned short port_ = 0;
};

} // namespace lastcall::testing

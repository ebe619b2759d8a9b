#include "reference_server.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <iterator>
#include <stdexcept>
#include <thread>

namespace lastcall::testing {

namespace fs = std::filesystem;

ReferenceServer::ReferenceServer(const fs::path& state_dir, std::vector<std::string> extra_args)
    : stderr_file_(state_dir.string() + ".stderr") {
    std::vector<std::string> argv{server_binary(), "--port", "0", "--state-dir", state_dir.string()};
    argv.insert(argv.end(), extra_args.begin(), extra_args.end());
    process_ = std::make_unique<ChildProcess>(argv, stderr_file_);
    const auto line = process_->read_line(std::chrono::seconds(10));
    const std::string prefix = "listening 127.0.0.1:";
    if (!line || line->substr(0, prefix.size()) != prefix) {
        throw std::runtime_error("lastcall-server did not start: " + stderr_text());
    }
    port_ = static_cast<unsigned short>(std::stoi(line->substr(prefix.size())));
}

std::string ReferenceServer::stderr_text() const {
    std::ifstream in(stderr_file_);
    return {std::istreambuf_iterator<char>(in), {}};
}

bool ReferenceServer::wait_for_log(const std::string& needle, std::chrono::milliseconds limit) const {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (stderr_text().find(needle) == std::string::npos) {
        if (std::chrono::steady_clock::now() > deadline) return false;
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    return true;
}

} // namespace lastcall::testing

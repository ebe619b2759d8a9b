#include "run_cgroup.hpp"

#include <fmt/format.h>

#include <atomic>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <string_view>
#include <fcntl.h>
#include <fstream>
#include <thread>
#include <sys/stat.h>
#include <unistd.h>

namespace lastcall::harness {

namespace {

// Where cgroup v2 is mounted: /sys/fs/cgroup on unified hosts, /sys/fs/cgroup/unified on hybrid ones.
std::optional<std::string> cgroup2_mount() {
    std::ifstream in("/proc/self/mountinfo");
    for (std::string line; std::getline(in, line);) {
        // "... mount_point options - fstype source super_options"
        const auto dash = line.find(" - ");
        if (dash == std::string::npos || line.compare(dash + 3, 8, "cgroup2 ") != 0) continue;
        std::size_t field_start = 0;
        for (int field = 0; field < 4; ++field) field_start = line.find(' ', field_start) + 1;
        return line.substr(field_start, line.find(' ', field_start) - field_start);
    }
    return std::nullopt;
}

// lastcall's own cgroup v2 path ("0::/some/path").
std::string own_cgroup() {
    std::ifstream in("/proc/self/cgroup");
    for (std::string line; std::getline(in, line);) {
        if (line.rfind("0::", 0) == 0) return line.substr(3);
    }
    return "/";
}

} // namespace

std::unique_ptr<RunCgroup> RunCgroup::create(std::string* why) {
    if (const char* setting = std::getenv("LASTCALL_CGROUP"); setting && std::string_view(setting) == "off") {
        if (why) *why = "LASTCALL_CGROUP=off";
        return nullptr;
    }
    const auto mount = cgroup2_mount();
    if (!mount) {
        if (why) *why = "cgroup v2 is not mounted";
        return nullptr;
    }
    static std::atomic<int> serial{0};
    auto parent = *mount + own_cgroup();
    if (!parent.empty() && parent.back() == '/') parent.pop_back();
    const auto path = fmt::format("{}/lastcall-{}-{}", parent, ::getpid(), ++serial);
    if (::mkdir(path.c_str(), 0755) != 0) {
        if (why) *why = fmt::format("cannot create {}: {}", path, std::strerror(errno));
        return nullptr;
    }
    const int fd = ::open((path + "/cgroup.procs").c_str(), O_WRONLY | O_CLOEXEC);
    if (fd < 0) {
        if (why) *why = fmt::format("cannot open {}/cgroup.procs: {}", path, std::strerror(errno));
        ::rmdir(path.c_str());
        return nullptr;
    }
    return std::unique_ptr<RunCgroup>(new RunCgroup(path, fd));
}

RunCgroup::~RunCgroup() {
    kill_all();
    ::close(procs_fd_);
    // A killed process leaves the cgroup when it exits; its zombie does not keep the directory busy.
    for (int attempt = 0; attempt < 200 && ::rmdir(path_.c_str()) != 0 && errno == EBUSY; ++attempt) {
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
}

std::vector<pid_t> RunCgroup::members() const {
    std::vector<pid_t> pids;
    std::ifstream in(path_ + "/cgroup.procs");
    for (std::string line; std::getline(in, line);) {
        pid_t pid = 0;
        if (std::from_chars(line.data(), line.data() + line.size(), pid).ec == std::errc{} && pid > 0) pids.push_back(pid);
    }
    return pids;
}

void RunCgroup::kill_all() const {
    // cgroup.kill (Linux 5.14) kills every member at once, including ones forking right now.
    const int fd = ::open((path_ + "/cgroup.kill").c_str(), O_WRONLY | O_CLOEXEC);
    if (fd >= 0) {
        const bool done = ::write(fd, "1", 1) == 1;
        ::close(fd);
        if (done) return;
    }
    for (int round = 0; round < 10; ++round) {  // older kernels: kill until no member is left
        const auto pids = members();
        if (pids.empty()) return;
        for (const auto pid : pids) ::kill(pid, SIGKILL);
    }
}

} // namespace lastcall::harness

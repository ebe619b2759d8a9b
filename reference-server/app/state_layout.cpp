#include "state_layout.hpp"

#include "server.hpp"

#include <fmt/format.h>

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <unistd.h>

#include <string>
#include <vector>

namespace lastcall::server {

void check_state_layout(const std::filesystem::path& dir, StateLayout wanted) {
    static const std::vector<std::string> single_process_files{"counter.journal", "checkpoint.dat", "checkpoint.dat.prev"};
    static const std::vector<std::string> shared_files{"counter.db", "counter.db-wal"};
    const bool shared = wanted == StateLayout::shared;
    for (const auto& name : shared ? single_process_files : shared_files) {
        std::error_code ec;
        if (!std::filesystem::exists(dir / name, ec)) continue;
        throw StartupError(fmt::format(
            "state dir {} holds {}, the counter of {}; refusing to start {} on it (its acknowledged increments would "
            "not be seen): {}, or use another --state-dir",
            dir.string(), (dir / name).string(), shared ? "a single-process server" : "a --workers service",
            shared ? "a --workers service" : "a single process", shared ? "run without --workers" : "run with --workers"));
    }
}

// A prefork worker does not ask for the fsync: its directory is inside its master's, which the
// master probed with one before any worker started, and on a busy disk that one fsync took 8.2 s (a
// build beside a reload soak): longer than a reload can wait for a booting worker.
void prepare_state_dir(const std::filesystem::path& dir, bool sync) {
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    if (ec || !std::filesystem::is_directory(dir)) {
        throw StartupError(fmt::format("state dir {} is not usable: {}", dir.string(),
                                       ec ? ec.message() : "not a directory"));
    }
    const auto probe = dir / ".write-probe";
    const int fd = ::open(probe.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    const bool ok = fd >= 0 && ::write(fd, "x", 1) == 1 && (!sync || ::fsync(fd) == 0);
    const int error = errno;
    if (fd >= 0) ::close(fd);
    ::unlink(probe.c_str());
    if (!ok) throw StartupError(fmt::format("state dir {} is not writable: {}", dir.string(), std::strerror(error)));
}

} // namespace lastcall::server

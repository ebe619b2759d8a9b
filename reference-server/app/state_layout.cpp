#include "state_layout.hpp"

#include "server.hpp"

#include <fmt/format.h>

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

} // namespace lastcall::server

#pragma once
// Command line and environment of lastcall-server. Flags win over LASTCALL_* environment variables.
#include "faults.hpp"

#include "lastcall/coordinator/shutdown_config.hpp"

#include <cstdint>
#include <filesystem>
#include <optional>
#include <stdexcept>
#include <string>

namespace lastcall::server {

class UsageError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

struct ServerConfig {
    std::string host = "127.0.0.1";
    unsigned short port = 8080;
    int listen_fd = -1;  // an inherited listening socket to serve instead of binding host:port
    int control_fd = -1;  // a prefork worker: its master's control channel (worker_control.hpp)
    unsigned threads = 2;
    unsigned workers = 0;  // 0: one process; N: a master and N worker processes (master.hpp)
    std::optional<coordinator::Duration> graceful_timeout;  // --workers: default the global budget + 2s
    coordinator::Duration worker_boot_timeout = std::chrono::seconds(10);
    std::filesystem::path state_dir = "lastcall-state";
    // A prefork worker (set by its master): the master's state dir, whose counter.db every worker
    // commits to (shared_counter.hpp). Empty: one process, the journal and checkpoint in state_dir.
    std::filesystem::path shared_state_dir;
    std::string job_owner;  // a prefork worker: who the jobs it creates belong to (job_store.hpp)
    coordinator::Budgets budgets;
    coordinator::SignalPolicy signals;
    coordinator::Duration header_timeout = std::chrono::seconds(10);
    coordinator::Duration idle_timeout = std::chrono::seconds(60);
    // A stalled disk, for tests: every jobs-database call waits this long on the database thread
    // first, as a commit's fsync did under the noise soak (up to 1.5 s).
    coordinator::Duration job_commit_delay{0};
    bool checkpoint_fallback = false;
    std::uint64_t journal_compact_bytes = 4 * 1024 * 1024;  // online checkpoint when the journal grew this much; 0: only at shutdown
    bool tracking = true;  // off only to measure what the coordinator costs
    Faults faults;
    bool show_help = false;
    bool show_version = false;
};

// Throws UsageError with a one-line message naming the flag and what was expected, or a fault that
// has no meaning with --workers (never silently ignored).
ServerConfig parse_config(int argc, const char* const* argv);
std::string usage_text();

// "250ms", "3s", "1m", "0". Throws UsageError.
coordinator::Duration parse_duration(std::string_view text, std::string_view what);

} // namespace lastcall::server

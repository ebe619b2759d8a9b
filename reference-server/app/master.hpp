#pragma once
// `lastcall-server --workers N`: a master that binds the listener once and runs N worker processes
// on it (each this binary with --listen-fd and --control-fd, each with its own coordinator). The
// policy (forwarding, escalation, the graceful timeout, replacing crashed workers, a ready-first
// reload on SIGHUP, the exit code) is MasterState's; this is its shell of processes and sockets.
//
// One inherited socket, not SO_REUSEPORT: with one accept queue, a worker that closes its copy
// resets nothing, and a reload's gap shows as latency, never as a refusal (gunicorn#3397).
// Workers are spawned (posix_spawn + exec), never forked alone: the master is a threaded Asio
// process, and a child may only call async-signal-safe functions until it execs.
//
// State: the counter (and the set on it) is STATE/counter.db, which every worker commits to
// (shared_counter.hpp), and the jobs are STATE/jobs.db, each owned by one worker process and
// claimed by another only when the master hands them over ('J'); each worker keeps its report
// under STATE/workers/G.S (generation.slot); the master writes STATE/shutdown-report.json
// (master_report.hpp), which folds the workers' reports in.
#include "config.hpp"

#include <string>
#include <vector>

namespace lastcall::server {

// Runs until every worker has ended; returns the master's exit code. `argv` is the master's own
// command line: each worker runs it again with the worker flags appended (later flags win).
// Throws StartupError when it cannot listen.
int run_master(const ServerConfig& config, const std::vector<std::string>& argv);

} // namespace lastcall::server

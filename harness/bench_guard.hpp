#pragma once
// When `lastcall bench` must not run, or must stop before -d: said plainly instead of a run of
// failures. Before the run, -c beyond what this process may open (each connection is a file
// descriptor; wrk counts such connects as "Socket errors: connect N" and goes on). During it, the
// system refusing descriptors ("Too many open files") or every connect refused for a second with
// nothing served (a dead port: waiting the whole -d tells nothing more).
#include "bench_options.hpp"
#include "load_generator.hpp"

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

namespace lastcall::harness {

// Descriptors lastcall itself holds beside the connections, per load thread (its event loop, its
// poller, its history file, its timers) and in all (stdio, the history output, slack).
inline constexpr std::uint64_t descriptors_per_thread = 8;
inline constexpr std::uint64_t descriptors_besides = 16;

// The message when `connections` (and what lastcall holds: `open_now` already open, and the
// threads') would pass `soft_limit` (RLIMIT_NOFILE), saying the limit and how to raise it up to
// `hard_limit`; nullopt when they fit.
std::optional<std::string> descriptor_shortage(std::uint64_t connections, int threads, std::uint64_t open_now, std::uint64_t soft_limit,
                                               std::uint64_t hard_limit);
// The same for this process and these options (the open loop without -c opens as needed: judged
// during the run only).
std::optional<std::string> descriptor_shortage(const BenchOptions& options);

// How long every connect may be refused, with nothing served, before the run stops.
inline constexpr std::chrono::milliseconds refused_for_long_enough{1000};

// The system refuses lastcall file descriptors (EMFILE, ENFILE): a stop for lastcall's own limit,
// not the target's doing.
bool out_of_descriptors(const LiveCounts& live);

// Why the run must stop now, from what the load has counted since its start `elapsed` ago; empty
// to go on. `url` names the target in the message.
std::string early_stop(const LiveCounts& live, std::chrono::steady_clock::duration elapsed, const std::string& url);

} // namespace lastcall::harness

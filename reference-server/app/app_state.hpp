#pragma once
// What every connection and route shares: configuration, the coordinator, the jobs database and
// its thread, the counter (CounterStore; SharedCounter with --workers) and the positions of
// unfinished streams.
#include "config.hpp"
#include "counter.hpp"
#include "job_store.hpp"
#include "request_metrics.hpp"
#include "stream_positions.hpp"

#include "lastcall/coordinator/coordinator.hpp"

#include <atomic>
#include <cstdint>
#include <functional>

namespace boost::asio {
class io_context;
class thread_pool;
}

namespace lastcall::server {

struct AppState {
    const ServerConfig& config;
    coordinator::Coordinator& coordinator;
    JobStore& jobs;
    // The jobs database's own thread (see in_database in routes.cpp).
    boost::asio::thread_pool& database;
    Counter& counter;
    boost::asio::io_context& io;
    // A connection closed, so a descriptor is free (the listener resumes an accept paused by EMFILE).
    std::function<void()> connection_closed;
    StreamPositions& streams;

    std::atomic<std::uint64_t> requests_total{0};
    std::atomic<std::uint64_t> next_task_number{1};
    std::atomic<std::uint64_t> jobs_resumed{0};
    RequestMetrics metrics;  // for /metrics

    bool faulty(Fault f) const { return config.faults.has(f); }
};

} // namespace lastcall::server

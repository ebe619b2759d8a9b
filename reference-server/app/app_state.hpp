#pragma once
// What every connection and route shares: configuration, the coordinator, the jobs database and
// the in-memory state that only the checkpoint makes durable.
#include "config.hpp"
#include "job_store.hpp"

#include "lastcall/coordinator/coordinator.hpp"

#include <atomic>
#include <cstdint>

namespace boost::asio { class io_context; }

namespace lastcall::server {

struct AppState {
    const ServerConfig& config;
    coordinator::Coordinator& coordinator;
    JobStore& jobs;
    boost::asio::io_context& io;

    std::atomic<std::int64_t> counter{0};  // acknowledged from memory; durable only via the checkpoint
    std::atomic<std::uint64_t> requests_total{0};
    std::atomic<std::uint64_t> next_task_number{1};
    std::atomic<std::uint64_t> jobs_resumed{0};

    bool faulty(Fault f) const { return config.faults.has(f); }
};

// The counter as the checkpoint stores it.
std::string encode_state(std::int64_t counter);
std::int64_t decode_state(const std::string& payload);  // throws std::runtime_error

} // namespace lastcall::server

#pragma once
// Runs the load generator against a test server until its workload is done (bounded), and returns
// the history: the wire-level tests' one way of driving it.
#include "load_generator.hpp"

#include <chrono>
#include <thread>

namespace lastcall::harness {

inline Workload single_workload(const std::string& path, std::uint64_t requests, WorkloadKind kind = WorkloadKind::request,
                                std::chrono::milliseconds timeout = std::chrono::seconds(2)) {
    Workload w;
    w.name = "probe";
    w.kind = kind;
    w.request.path = path;
    w.max_requests = requests;
    w.timeout = timeout;
    return w;
}

// Waits (bounded) for the workload to finish on its own, then finishes the generator.
inline std::vector<RequestRecord> drive(const Workload& w, LoadOptions options, std::chrono::milliseconds bound = std::chrono::seconds(5)) {
    LoadGenerator load({w}, std::move(options));
    load.start();
    const auto deadline = std::chrono::steady_clock::now() + bound;
    while (!load.all_workloads_done() && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(std::chrono::milliseconds(2));
    load.finish(std::chrono::seconds(1));
    return load.take_history();
}

inline LoadOptions loopback(std::uint16_t port, std::string host = "127.0.0.1") {
    return LoadOptions{std::move(host), port, 1, std::chrono::steady_clock::now()};
}

} // namespace lastcall::harness

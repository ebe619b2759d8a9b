#pragma once
// What the wire-level tests share: one workload, the load generator driven until it is done
// (bounded), bounded waits for a state, a plain 200.
#include "load_generator.hpp"

#include <chrono>
#include <string>
#include <thread>

namespace lastcall::harness {

inline const std::string ok_response = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";

// Polls (bounded) for the state a test means; false when it never came.
template <class Predicate>
bool wait_until(Predicate holds, std::chrono::milliseconds bound = std::chrono::seconds(5)) {
    const auto deadline = std::chrono::steady_clock::now() + bound;
    while (!holds()) {
        if (std::chrono::steady_clock::now() > deadline) return false;
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    return true;
}

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

inline LoadOptions loopback(std::uint16_t port, std::string host = "127.0.0.1") {
    return LoadOptions{std::move(host), port, 1, std::chrono::steady_clock::now()};
}

// Waits (bounded) for the workload to finish on its own, then finishes the generator.
inline std::vector<RequestRecord> drive(const Workload& w, LoadOptions options, std::chrono::milliseconds bound = std::chrono::seconds(5)) {
    LoadGenerator load({w}, std::move(options));
    load.start();
    wait_until([&] { return load.all_workloads_done(); }, bound);
    load.finish(std::chrono::seconds(1));
    return load.take_history();
}

} // namespace lastcall::harness

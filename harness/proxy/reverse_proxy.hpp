#pragma once
// lastcall's own HTTP/1.1 reverse proxy (`proxy:` of a scenario): the load-balancer/endpoint race
// of Kubernetes, locally. It listens on a free port of the target's address, on its own thread,
// forwards to the target on pooled keep-alive connections, and keeps doing so until the removal
// time the conductor sets (first shutdown signal + endpoint_lag); from then on it closes its idle
// upstream connections and answers 503 + Retry-After itself, while requests already forwarded
// finish. No Boost here: the conductor includes it.
#include "endpoint.hpp"
#include "proxy/proxy_record.hpp"
#include "scenario.hpp"

#include <chrono>
#include <cstdint>
#include <memory>
#include <vector>

namespace lastcall::harness::proxy {

class ReverseProxy {
public:
    using Time = std::chrono::steady_clock::time_point;

    // Listening once constructed; throws std::system_error when no port can be bound (start-up only).
    // Record times count from `run_start`.
    ReverseProxy(const HostAddress& target, std::uint16_t target_port, const ProxyConfig& config, Time run_start);
    ~ReverseProxy();  // stop()
    ReverseProxy(const ReverseProxy&) = delete;
    ReverseProxy& operator=(const ReverseProxy&) = delete;

    std::uint16_t port() const;
    // Requests arriving from `when` on get the proxy's 503; idle upstream connections close then.
    // Only the first call until endpoint_up() counts.
    void remove_endpoint_at(Time when);
    // A removal is planned and `now` is before it: the proxy still routes to the target.
    bool removal_pending(Time now) const;
    // A new generation of the target is up: route to it again.
    void endpoint_up();
    // Closes every connection and joins the thread. Idempotent.
    void stop();
    // After stop(): one record per request, in the order they ended.
    std::vector<ProxyRecord> take_records();
    // After stop(): exceptions met inside the proxy (lastcall's failures, never the target's).
    std::vector<std::string> errors() const;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

} // namespace lastcall::harness::proxy

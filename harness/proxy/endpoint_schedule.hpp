#pragma once
// Whether the proxy still routes to the target: until the removal time the conductor set (the
// first shutdown signal + endpoint_lag), and again once a new generation is up. Set from the
// conductor's thread, read by the proxy's; a request is judged by the clock when it has been read,
// not by a timer, so a proxy thread that runs late under CPU noise still removes the endpoint on time.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <limits>

namespace lastcall::harness::proxy {

class EndpointSchedule {
public:
    using Time = std::chrono::steady_clock::time_point;

    void remove_at(Time when) { removal_ns_.store(when.time_since_epoch().count(), std::memory_order_release); }
    void restore() { removal_ns_.store(never, std::memory_order_release); }
    bool routable(Time now) const { return now.time_since_epoch().count() < removal_ns_.load(std::memory_order_acquire); }
    bool removal_planned() const { return removal_ns_.load(std::memory_order_acquire) != never; }

private:
    static constexpr Time::rep never = std::numeric_limits<Time::rep>::max();
    std::atomic<Time::rep> removal_ns_{never};
};

} // namespace lastcall::harness::proxy

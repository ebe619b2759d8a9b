#pragma once
// What draining waits for: in-flight requests and streams, and "holds" - things that are not a
// request yet but must not be cut (a connection between accept and registration, a keep-alive
// connection lingering for a request on its way, the listener accepting its backlog). The wait
// completes on the releasing thread the moment the last guard goes away (no polling). Requests and
// streams are counted for the report; holds are not (a connection is not a request).
#include "lastcall/coordinator/idle_latch.hpp"
#include "lastcall/coordinator/ticket.hpp"

#include <atomic>
#include <cstdint>
#include <functional>
#include <mutex>
#include <unordered_map>

namespace lastcall::coordinator {

class DrainTracker {
public:
    // Held for as long as one request, stream or hold lasts.
    using Guard = Ticket<DrainTracker>;

    Guard track_request();
    // `end_now` is called at most once, from end_streams(), on the coordinator's thread: the stream
    // should send its terminal event and finish (post to its own executor).
    Guard track_stream(std::function<void()> end_now);
    // Keeps draining open without counting a request.
    Guard hold();

    void begin_draining() { draining_.store(true, std::memory_order_relaxed); }
    void end_streams();
    void on_idle(std::function<void()> on_zero) { latch_.on_idle(std::move(on_zero)); }

    // Requests and streams in flight (holds excluded).
    std::size_t in_flight() const { return in_flight_.load(std::memory_order_relaxed); }
    // Read without a lock for /status: the two counts may be a moment apart, so never below zero.
    std::size_t holds() const {
        const auto all = latch_.count(), requests = in_flight();
        return all > requests ? all - requests : 0;
    }
    std::size_t streams() const;
    // Requests and streams that finished after draining began.
    std::uint64_t completed_during_drain() const { return completed_during_drain_.load(); }
    std::uint64_t streams_told_to_end() const { return streams_told_to_end_.load(); }

private:
    friend Guard;
    static constexpr std::uint64_t request_id = 0;
    static constexpr std::uint64_t hold_id = ~std::uint64_t{0};
    void release_ticket(std::uint64_t id);

    IdleLatch latch_;  // counts everything draining waits for
    std::atomic<std::size_t> in_flight_{0};
    std::atomic<bool> draining_{false};
    std::atomic<std::uint64_t> completed_during_drain_{0};
    std::atomic<std::uint64_t> streams_told_to_end_{0};
    mutable std::mutex streams_mutex_;
    std::uint64_t next_stream_id_ = 1;
    std::unordered_map<std::uint64_t, std::function<void()>> streams_;
};

} // namespace lastcall::coordinator

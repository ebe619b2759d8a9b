#pragma once
// Counts in-flight requests and streams. Draining waits for the count to reach zero; that wait
// completes on the releasing thread the moment the last guard goes away (no polling).
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
    // Held for as long as one request or stream is in flight (id 0: a plain request).
    using Guard = Ticket<DrainTracker>;

    Guard track_request();
    // `end_now` is called at most once, from end_streams(), on the coordinator's thread: the stream
    // should send its terminal event and finish (post to its own executor).
    Guard track_stream(std::function<void()> end_now);

    void begin_draining() { draining_.store(true, std::memory_order_relaxed); }
    void end_streams();
    void on_idle(std::function<void()> on_zero) { latch_.on_idle(std::move(on_zero)); }

    std::size_t in_flight() const { return latch_.count(); }
    std::size_t streams() const;
    std::uint64_t completed_during_drain() const { return completed_during_drain_.load(); }
    std::uint64_t streams_told_to_end() const { return streams_told_to_end_.load(); }

private:
    friend Guard;
    void release_ticket(std::uint64_t stream_id);

    IdleLatch latch_;
    std::atomic<bool> draining_{false};
    std::atomic<std::uint64_t> completed_during_drain_{0};
    std::atomic<std::uint64_t> streams_told_to_end_{0};
    mutable std::mutex streams_mutex_;
    std::uint64_t next_stream_id_ = 1;
    std::unordered_map<std::uint64_t, std::function<void()>> streams_;
};

} // namespace lastcall::coordinator

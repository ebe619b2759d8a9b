#include "lastcall/coordinator/drain_tracker.hpp"

#include <vector>

namespace lastcall::coordinator {

DrainTracker::Guard DrainTracker::track_request() {
    // The latch first: in_flight() must never exceed what draining waits for.
    latch_.add();
    in_flight_.fetch_add(1, std::memory_order_relaxed);
    return Guard{this, request_id};
}

DrainTracker::Guard DrainTracker::track_stream(std::function<void()> end_now) {
    std::uint64_t id = 0;
    {
        std::lock_guard lock(streams_mutex_);
        id = next_stream_id_++;
        streams_.emplace(id, std::move(end_now));
    }
    latch_.add();
    in_flight_.fetch_add(1, std::memory_order_relaxed);
    return Guard{this, id};
}

DrainTracker::Guard DrainTracker::hold() {
    latch_.add();
    return Guard{this, hold_id};
}

void DrainTracker::end_streams() {
    std::vector<std::function<void()>> to_end;
    {
        std::lock_guard lock(streams_mutex_);
        for (auto& [id, end_now] : streams_) {
            if (end_now) to_end.push_back(std::exchange(end_now, nullptr));
        }
    }
    streams_told_to_end_.fetch_add(to_end.size());
    for (auto& end_now : to_end) end_now();
}

std::size_t DrainTracker::streams() const {
    std::lock_guard lock(streams_mutex_);
    return streams_.size();
}

void DrainTracker::release_ticket(std::uint64_t id) {
    if (id != hold_id) {
        if (id != request_id) {
            std::lock_guard lock(streams_mutex_);
            streams_.erase(id);
        }
        in_flight_.fetch_sub(1, std::memory_order_relaxed);
        if (draining_.load(std::memory_order_relaxed)) completed_during_drain_.fetch_add(1, std::memory_order_relaxed);
    }
    latch_.release();
}

} // namespace lastcall::coordinator

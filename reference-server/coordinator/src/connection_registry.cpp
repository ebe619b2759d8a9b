#include "lastcall/coordinator/connection_registry.hpp"

#include <algorithm>
#include <memory>
#include <utility>
#include <vector>

namespace lastcall::coordinator {

ConnectionRegistry::Registration ConnectionRegistry::add(Callbacks callbacks) {
    std::lock_guard lock(mutex_);
    const auto id = next_id_++;
    connections_.emplace(id, std::move(callbacks));
    accepted_.fetch_add(1, std::memory_order_relaxed);
    return Registration{this, id};
}

void ConnectionRegistry::begin_draining(const Spread& spread) { call(Which::draining, spread); }
std::size_t ConnectionRegistry::close_all() { return call(Which::all); }

std::size_t ConnectionRegistry::size() const {
    std::lock_guard lock(mutex_);
    return connections_.size();
}

void ConnectionRegistry::note(ConnectionEvent event, std::uint64_t how_many) {
    events_[static_cast<std::size_t>(event)].fetch_add(how_many, std::memory_order_relaxed);
}

void ConnectionRegistry::note_accept_paused(Duration paused) {
    accept_paused_ticks_.fetch_add(paused.count(), std::memory_order_relaxed);
}

std::uint64_t ConnectionRegistry::noted(ConnectionEvent event) const {
    return events_[static_cast<std::size_t>(event)].load(std::memory_order_relaxed);
}

std::size_t ConnectionRegistry::call(Which which, const Spread& spread) {
    // Taken out so that a callback may deregister its connection without deadlocking. Draining
    // begins once, so its callbacks are moved out rather than copied: a copy allocated for each
    // of 10,000 idle connections when the drain began.
    std::vector<std::function<void()>> calls;
    {
        std::lock_guard lock(mutex_);
        calls.reserve(connections_.size());
        for (auto& [id, callbacks] : connections_) {
            if (which == Which::draining) calls.push_back(std::exchange(callbacks.on_draining, nullptr));
            else calls.push_back(callbacks.close_now);
        }
    }
    const auto count = calls.size();
    if (spread) {
        // Each batch calls its own slice of the one vector, which the last batch to end frees.
        const auto all = std::make_shared<std::vector<std::function<void()>>>(std::move(calls));
        for (std::size_t begin = 0; begin < count; begin += draining_batch) {
            spread([all, begin] {
                const auto end = std::min(begin + draining_batch, all->size());
                for (auto i = begin; i < end; ++i) {
                    if ((*all)[i]) (*all)[i]();
                }
            });
        }
        return count;
    }
    for (auto& c : calls) {
        if (c) c();
    }
    return count;
}

void ConnectionRegistry::release_ticket(std::uint64_t id) {
    std::lock_guard lock(mutex_);
    connections_.erase(id);
}

} // namespace lastcall::coordinator

#include "lastcall/coordinator/connection_registry.hpp"

#include <utility>
#include <vector>

namespace lastcall::coordinator {

ConnectionRegistry::Registration ConnectionRegistry::add(Callbacks callbacks) {
    std::lock_guard lock(mutex_);
    const auto id = next_id_++;
    connections_.emplace(id, std::move(callbacks));
    return Registration{this, id};
}

void ConnectionRegistry::close_idle() { close(Which::idle); }
void ConnectionRegistry::close_all() { close(Which::all); }

std::size_t ConnectionRegistry::size() const {
    std::lock_guard lock(mutex_);
    return connections_.size();
}

void ConnectionRegistry::close(Which which) {
    // Copied out so that a callback may deregister its connection without deadlocking.
    std::vector<std::function<void()>> calls;
    {
        std::lock_guard lock(mutex_);
        calls.reserve(connections_.size());
        for (const auto& [id, callbacks] : connections_) {
            calls.push_back(which == Which::idle ? callbacks.close_if_idle : callbacks.close_now);
        }
    }
    for (auto& call : calls) {
        if (call) call();
    }
}

void ConnectionRegistry::release_ticket(std::uint64_t id) {
    std::lock_guard lock(mutex_);
    connections_.erase(id);
}

} // namespace lastcall::coordinator

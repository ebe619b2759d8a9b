#pragma once
// Every open connection, so draining can close the idle ones at once and, at the end, all of them.
// The callbacks run on the coordinator's thread; a connection posts to its own executor and decides
// there whether it is really idle (no request started, no bytes waiting).
#include "lastcall/coordinator/ticket.hpp"

#include <cstdint>
#include <functional>
#include <mutex>
#include <unordered_map>

namespace lastcall::coordinator {

class ConnectionRegistry {
public:
    struct Callbacks {
        std::function<void()> close_if_idle;
        std::function<void()> close_now;
    };

    // Held by an open connection; release() (or destruction) removes it.
    using Registration = Ticket<ConnectionRegistry>;

    Registration add(Callbacks callbacks);
    void close_idle();
    void close_all();
    std::size_t size() const;

private:
    enum class Which { idle, all };
    void close(Which which);
    friend Registration;
    void release_ticket(std::uint64_t id);

    mutable std::mutex mutex_;
    std::uint64_t next_id_ = 1;
    std::unordered_map<std::uint64_t, Callbacks> connections_;
};

} // namespace lastcall::coordinator

#pragma once
// Every open connection, so that draining can tell each one that draining began and, at the end,
// close whatever is left. The callbacks run on the coordinator's thread, or those of on_draining
// in batches where a `Spread` runs them (the server: on every io thread); a connection goes to its
// own executor and decides there what draining means for it (close now, or linger for a request
// that is already on its way). It also keeps the connection counts of the shutdown report, which the
// server feeds with what only it can see (a reset, a failed accept).
#include "lastcall/coordinator/clock.hpp"
#include "lastcall/coordinator/ticket.hpp"

#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <mutex>
#include <unordered_map>

namespace lastcall::coordinator {

// What happened to connections, as the server reports it (see ConnectionCounts).
enum class ConnectionEvent : std::uint8_t {
    closed_after_linger,   // promised keep-alive (or fresh), nothing arrived within the close linger
    never_served,          // closed by the server without one response on it
    reset_request_unread,  // closed with request bytes unread: the client sees a reset
    reset_in_backlog,      // still queued in the kernel when the listener closed: reset by the kernel
    accept_failed,         // accept() failed (EMFILE, ENFILE, ENOBUFS...)
    count_
};

struct ConnectionCounts {
    std::uint64_t accepted = 0;                 // registered since start
    std::uint64_t open_at_signal = 0;
    std::uint64_t accepted_during_drain = 0;    // from the backlog, or while the listener lingered
    std::uint64_t closed_after_linger = 0;
    std::uint64_t closed_at_drain_end = 0;      // still open when draining ended, closed then
    std::uint64_t never_served = 0;
    std::uint64_t reset_request_unread = 0;
    std::uint64_t reset_in_backlog = 0;
    std::uint64_t accept_failures = 0;
    Duration accept_paused{};                   // time the listener spent backing off a failed accept
};

class ConnectionRegistry {
public:
    struct Callbacks {
        std::function<void()> on_draining;  // draining began: close if idle, or linger
        std::function<void()> close_now;
    };

    // Held by an open connection; release() (or destruction) removes it.
    using Registration = Ticket<ConnectionRegistry>;
    // Runs a batch of on_draining callbacks, on any thread, possibly beside other batches.
    using Spread = std::function<void(std::function<void()> batch)>;
    static constexpr std::size_t draining_batch = 64;

    Registration add(Callbacks callbacks);
    // Calls every on_draining once (a later begin_draining calls none of them again): here, or
    // handed to `spread` in batches of draining_batch.
    void begin_draining(const Spread& spread = nullptr);
    // Closes everything still registered; returns how many that was.
    std::size_t close_all();
    std::size_t size() const;

    // Safe from any thread; cheap (one relaxed atomic add).
    void note(ConnectionEvent event, std::uint64_t how_many = 1);
    void note_accept_paused(Duration paused);
    std::uint64_t accepted() const { return accepted_.load(std::memory_order_relaxed); }
    std::uint64_t noted(ConnectionEvent event) const;
    Duration accept_paused() const { return Duration(accept_paused_ticks_.load(std::memory_order_relaxed)); }

private:
    enum class Which { draining, all };
    std::size_t call(Which which, const Spread& spread = nullptr);
    friend Registration;
    void release_ticket(std::uint64_t id);

    mutable std::mutex mutex_;
    std::uint64_t next_id_ = 1;
    std::unordered_map<std::uint64_t, Callbacks> connections_;
    std::atomic<std::uint64_t> accepted_{0};
    std::array<std::atomic<std::uint64_t>, static_cast<std::size_t>(ConnectionEvent::count_)> events_{};
    std::atomic<Duration::rep> accept_paused_ticks_{0};
};

} // namespace lastcall::coordinator

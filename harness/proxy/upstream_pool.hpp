#pragma once
// The proxy's keep-alive connections to the target (internal to harness/proxy: includes Asio). LIFO
// like nginx's `keepalive`: the connection released last goes out first, so the others age out by
// idle_timeout. An idle connection is watched: when the target closes it (or writes to it) it
// leaves the pool at once, and acquire() peeks once more before handing one out, as
// ClientConnection does for the load. What is left is the race nobody can see coming: the target
// closing a connection while the proxy's request is on its way (the upstream idle-close race).
// Used from the proxy's one thread only.
#include <boost/asio/any_io_executor.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <vector>

namespace lastcall::harness::proxy {

using SteadyClock = std::chrono::steady_clock;

struct UpstreamConnection {
    UpstreamConnection(const boost::asio::any_io_executor& executor, std::uint32_t connection_id) : stream(executor), id(connection_id) {}
    boost::beast::tcp_stream stream;
    boost::beast::flat_buffer buffer;
    std::uint32_t id = 0;       // 1, 2, ... per proxy, in connect order
    std::uint32_t uses = 0;     // requests sent on it so far (the next one's reuse index)
    SteadyClock::time_point idle_since{};
};

class UpstreamPool {
public:
    UpstreamPool(std::size_t max_idle, std::chrono::nanoseconds idle_timeout) : max_idle_(max_idle), idle_timeout_(idle_timeout) {}
    ~UpstreamPool();
    UpstreamPool(const UpstreamPool&) = delete;
    UpstreamPool& operator=(const UpstreamPool&) = delete;

    // The most recently released connection that is still open and idle for less than
    // idle_timeout at `now`; nullptr: connect a new one. Connections found closed, written to or
    // too old on the way are closed.
    std::shared_ptr<UpstreamConnection> acquire(SteadyClock::time_point now);
    // After a complete response on a connection that stays open: kept, watched; when the pool is
    // full, the one idle longest is closed.
    void release(std::shared_ptr<UpstreamConnection> connection, SteadyClock::time_point now);
    // Every idle connection closed (the endpoint was removed; the proxy is stopping).
    void close_idle();

    std::size_t idle() const { return idle_.size(); }
    std::uint32_t next_id() { return ++last_id_; }
    // Idle connections the target closed (or wrote to) while they waited.
    std::uint64_t closed_while_idle() const { return closed_while_idle_; }

private:
    void watch(const std::shared_ptr<UpstreamConnection>& connection);
    void drop(const UpstreamConnection* connection);

    std::size_t max_idle_;
    std::chrono::nanoseconds idle_timeout_;
    std::vector<std::shared_ptr<UpstreamConnection>> idle_;  // back(): released last
    std::uint32_t last_id_ = 0;
    std::uint64_t closed_while_idle_ = 0;
};

// An idle connection's state, from one non-blocking peek: still usable, or ended (closed by the
// target, reset, or bytes nobody asked for).
bool idle_connection_usable(int fd);

} // namespace lastcall::harness::proxy

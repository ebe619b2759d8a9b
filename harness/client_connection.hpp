#pragma once
// One keep-alive connection of the load generator (internal to it: includes Asio). Connections live
// in stable storage for the whole run (a closed loop's slot, an open loop's pool), so a handler
// still queued for a connection can never outlive it.
#include "history.hpp"
#include "response_reader.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>

#include <cstdint>
#include <cstddef>
#include <optional>

namespace lastcall::harness {

// How an idle connection ended.
enum class IdleEnd : std::uint8_t { closed, unsolicited_data };

class ClientConnection {
public:
    explicit ClientConnection(boost::asio::io_context& io) : stream(io) {}

    void close();
    // What happened while the connection was idle, if anything, checked before reusing it: a close
    // the server already sent (EOF or RST waiting: real clients reconnect instead of sending into
    // it, so only requests that truly cross the close are idle_close_race), or bytes nobody asked
    // for (which would otherwise be read as the next response). One non-blocking peek.
    std::optional<IdleEnd> idle_event();

    // While the connection waits for its next request, notice at once when the server closes it
    // (or writes to it) and close our side: a connection left in CLOSE_WAIT until its next use
    // holds some servers in their lingering close. Go's transport does the same with a background
    // read on every idle connection (net/http transport.go, persistConn.readLoop).
    // `on_end(IdleEnd)` runs after the connection is closed, on the connection's executor.
    template <class OnEnd>
    void watch_idle(OnEnd on_end);
    // Before the connection is used again. A wake-up already queued is ignored.
    void stop_watching();

    boost::beast::tcp_stream stream;
    boost::beast::flat_buffer buffer;
    ResponseReader reader;
    std::uint32_t id = 0;
    std::uint32_t uses = 0;
    bool open = false;
    // This connection's last response, held back from the history while the connection stays
    // open: a close (closed_after) or unsolicited bytes seen while it is idle are still to be
    // told. It goes to the history when the connection is used again or ends.
    std::optional<RequestRecord> held;

private:
    bool watching_ = false;
    std::uint32_t watch_generation_ = 0;
};

template <class OnEnd>
void ClientConnection::watch_idle(OnEnd on_end) {
    if (!open) return;
    watching_ = true;
    stream.socket().async_wait(boost::asio::socket_base::wait_read,
                               [this, generation = ++watch_generation_, on_end](const boost::system::error_code& ec) {
                                   if (ec || generation != watch_generation_ || !watching_ || !open) return;
                                   watching_ = false;
                                   const auto how = idle_event();
                                   if (!how) return watch_idle(on_end);  // a spurious wake-up
                                   close();
                                   on_end(*how);
                               });
}

} // namespace lastcall::harness

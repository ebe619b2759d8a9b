#pragma once
// One keep-alive connection of the load generator (internal to it: includes Asio). Connections live
// in stable storage for the whole run (a closed loop's slot, an open loop's pool), so a handler
// still queued for a connection can never outlive it.
//
// Asio connects the socket; one read through the load thread's own epoll set (readable) then
// leaves Asio's reactor (leave_asio): Asio registers every socket in its epoll set at open, and a
// socket in two sets costs each arriving packet two epoll callbacks, and each response an event
// in Asio's epoll_wait and a pass through its queue for a socket with no operation on it. Only what
// Asio alone does here takes the socket back (the rest of a request its send buffer did not take).
#include "history.hpp"
#include "readiness_poller.hpp"
#include "response_reader.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/flat_buffer.hpp>

#include <chrono>
#include <cstdint>
#include <cstddef>
#include <optional>
#include <string_view>

namespace lastcall::harness {

// How an idle connection ended.
enum class IdleEnd : std::uint8_t { closed, unsolicited_data };

class ClientConnection {
public:
    using Clock = std::chrono::steady_clock;

    explicit ClientConnection(boost::asio::io_context& io) : socket(io), deadline_timer_(io) {}

    void close();
    // Out of Asio's reactor (its epoll set): the socket is then read and written by descriptor, and
    // its waits are in the load thread's set. Only for a socket in that set, with nothing of Asio's
    // under way. False when Asio refuses (the socket stays Asio's, as before).
    bool leave_asio(const boost::asio::ip::tcp& protocol);
    // The socket as Asio's again (in its reactor) for an asynchronous operation, and for the rest
    // of the connection's life: a rare path, not worth an epoll_ctl pair each time.
    boost::asio::ip::tcp::socket& asio_socket();
    int fd() { return own_fd_ >= 0 ? own_fd_ : socket.native_handle(); }
    // One send(2) of what the non-blocking socket takes now; would_block counts as 0 bytes sent.
    std::size_t send_some(std::string_view bytes, boost::system::error_code& ec);
    // What happened while the connection was idle, if anything: a close the server already sent
    // (EOF or RST waiting), or bytes nobody asked for. One non-blocking peek.
    std::optional<IdleEnd> idle_event();
    // Before reusing the connection: its idle end, if one came while it waited (a closed loop's
    // think, an open loop's pool: a watch's wake-up may still be queued, unrun), so that a request
    // is not sent into a close seen long before (real clients reconnect instead). A connection
    // reused in the same handler run that read its last response did not wait: it is not peeked
    // (a syscall per request, the one wrk does not make). What the server sent after that
    // response then meets the next request, as it would a microsecond later: a close before any
    // response byte is that request's idle_close_race (and the response before gets closed_after).
    std::optional<IdleEnd> idle_end_before_reuse();

    // While the connection waits for its next request, notice at once when the server closes it
    // (or writes to it) and close our side: a connection left in CLOSE_WAIT until its next use
    // holds some servers in their lingering close. Go's transport does the same with a background
    // read on every idle connection (net/http transport.go, persistConn.readLoop). The wait is in
    // the load thread's set for a socket out of Asio's reactor, Asio's async_wait otherwise.
    // `on_end(IdleEnd)` runs after the connection is closed, on the connection's executor.
    template <class OnEnd>
    void watch_idle(OnEnd on_end);
    // Before the connection is used again. A wake-up already queued is ignored.
    void stop_watching();

    // The deadline of what the connection does now (a connect, an exchange, a stream's next read):
    // when it passes, the socket's pending operations are cancelled and timed_out() holds until the
    // next expires_after. One timer per connection, armed only when it is not already armed to
    // fire earlier: a request costs a clock read and a store, not a timer queued and cancelled per
    // read and write as beast::tcp_stream does (wrk keeps one timeout check per connection too).
    void expires_after(Clock::duration d) { expires_at(Clock::now() + d); }
    // The same from a time already read (a request's send time): no clock read of its own.
    void expires_at(Clock::time_point deadline);
    // Nothing to time until the next expires_after: an idle connection has no deadline.
    void expires_never() { deadline_ = Clock::time_point::max(); }
    // The deadline passed with an operation under way (it ended with operation_aborted), or before
    // the next one could start (the caller must not start it).
    bool timed_out() const { return timed_out_; }

    // Asio's while it connects (and for good when the thread's set refused it, or for a slowloris
    // drip); closed, not open, once the socket left Asio's reactor: fd() is the socket then.
    boost::asio::ip::tcp::socket socket;
    // The response's reads wait here, in the load thread's epoll set (when the socket joined it).
    ReadWaiter readable;
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
    void arm_deadline_timer();

    int own_fd_ = -1;  // the socket out of Asio's reactor; -1 while Asio holds it (or none is open)
    boost::asio::ip::tcp protocol_ = boost::asio::ip::tcp::v4();  // to hand it back to Asio

    bool watching_ = false;
    bool waited_ = false;  // watched since its last use
    std::uint32_t watch_generation_ = 0;
    boost::asio::steady_timer deadline_timer_;
    Clock::time_point deadline_ = Clock::time_point::max();
    Clock::time_point armed_for_ = Clock::time_point::max();  // when the pending timer wait fires; max: none pending
    std::uint32_t timer_generation_ = 0;
    bool timed_out_ = false;
};

template <class OnEnd>
void ClientConnection::watch_idle(OnEnd on_end) {
    if (!open) return;
    watching_ = true;
    waited_ = true;
    auto on_wake = [this, generation = ++watch_generation_, on_end](const boost::system::error_code& ec) {
        if (ec || generation != watch_generation_ || !watching_ || !open) return;
        watching_ = false;
        const auto how = idle_event();
        if (!how) {  // a spurious wake-up (or bytes of the last response's edge, already read)
            readable.drained();
            return watch_idle(on_end);
        }
        close();
        on_end(*how);
    };
    if (own_fd_ >= 0) readable.async_wait(std::move(on_wake));
    else socket.async_wait(boost::asio::socket_base::wait_read, std::move(on_wake));
}

} // namespace lastcall::harness

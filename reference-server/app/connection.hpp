#pragma once
// One accepted connection's state, touched only on its strand (by the session coroutine and by what
// the coordinator posts there).
//
// Draining never closes a connection under a request that is already on its way: a connection
// that promised keep-alive (or is fresh) when draining starts lingers for `close_linger`, counted
// as a hold, so a request that arrives meanwhile is answered 503 + Retry-After + Connection: close;
// only a connection on which nothing arrived is closed after the linger (the keep-alive close race
// of gunicorn#1236 and Go's "such is life with HTTP/1.1", avoided rather than tolerated). The same
// holds after a response or stream that promised keep-alive while draining had already begun.
// A request whose head is still incomplete after a second linger is a slow client, not one on its
// way: draining stops waiting for it (it is cut, and counted, if draining ends first).
#include "app_state.hpp"
#include "block_cache.hpp"

#include "lastcall/coordinator/connection_registry.hpp"
#include "lastcall/coordinator/drain_tracker.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>

#include <chrono>
#include <memory>

namespace lastcall::server {

// Its memory from the thread's BlockCache: given back before every idle wait, taken again with the
// next request.
using ReadBuffer = boost::beast::basic_flat_buffer<CachedAllocator<char>>;

struct Connection : std::enable_shared_from_this<Connection> {
    Connection(boost::asio::ip::tcp::socket socket, AppState& app);
    ~Connection();

    // Idle: between requests, with no byte of the next one read or waiting in the kernel.
    bool really_idle();
    // Draining began, or a response promised keep-alive while draining: hold draining open for the
    // close linger; close then if nothing arrived. At most one linger per connection. `own_handler`:
    // called from a handler of its own on the strand, not from inside the session, so a zero linger
    // can be judged at once.
    void linger(coordinator::DrainTracker::Guard hold, bool own_handler = false);
    // The server ends the connection on its own initiative (linger over, drain deadline, fast
    // shutdown) and counts what the client loses: never served, a request left unread.
    void close_by_server();
    // Closes the socket now. The normal end is Session's: half-close, lingering read, close.
    void close();

    boost::beast::tcp_stream stream;
    ReadBuffer buffer;  // empty, and given back, while the connection is idle
    boost::asio::steady_timer idle_timer;  // the idle timeout; pending across requests (http_session.cpp)
    bool idle_timer_armed = false;
    bool waiting_for_request = false;  // the idle wait is pending: the timeout applies
    std::chrono::steady_clock::time_point idle_since;  // when that wait began
    AppState& app;
    bool idle = true;        // no head of a next request read yet (bytes of one may be arriving)
    bool head_read = false;  // the current request's head is in: its answer is being made or written
    // Bytes of the next request were taken from the kernel: the parser may have consumed them all
    // (the buffer is empty again) before the session resumes to set head_read. Without it, a
    // request that arrived while the server was stopped (SIGSTOP, or starved) and was read at
    // SIGCONT looked idle to the linger timer firing in the same turn, and was closed unanswered
    // (found by lastcall explore: SIGTERM, SIGSTOP 8 ms later, SIGCONT 194 ms later).
    bool request_started = false;
    // The last recv of take_arrived_bytes left nothing in the kernel (a hint, never trusted for
    // correctness: the idle wait re-arms the descriptor, so bytes that came since are seen anyway).
    bool kernel_drained = false;
    bool closed = false;
    bool served = false;  // a response (or a stream's head) went out on it
    bool end_stream_requested = false;
    boost::asio::steady_timer* stream_timer = nullptr;  // so that a close or an end request cuts the wait short
    // Kept by the connection, not by a coroutine's frame: between requests no coroutine runs.
    coordinator::ConnectionRegistry::Registration registration;
    coordinator::DrainTracker::Guard keep_idle_hold;  // the keep-idle fault: draining waits for the connection

private:
    void arm_linger(int round);
    // The linger (round 1, or the second one for a head under way) is over: close if nothing came.
    void linger_over(int round);

    coordinator::DrainTracker::Guard linger_hold_;
    std::unique_ptr<boost::asio::steady_timer> linger_timer_;
    bool lingered_ = false;
};
using ConnectionPtr = std::shared_ptr<Connection>;

// What the coordinator calls for this connection: on_draining (linger or leave it to the request in
// progress) and close_now.
coordinator::ConnectionRegistry::Callbacks registry_callbacks(const ConnectionPtr& connection);

} // namespace lastcall::server

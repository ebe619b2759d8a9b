#pragma once
// The accepting socket.
//
// Out of descriptors (EMFILE, ENFILE, ENOBUFS, ENOMEM), accept() leaves the connection queued in
// the kernel: the listener pauses with a backoff (10 ms doubling to 1 s) and resumes at once when a
// connection of ours closes, logs at most one line a second, and counts every failed accept.
//
// stop() (draining) first drops new SYNs with a socket filter - a client arriving now retries its
// SYN and is then refused, cleanly - but lets handshakes already under way complete (their ACK
// passes), and keeps accepting while such handshakes remain (at most the close linger) and until
// the queue is empty, so that every client that completed a handshake gets a session and a clean
// 503 rather than the reset the kernel sends for a queued connection when the listener closes
// (gunicorn#3397). With nothing under way it closes at once. If draining ends first (its
// deadline), close_now() closes it and counts what was still queued as reset.
#include "app_state.hpp"

#include "lastcall/coordinator/drain_tracker.hpp"
#include "log.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>

#include <atomic>
#include <chrono>

namespace lastcall::server {

class Listener {
public:
    // Binds and listens at once; throws boost::system::system_error (port in use...).
    Listener(boost::asio::io_context& io, AppState& app, const boost::asio::ip::tcp::endpoint& endpoint);
    // Adopts an inherited socket (--listen-fd: socket activation, a prefork master's workers).
    // Throws std::runtime_error unless it is a listening TCP socket.
    Listener(boost::asio::io_context& io, AppState& app, int listening_fd);
    boost::asio::ip::tcp::endpoint local_endpoint() const { return acceptor_.local_endpoint(); }
    void start();
    // Each safe from any thread.
    void stop();
    // A retiring prefork worker: closes its copy of the shared socket at once, no SYN filter, no
    // backlog accounting: the queue belongs to the workers that stay.
    void retire();
    void close_now();
    void connection_closed();

private:
    enum class State { running, stopping, closed };
    using Clock = std::chrono::steady_clock;

    void accept_next();
    void on_accepted(const boost::system::error_code& ec, boost::asio::ip::tcp::socket socket);
    void pause(const boost::system::error_code& ec);
    void resume();
    void accept_queued();
    void close_if_done();
    void close_counting_backlog();
    std::size_t queued_in_kernel();
    void drop_new_syns();

    boost::asio::io_context& io_;
    AppState& app_;
    boost::asio::strand<boost::asio::io_context::executor_type> strand_;
    boost::asio::ip::tcp::acceptor acceptor_;
    boost::asio::steady_timer backoff_timer_;
    boost::asio::steady_timer linger_timer_;
    unsigned short port_ = 0;
    int family_ = 0;  // AF_INET or AF_INET6: the one family its handshakes are asked in

    // On the strand.
    State state_ = State::running;
    bool accept_pending_ = false;
    bool paused_ = false;
    Clock::time_point linger_until_{};
    Clock::duration backoff_{};
    Clock::time_point paused_since_{};
    std::uint64_t failures_unlogged_ = 0;
    std::uint64_t accepted_while_stopping_ = 0;
    log::Limiter failure_log_{std::chrono::seconds(1)};
    coordinator::DrainTracker::Guard stop_hold_;  // draining waits for the listener: stopping, or a retire's last accept

    std::atomic<bool> paused_flag_{false};  // read off the strand by connection_closed()
};

} // namespace lastcall::server

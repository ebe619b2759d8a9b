#include "listener.hpp"

#include "handshakes.hpp"
#include "http_session.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>

#include <algorithm>
#include <cerrno>
#include <stdexcept>
#include <string>
#include <cstring>
#include <fcntl.h>
#include <fmt/format.h>
#include <linux/filter.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

namespace lastcall::server {

namespace net = boost::asio;
using tcp = net::ip::tcp;
using coordinator::ConnectionEvent;
using namespace std::chrono_literals;

namespace {

constexpr auto first_backoff = 10ms;
constexpr auto longest_backoff = 1s;
constexpr auto handshake_recheck = 5ms;

// accept() failed for want of a resource: the connection stays queued, so retrying at once spins.
bool out_of_resources(const boost::system::error_code& ec) {
    namespace errc = boost::system::errc;
    return ec == errc::too_many_files_open || ec == errc::too_many_files_open_in_system ||
           ec == errc::no_buffer_space || ec == errc::not_enough_memory;
}

double ms(std::chrono::steady_clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

} // namespace

Listener::Listener(net::io_context& io, AppState& app, const tcp::endpoint& endpoint)
    : io_(io), app_(app), strand_(net::make_strand(io)), acceptor_(strand_), backoff_timer_(strand_), linger_timer_(strand_) {
    acceptor_.open(endpoint.protocol());
    acceptor_.set_option(net::socket_base::reuse_address(true));
    acceptor_.bind(endpoint);
    acceptor_.listen(net::socket_base::max_listen_connections);
    port_ = acceptor_.local_endpoint().port();
    family_ = acceptor_.local_endpoint().protocol().family();
}

Listener::Listener(net::io_context& io, AppState& app, int listening_fd)
    : io_(io), app_(app), strand_(net::make_strand(io)), acceptor_(strand_), backoff_timer_(strand_), linger_timer_(strand_) {
    int listening = 0;
    int type = 0;
    socklen_t size = sizeof(int);
    sockaddr_storage address{};
    socklen_t address_size = sizeof(address);
    if (::getsockopt(listening_fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &size) != 0 ||
        ::getsockopt(listening_fd, SOL_SOCKET, SO_TYPE, &type, &size) != 0 ||
        ::getsockname(listening_fd, reinterpret_cast<sockaddr*>(&address), &address_size) != 0) {
        throw std::runtime_error(fmt::format("--listen-fd {}: not a socket: {}", listening_fd, std::strerror(errno)));
    }
    if (type != SOCK_STREAM || (address.ss_family != AF_INET && address.ss_family != AF_INET6) || !listening) {
        throw std::runtime_error(fmt::format("--listen-fd {}: not a listening TCP socket", listening_fd));
    }
    ::fcntl(listening_fd, F_SETFD, FD_CLOEXEC);  // ours now: not for the processes we start
    acceptor_.assign(address.ss_family == AF_INET ? tcp::v4() : tcp::v6(), listening_fd);
    port_ = acceptor_.local_endpoint().port();
    family_ = acceptor_.local_endpoint().protocol().family();
}

void Listener::start() {
    net::post(strand_, [this] { accept_next(); });
}

void Listener::accept_next() {
    if (state_ == State::closed || accept_pending_ || paused_) return;
    accept_pending_ = true;
    // With one io thread every handler already runs in turn: a strand per connection would only add
    // a queue and a trip through the scheduler to each completion (the idle wait's, every request).
    const auto executor = app_.config.threads == 1 ? net::any_io_executor(io_.get_executor()) : net::any_io_executor(net::make_strand(io_));
    acceptor_.async_accept(executor, [this](const boost::system::error_code& ec, tcp::socket socket) {
        accept_pending_ = false;
        on_accepted(ec, std::move(socket));
    });
}

void Listener::on_accepted(const boost::system::error_code& ec, tcp::socket socket) {
    if (state_ == State::closed) {
        // Accepted by the reactor as the listener closed: the client completed its handshake, so it
        // gets a session (and a clean 503, or, when retiring, its answer), never a reset from a
        // dropped socket.
        if (!ec) start_session(std::move(socket), app_);
        stop_hold_.release();
        return;
    }
    if (ec == net::error::operation_aborted) return;
    if (out_of_resources(ec)) return pause(ec);
    if (!ec) {
        if (paused_since_ != Clock::time_point{}) {
            const auto paused = Clock::now() - paused_since_;
            app_.coordinator.connections().note_accept_paused(paused);
            paused_since_ = {};
            if (failure_log_.admit(Clock::now())) log::info("accepting again").field("paused_ms", ms(paused));
        }
        backoff_ = {};
        if (state_ == State::stopping) ++accepted_while_stopping_;
        start_session(std::move(socket), app_);
    }
    // Any other error (the client reset before accept: ECONNABORTED) concerns that client only.
    accept_next();
    close_if_done();
}

void Listener::pause(const boost::system::error_code& ec) {
    app_.coordinator.connections().note(ConnectionEvent::accept_failed);
    ++failures_unlogged_;
    if (paused_since_ == Clock::time_point{}) paused_since_ = Clock::now();
    backoff_ = backoff_ == Clock::duration{} ? Clock::duration(first_backoff) : std::min<Clock::duration>(backoff_ * 2, longest_backoff);
    if (const auto held_back = failure_log_.admit(Clock::now())) {
        log::warn("accept failed, backing off")
            .field("error", ec.message())
            .field("failures", std::exchange(failures_unlogged_, 0))
            .field("lines_held_back", *held_back)
            .field("backoff_ms", ms(backoff_));
    }
    paused_ = true;
    paused_flag_.store(true, std::memory_order_relaxed);
    backoff_timer_.expires_after(backoff_);
    backoff_timer_.async_wait([this](const boost::system::error_code& wait_error) {
        if (!wait_error) resume();
    });
}

void Listener::resume() {
    if (!paused_) return;
    paused_ = false;
    paused_flag_.store(false, std::memory_order_relaxed);
    backoff_timer_.cancel();
    accept_next();
}

void Listener::connection_closed() {
    if (!paused_flag_.load(std::memory_order_relaxed)) return;
    net::post(strand_, [this] { resume(); });
}

void Listener::drop_new_syns() {
    // Classic BPF on the listener sees each segment from its TCP header: a SYN without ACK starts a
    // new connection and is dropped (the client retries, then meets a closed port: refused); the
    // ACK that completes a handshake already under way passes, so that connection can be accepted.
    sock_filter program[] = {
        {BPF_LD | BPF_B | BPF_ABS, 0, 0, 13},            // TCP flags
        {BPF_ALU | BPF_AND | BPF_K, 0, 0, 0x12},         // SYN | ACK
        {BPF_JMP | BPF_JEQ | BPF_K, 0, 1, 0x02},         // SYN alone?
        {BPF_RET | BPF_K, 0, 0, 0},                      // drop
        {BPF_RET | BPF_K, 0, 0, 0xffffffff},             // keep
    };
    sock_fprog filter{static_cast<unsigned short>(std::size(program)), program};
    if (::setsockopt(acceptor_.native_handle(), SOL_SOCKET, SO_ATTACH_FILTER, &filter, sizeof filter) != 0) {
        log::warn("cannot filter new connections on the listener").field("error", std::strerror(errno));
    }
}

void Listener::stop() {
    // Holds draining open until the listener has closed (each accepted session then holds itself).
    auto hold = std::make_shared<coordinator::DrainTracker::Guard>(app_.coordinator.drain().hold());
    net::post(strand_, [this, hold] {
        if (state_ != State::running) return;
        state_ = State::stopping;
        stop_hold_ = std::move(*hold);
        drop_new_syns();
        linger_until_ = Clock::now() + app_.coordinator.config().budgets.close_linger;
        accept_next();
        close_if_done();
    });
}

void Listener::retire() {
    // Holds draining open until this copy of the socket is closed and its last accept has come
    // back: a connection accepted meanwhile gets its session, and the session's own hold, before
    // draining can end. Without it a retiring worker could finish draining, accept one more
    // connection, and exit under it (the client saw EOF in 3 of 30 reloads under load).
    auto hold = std::make_shared<coordinator::DrainTracker::Guard>(app_.coordinator.drain().hold());
    net::post(strand_, [this, hold] {
        if (state_ != State::running) return;
        state_ = State::closed;
        boost::system::error_code ignored;
        acceptor_.close(ignored);
        backoff_timer_.cancel();
        paused_flag_.store(false, std::memory_order_relaxed);
        if (accept_pending_) stop_hold_ = std::move(*hold);  // released when that accept comes back
        log::info("listener retired: the shared queue stays with the other workers");
    });
}

void Listener::accept_queued() {
    boost::system::error_code ec;
    acceptor_.non_blocking(true, ec);
    for (;;) {
        tcp::socket socket(net::make_strand(io_));
        acceptor_.accept(socket, ec);
        if (ec) break;
        ++accepted_while_stopping_;
        start_session(std::move(socket), app_);
    }
    if (out_of_resources(ec) && !paused_ && !accept_pending_) pause(ec);
}

void Listener::close_if_done() {
    if (state_ != State::stopping) return;
    accept_queued();
    // Still queued: out of descriptors; sessions closing free them, or draining's deadline ends it.
    if (queued_in_kernel() > 0) return;
    // A handshake under way completes within a round trip; each completion wakes the pending
    // accept, and a short timer looks again, until the close linger is over.
    const auto now = Clock::now();
    // Unknown (no sock_diag): lingered for, as for one under way.
    if (now < linger_until_ && handshakes_under_way(port_, family_).value_or(1) > 0) {
        linger_timer_.expires_after(std::min<Clock::duration>(handshake_recheck, linger_until_ - now));
        linger_timer_.async_wait([this](const boost::system::error_code& ec) {
            if (!ec) close_if_done();
        });
        return;
    }
    close_counting_backlog();
}

void Listener::close_now() {
    net::post(strand_, [this] { close_counting_backlog(); });
}

std::size_t Listener::queued_in_kernel() {
    // For a listening socket Linux reports its accept queue's length in tcpi_unacked.
    tcp_info info{};
    socklen_t length = sizeof info;
    if (::getsockopt(acceptor_.native_handle(), IPPROTO_TCP, TCP_INFO, &info, &length) != 0) return 0;
    return info.tcpi_unacked;
}

void Listener::close_counting_backlog() {
    if (state_ == State::closed) return;
    if (state_ == State::stopping) accept_queued();
    const auto reset = acceptor_.is_open() ? queued_in_kernel() : 0;
    if (reset > 0) {
        app_.coordinator.connections().note(ConnectionEvent::reset_in_backlog, reset);
        log::warn("listener closed with connections still queued: the kernel resets them").field("queued", static_cast<std::uint64_t>(reset));
    }
    state_ = State::closed;
    boost::system::error_code ignored;
    acceptor_.close(ignored);
    backoff_timer_.cancel();
    linger_timer_.cancel();
    paused_flag_.store(false, std::memory_order_relaxed);
    log::info("listener closed").field("accepted_while_closing", accepted_while_stopping_).field("reset_in_backlog", static_cast<std::uint64_t>(reset));
    stop_hold_.release();
}

} // namespace lastcall::server

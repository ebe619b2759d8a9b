#include "listener.hpp"

#include "http_session.hpp"
#include "log.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>

#include <cerrno>
#include <cstring>
#include <linux/filter.h>
#include <sys/socket.h>

namespace lastcall::server {

namespace net = boost::asio;
using tcp = net::ip::tcp;

Listener::Listener(net::io_context& io, AppState& app, const tcp::endpoint& endpoint)
    : io_(io), app_(app), strand_(net::make_strand(io)), acceptor_(strand_), retry_timer_(strand_) {
    acceptor_.open(endpoint.protocol());
    acceptor_.set_option(net::socket_base::reuse_address(true));
    acceptor_.bind(endpoint);
    acceptor_.listen(net::socket_base::max_listen_connections);
}

void Listener::start() {
    net::post(strand_, [this] { accept_next(); });
}

void Listener::accept_next() {
    acceptor_.async_accept(net::make_strand(io_), [this](const boost::system::error_code& ec, tcp::socket socket) {
        if (stopped_) {
            // Accepted by the reactor as stop() ran: the client completed its handshake, so it gets
            // a session (and a clean 503), never a reset from a dropped socket.
            if (!ec) start_session(std::move(socket), app_);
            return;
        }
        if (ec) {
            // Out of descriptors and the like: back off instead of spinning on the error.
            log::warn("accept failed").field("error", ec.message());
            retry_timer_.expires_after(std::chrono::milliseconds(50));
            retry_timer_.async_wait([this](const boost::system::error_code& wait_error) {
                if (!wait_error && !stopped_) accept_next();
            });
            return;
        }
        start_session(std::move(socket), app_);
        accept_next();
    });
}

void Listener::stop() {
    // Holds the drain open until the backlog's sessions exist (each then holds itself).
    auto guard = std::make_shared<coordinator::DrainTracker::Guard>(app_.coordinator.drain().track_request());
    net::post(strand_, [this, guard] {
        if (stopped_) return;
        stopped_ = true;
        boost::system::error_code ec;
        // Drop every new SYN first: a client arriving now retries its SYN and is then refused
        // (clean), instead of completing a handshake between our last accept and close() and
        // getting a reset (failure mode 2, gunicorn#3397). Then accept the whole queue.
        sock_filter drop_all{BPF_RET | BPF_K, 0, 0, 0};
        sock_fprog program{1, &drop_all};
        if (::setsockopt(acceptor_.native_handle(), SOL_SOCKET, SO_ATTACH_FILTER, &program, sizeof program) != 0) {
            log::warn("cannot filter new connections on the listener").field("error", std::strerror(errno));
        }
        acceptor_.non_blocking(true, ec);
        std::size_t from_backlog = 0;
        for (;;) {
            tcp::socket socket(net::make_strand(io_));
            acceptor_.accept(socket, ec);
            if (ec) break;
            start_session(std::move(socket), app_);
            ++from_backlog;
        }
        acceptor_.close(ec);
        retry_timer_.cancel();
        log::info("listener closed").field("accepted_from_backlog", static_cast<std::uint64_t>(from_backlog));
    });
}

} // namespace lastcall::server

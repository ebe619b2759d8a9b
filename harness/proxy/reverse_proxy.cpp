#include "proxy/reverse_proxy.hpp"

#include "proxy/proxy_session.hpp"
#include "proxy/proxy_state.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

#include <future>
#include <thread>

namespace lastcall::harness::proxy {

namespace net = boost::asio;
using tcp = net::ip::tcp;

struct ReverseProxy::Impl {
    Impl(const HostAddress& address, std::uint16_t target_port, const ProxyConfig& config, Time run_start)
        : state(config, tcp::endpoint(net::ip::make_address(address.literal()), target_port), run_start),
          acceptor(io, tcp::endpoint(state.target.address(), 0)), removal(io) {}

    void accept_next();
    void close_everything();

    // Declared first, destroyed last: the sockets below belong to it. stop() lets every
    // coroutine end before anything here is destroyed.
    net::io_context io;
    ProxyState state;
    tcp::acceptor acceptor;
    net::steady_timer removal;
    std::thread thread;
    bool stopped = false;
};

void ReverseProxy::Impl::accept_next() {
    acceptor.async_accept([this](const boost::system::error_code& ec, tcp::socket socket) {
        if (ec || state.stopping) return;  // closed by stop(); a failed accept (EMFILE) ends the proxy's intake, said by the load's errors
        net::co_spawn(io, serve_client(state, std::move(socket)), net::detached);
        accept_next();
    });
}

void ReverseProxy::Impl::close_everything() {
    state.stopping = true;
    boost::system::error_code ignored;
    acceptor.close(ignored);
    removal.cancel();
    state.pool.close_idle();
    for (auto* session : state.sessions) cut_session(*session);
}

ReverseProxy::ReverseProxy(const HostAddress& target, std::uint16_t target_port, const ProxyConfig& config, Time run_start)
    : impl_(std::make_unique<Impl>(target, target_port, config, run_start)) {
    impl_->accept_next();
    impl_->thread = std::thread([this] { impl_->io.run(); });
}

ReverseProxy::~ReverseProxy() { stop(); }

std::uint16_t ReverseProxy::port() const { return impl_->acceptor.local_endpoint().port(); }

void ReverseProxy::remove_endpoint_at(Time when) {
    if (impl_->state.schedule.removal_planned()) return;  // a second signal changes nothing for the load balancer
    impl_->state.schedule.remove_at(when);
    net::post(impl_->io, [m = impl_.get(), when] {
        m->removal.expires_at(when);
        m->removal.async_wait([m](const boost::system::error_code& ec) {
            if (!ec) m->state.pool.close_idle();  // in-flight ones finish; they are not pooled again
        });
    });
}

bool ReverseProxy::removal_pending(Time now) const {
    return impl_->state.schedule.removal_planned() && impl_->state.schedule.routable(now);
}

void ReverseProxy::endpoint_up() {
    impl_->state.schedule.restore();
    net::post(impl_->io, [m = impl_.get()] { m->removal.cancel(); });
}

void ReverseProxy::stop() {
    if (!impl_ || impl_->stopped) return;
    impl_->stopped = true;
    net::post(impl_->io, [m = impl_.get()] { m->close_everything(); });
    // Everything it waits on is closed now: run() returns once the coroutines have ended.
    if (impl_->thread.joinable()) impl_->thread.join();
}

std::vector<ProxyRecord> ReverseProxy::take_records() { return std::move(impl_->state.records); }

std::vector<std::string> ReverseProxy::errors() const { return impl_->state.errors; }

} // namespace lastcall::harness::proxy

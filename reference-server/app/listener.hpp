#pragma once
// The accepting socket. stop() first accepts whatever the kernel already queued (so a connection
// that completed its handshake gets a clean 503, not a reset: gunicorn#3397), then closes.
#include "app_state.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>

namespace lastcall::server {

class Listener {
public:
    // Binds and listens at once; throws boost::system::system_error (port in use...).
    Listener(boost::asio::io_context& io, AppState& app, const boost::asio::ip::tcp::endpoint& endpoint);
    boost::asio::ip::tcp::endpoint local_endpoint() const { return acceptor_.local_endpoint(); }
    void start();
    void stop();  // safe from any thread

private:
    void accept_next();

    boost::asio::io_context& io_;
    AppState& app_;
    boost::asio::strand<boost::asio::io_context::executor_type> strand_;
    boost::asio::ip::tcp::acceptor acceptor_;
    boost::asio::steady_timer retry_timer_;
    bool stopped_ = false;
};

} // namespace lastcall::server

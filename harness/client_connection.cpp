#include "client_connection.hpp"

#include <cerrno>
#include <sys/socket.h>

namespace lastcall::harness {

void ClientConnection::close() {
    stop_watching();
    boost::system::error_code ignored;
    stream.socket().shutdown(boost::asio::ip::tcp::socket::shutdown_both, ignored);
    stream.close();
    open = false;
}

bool ClientConnection::peer_closed() {
    boost::system::error_code ec;
    const auto waiting = stream.socket().available(ec);
    if (ec) return true;
    if (waiting > 0) return false;
    char byte;
    const auto n = ::recv(stream.socket().native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
    return n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK);
}

std::optional<IdleEnd> ClientConnection::idle_state() {
    boost::system::error_code ec;
    if (stream.socket().available(ec) > 0 && !ec) return IdleEnd::unsolicited_data;  // even when a close follows it
    if (peer_closed()) return IdleEnd::closed;
    return std::nullopt;
}

void ClientConnection::stop_watching() {
    if (!watching_) return;
    watching_ = false;
    ++watch_generation_;
    boost::system::error_code ignored;
    stream.socket().cancel(ignored);
}

} // namespace lastcall::harness

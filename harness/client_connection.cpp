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

std::optional<IdleEnd> ClientConnection::idle_event() {
    char byte;
    const auto n = ::recv(stream.socket().native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
    if (n > 0) return IdleEnd::unsolicited_data;  // even when a close follows it
    if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) return IdleEnd::closed;
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

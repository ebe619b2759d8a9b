#include "client_connection.hpp"

#include <cerrno>

#include <unistd.h>
#include <sys/socket.h>

namespace lastcall::harness {

void ClientConnection::close() {
    stop_watching();
    readable.forget();
    boost::system::error_code ignored;
    if (own_fd_ >= 0) {
        ::shutdown(own_fd_, SHUT_RDWR);
        ::close(own_fd_);
        own_fd_ = -1;
    } else {
        socket.shutdown(boost::asio::ip::tcp::socket::shutdown_both, ignored);
        socket.close(ignored);
    }
    open = false;
    waited_ = false;
    // A pending timer wait would keep the worker's io_context running after the run's end.
    expires_never();
    if (armed_for_ != Clock::time_point::max()) {
        ++timer_generation_;
        armed_for_ = Clock::time_point::max();
        deadline_timer_.cancel();
    }
}

bool ClientConnection::leave_asio(const boost::asio::ip::tcp& protocol) {
    if (own_fd_ >= 0 || !readable.registered()) return own_fd_ >= 0;
    boost::system::error_code ec;
    const int fd = socket.release(ec);  // epoll_ctl(DEL) from Asio's set; the descriptor stays open
    if (ec || fd < 0) return false;
    own_fd_ = fd;
    protocol_ = protocol;
    return true;
}

boost::asio::ip::tcp::socket& ClientConnection::asio_socket() {
    if (own_fd_ >= 0) {
        boost::system::error_code ec;
        socket.assign(protocol_, own_fd_, ec);  // epoll_ctl(ADD) to Asio's set
        if (!ec) own_fd_ = -1;
        // Refused (no memory for Asio's state): the socket stays ours and Asio's operation on the
        // closed socket object ends with bad_descriptor, a write error.
    }
    return socket;
}

std::size_t ClientConnection::send_some(std::string_view bytes, boost::system::error_code& ec) {
    ec = {};
    for (;;) {
        const auto n = ::send(fd(), bytes.data(), bytes.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n >= 0) return static_cast<std::size_t>(n);
        if (errno == EINTR) continue;
        if (errno != EAGAIN && errno != EWOULDBLOCK) ec = {errno, boost::system::system_category()};
        return 0;
    }
}

std::optional<IdleEnd> ClientConnection::idle_event() {
    char byte;
    const auto n = ::recv(fd(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
    if (n > 0) return IdleEnd::unsolicited_data;  // even when a close follows it
    if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) return IdleEnd::closed;
    return std::nullopt;
}

std::optional<IdleEnd> ClientConnection::idle_end_before_reuse() {
    stop_watching();
    if (!open || !waited_) return std::nullopt;
    waited_ = false;
    return idle_event();
}

void ClientConnection::stop_watching() {
    if (!watching_) return;
    watching_ = false;
    ++watch_generation_;
    boost::system::error_code ignored;
    socket.cancel(ignored);
    readable.cancel();  // the watch of a socket out of Asio's reactor (nothing else waits now)
}

void ClientConnection::expires_at(Clock::time_point deadline) {
    deadline_ = deadline;
    timed_out_ = false;
    // A later deadline is taken up when the pending wait fires; only an earlier one re-arms now.
    if (deadline_ < armed_for_) arm_deadline_timer();
}

void ClientConnection::arm_deadline_timer() {
    armed_for_ = deadline_;
    deadline_timer_.expires_at(deadline_);  // a wait still pending ends aborted, and is stale below
    deadline_timer_.async_wait([this, generation = ++timer_generation_](const boost::system::error_code& ec) {
        if (ec || generation != timer_generation_) return;
        armed_for_ = Clock::time_point::max();
        if (deadline_ == Clock::time_point::max()) return;  // nothing under way: the next request arms it
        if (Clock::now() < deadline_) return arm_deadline_timer();  // moved on since it was armed
        deadline_ = Clock::time_point::max();
        timed_out_ = true;
        boost::system::error_code ignored;
        socket.cancel(ignored);
        readable.cancel();
    });
}

} // namespace lastcall::harness

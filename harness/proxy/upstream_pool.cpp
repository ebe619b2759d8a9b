#include "proxy/upstream_pool.hpp"

#include <algorithm>
#include <cerrno>
#include <sys/socket.h>

namespace lastcall::harness::proxy {

bool idle_connection_usable(int fd) {
    char byte = 0;
    const auto n = ::recv(fd, &byte, 1, MSG_PEEK | MSG_DONTWAIT);
    // 0: the target closed it; > 0: an unsolicited byte (HTTP/1.1 has none); an error other than
    // "nothing to read" (ECONNRESET) ends it too.
    return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
}

UpstreamPool::~UpstreamPool() { close_idle(); }

std::shared_ptr<UpstreamConnection> UpstreamPool::acquire(SteadyClock::time_point now) {
    while (!idle_.empty()) {
        auto connection = std::move(idle_.back());
        idle_.pop_back();
        boost::system::error_code ec;
        connection->stream.socket().cancel(ec);  // its watch ends (operation_aborted)
        const bool fresh = now - connection->idle_since < idle_timeout_;
        if (fresh && connection->stream.socket().is_open() && idle_connection_usable(connection->stream.socket().native_handle())) {
            return connection;
        }
        if (fresh) ++closed_while_idle_;
        connection->stream.close();
    }
    return nullptr;
}

void UpstreamPool::release(std::shared_ptr<UpstreamConnection> connection, SteadyClock::time_point now) {
    if (max_idle_ == 0) {
        connection->stream.close();
        return;
    }
    if (idle_.size() >= max_idle_) {
        idle_.front()->stream.close();
        idle_.erase(idle_.begin());
    }
    connection->idle_since = now;
    connection->stream.expires_never();
    idle_.push_back(std::move(connection));
    watch(idle_.back());
}

void UpstreamPool::close_idle() {
    for (auto& connection : idle_) connection->stream.close();
    idle_.clear();
}

void UpstreamPool::watch(const std::shared_ptr<UpstreamConnection>& connection) {
    std::weak_ptr<UpstreamConnection> weak = connection;
    connection->stream.socket().async_wait(boost::asio::socket_base::wait_read, [this, weak](const boost::system::error_code& ec) {
        const auto c = weak.lock();
        if (ec || !c || !c->stream.socket().is_open()) return;
        if (std::none_of(idle_.begin(), idle_.end(), [&](const auto& held) { return held == c; })) return;  // acquired meanwhile
        if (idle_connection_usable(c->stream.socket().native_handle())) return watch(c);  // a spurious wake-up
        ++closed_while_idle_;
        drop(c.get());
    });
}

void UpstreamPool::drop(const UpstreamConnection* connection) {
    const auto it = std::find_if(idle_.begin(), idle_.end(), [&](const auto& held) { return held.get() == connection; });
    if (it == idle_.end()) return;
    (*it)->stream.close();
    idle_.erase(it);
}

} // namespace lastcall::harness::proxy

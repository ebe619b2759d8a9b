#include "idle_wait.hpp"

#include "block_cache.hpp"

#include <boost/asio/bind_allocator.hpp>

#include <memory>

namespace lastcall::server {

namespace beast = boost::beast;
namespace net = boost::asio;
using tcp = net::ip::tcp;

namespace {

// Asio gives a handler memory from a per-thread cache that hands any large enough block (a
// finished read's, 730 bytes) to a small wait: idle connections then kept 730 bytes each for a
// 100-byte wait. The two idle waits, which last, take blocks of their own size instead.
template <class T>
using ExactAllocator = CachedAllocator<T>;

// The idle timeout's timer, armed lazily: it stays pending across requests and, when it fires,
// looks at the idle period in progress (if any) and either ends it or waits again for its end.
// Arming and cancelling it around every idle period, as before, cost a timer-queue insert and
// removal, an allocation and one more handler run per request on a busy keep-alive connection.
// It does not own the connection: a connection that ends takes its timer with it.
void arm_idle_timer(const ConnectionPtr& c, std::chrono::steady_clock::time_point deadline) {
    c->idle_timer_armed = true;
    c->idle_timer.expires_at(deadline);
    c->idle_timer.async_wait(net::bind_allocator(ExactAllocator<void>(), [weak = std::weak_ptr<Connection>(c)](const beast::error_code& ec) {
        const auto connection = weak.lock();
        if (!connection) return;
        connection->idle_timer_armed = false;
        if (ec || connection->closed || !connection->waiting_for_request) return;  // busy: its next idle period arms it
        const auto idle_end = connection->idle_since + connection->app.config.idle_timeout;
        if (std::chrono::steady_clock::now() < idle_end) {
            arm_idle_timer(connection, idle_end);  // busy meanwhile, and idle again since
            return;
        }
        beast::error_code ignored;
        connection->stream.socket().cancel(ignored);  // the wait ends with operation_aborted
    }));
}

} // namespace

void wait_for_next_request(const ConnectionPtr& c, ConnectionStep request_came, ConnectionStep ended) {
    c->buffer.shrink_to_fit();  // what the last request grew goes back before the wait
    c->idle_since = std::chrono::steady_clock::now();
    c->waiting_for_request = true;
    if (!c->idle_timer_armed) arm_idle_timer(c, c->idle_since + c->app.config.idle_timeout);
    // A wait, not a read: Asio re-arms the descriptor for it (EPOLL_CTL_MOD), so bytes that came
    // before it are seen at once.
    c->stream.socket().async_wait(tcp::socket::wait_read, net::bind_allocator(ExactAllocator<void>(), [c, request_came, ended](const beast::error_code& ec) {
        c->waiting_for_request = false;
        beast::error_code ignored;
        // The timeout and the request's first bytes at once: serve it, do not reset it.
        const bool arrived = !ec || (ec == net::error::operation_aborted && !c->closed && c->stream.socket().available(ignored) > 0);
        if (arrived) {
            request_came(c);
        } else if (!c->closed) {  // closed by the server (linger over, drain end): nothing left to do
            ended(c);
        }
    }));
}

} // namespace lastcall::server

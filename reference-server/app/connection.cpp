#include "connection.hpp"

#include "sole_descriptor.hpp"

#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>

namespace lastcall::server {

namespace beast = boost::beast;
namespace net = boost::asio;
using tcp = net::ip::tcp;
using coordinator::ConnectionEvent;

Connection::Connection(tcp::socket socket, AppState& app_state)
    : stream(std::move(socket)), idle_timer(stream.get_executor()), app(app_state) {
    mark_sole_descriptor(stream.socket());  // accepted here, never dup'ed: its close(2) leaves epoll by itself
}

Connection::~Connection() { close(); }

bool Connection::really_idle() {
    beast::error_code ec;
    return idle && !request_started && buffer.size() == 0 && stream.socket().available(ec) == 0 && !ec;
}

void Connection::linger(coordinator::DrainTracker::Guard hold, bool own_handler) {
    if (closed || lingered_) return;  // `hold` goes: one linger is enough
    lingered_ = true;
    linger_hold_ = std::move(hold);
    // --close-linger 0: the linger is over as soon as the session is between requests, with no
    // timer to make, queue and fire for each of 10,000 idle connections at the drain. Called from
    // inside the session (after a response), the session has yet to reach its idle wait: judged one
    // handler later, as the timer's expiry was.
    if (app.coordinator.config().budgets.close_linger <= coordinator::Duration::zero()) {
        if (own_handler) {
            linger_over(1);
        } else {
            net::post(stream.get_executor(), [weak = weak_from_this()] {
                if (const auto c = weak.lock(); c && !c->closed) c->linger_over(1);
            });
        }
        return;
    }
    arm_linger(1);
}

void Connection::arm_linger(int round) {
    if (!linger_timer_) linger_timer_ = std::make_unique<net::steady_timer>(stream.get_executor());
    linger_timer_->expires_after(app.coordinator.config().budgets.close_linger);
    linger_timer_->async_wait([weak = weak_from_this(), round](const beast::error_code& ec) {
        const auto c = weak.lock();
        if (ec || !c || c->closed) return;
        c->linger_over(round);
    });
}

void Connection::linger_over(int round) {
    if (really_idle()) {
        auto& connections = app.coordinator.connections();
        connections.note(ConnectionEvent::closed_after_linger);
        // Nothing is unread (really_idle just asked the kernel): close_by_server's own question
        // would be a second ioctl per connection for the same answer.
        if (!served) connections.note(ConnectionEvent::never_served);
        close();
    } else if (head_read) {
        // A head is in: the session answers it with 503, and the hold goes at the close.
    } else if (round == 1) {
        arm_linger(2);  // bytes of a head arrived: one more linger for the rest of it
    } else {
        linger_hold_.release();  // a slow client, not a request on its way
    }
}

void Connection::close_by_server() {
    if (closed) return;
    auto& connections = app.coordinator.connections();
    if (!served) connections.note(ConnectionEvent::never_served);
    beast::error_code ec;
    if (buffer.size() > 0 || stream.socket().available(ec) > 0) connections.note(ConnectionEvent::reset_request_unread);
    close();
}

void Connection::close() {
    if (closed) return;
    closed = true;
    beast::error_code ignored;
    // close(2) alone sends the FIN (or the reset, with input unread) that a shutdown(2) before it
    // would: that shutdown also woke this socket's own epoll watchers for a socket about to leave
    // the set, and was 15-20% of the kernel's time closing 10,000 idle connections at the drain.
    stream.socket().close(ignored);
    if (stream_timer) stream_timer->cancel();
    if (linger_timer_) linger_timer_->cancel();
    // Out of the registry once closed, not when the last handler lets go of the Connection: a
    // connection closed by its linger, whose aborted wait had not run yet when that close ended
    // draining, was counted (and "closed" again) in closed_at_drain_end. And out of it before its
    // hold goes: that release can end draining, whose end (on another io thread) counted the
    // connection still registered (closed_after_linger 4 + closed_at_drain_end 1 of 4 connections).
    registration.release();
    linger_hold_.release();
    if (app.connection_closed) app.connection_closed();  // a descriptor is free: the listener may accept again
}

coordinator::ConnectionRegistry::Callbacks registry_callbacks(const ConnectionPtr& connection) {
    std::weak_ptr<Connection> weak = connection;
    auto executor = connection->stream.get_executor();
    auto& app = connection->app;
    coordinator::ConnectionRegistry::Callbacks callbacks;
    if (!app.faulty(Fault::keep_idle)) {
        callbacks.on_draining = [weak, executor, &app] {
            // Held before the coordinator looks at the count again, and kept only if the connection
            // turns out to be between requests; a request in progress holds draining itself.
            // Called by a batch on an io thread (server.cpp spreads them): dispatched, it runs at once
            // when the connection's strand is free, as an idle connection's is, with no trip through
            // the queue and no other thread woken for it; a busy strand queues it as a post did.
            net::dispatch(executor, [weak, hold = app.coordinator.drain().hold()]() mutable {
                if (auto c = weak.lock(); c && c->idle) c->linger(std::move(hold), true);
            });
        };
    }
    callbacks.close_now = [weak, executor] {
        net::post(executor, [weak] {
            if (auto c = weak.lock()) c->close_by_server();
        });
    };
    return callbacks;
}

} // namespace lastcall::server

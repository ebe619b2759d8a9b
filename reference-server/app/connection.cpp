#include "connection.hpp"

#include <boost/asio/post.hpp>

namespace lastcall::server {

namespace beast = boost::beast;
namespace net = boost::asio;
using tcp = net::ip::tcp;
using coordinator::ConnectionEvent;

Connection::Connection(tcp::socket socket, AppState& app_state)
    : stream(std::move(socket)), idle_timer(stream.get_executor()), app(app_state) {}

Connection::~Connection() { close(); }

bool Connection::really_idle() {
    beast::error_code ec;
    return idle && !request_started && buffer.size() == 0 && stream.socket().available(ec) == 0 && !ec;
}

void Connection::linger(coordinator::DrainTracker::Guard hold) {
    if (closed || lingered_) return;  // `hold` goes: one linger is enough
    lingered_ = true;
    linger_hold_ = std::move(hold);
    linger_timer_ = std::make_unique<net::steady_timer>(stream.get_executor());
    arm_linger(1);
}

void Connection::arm_linger(int round) {
    linger_timer_->expires_after(app.coordinator.config().budgets.close_linger);
    linger_timer_->async_wait([weak = weak_from_this(), round](const beast::error_code& ec) {
        const auto c = weak.lock();
        if (ec || !c || c->closed) return;
        if (c->really_idle()) {
            c->app.coordinator.connections().note(ConnectionEvent::closed_after_linger);
            c->close_by_server();
        } else if (c->head_read) {
            // A head is in: the session answers it with 503, and the hold goes at the close.
        } else if (round == 1) {
            c->arm_linger(2);  // bytes of a head arrived: one more linger for the rest of it
        } else {
            c->linger_hold_.release();  // a slow client, not a request on its way
        }
    });
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
    stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
    stream.socket().close(ignored);
    if (stream_timer) stream_timer->cancel();
    if (linger_timer_) linger_timer_->cancel();
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
            auto hold = std::make_shared<coordinator::DrainTracker::Guard>(app.coordinator.drain().hold());
            net::post(executor, [weak, hold] {
                if (auto c = weak.lock(); c && c->idle) c->linger(std::move(*hold));
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

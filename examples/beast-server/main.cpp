// A plain Beast server that gains graceful shutdown from lastcall's coordinator. What it adds to
// an ordinary Beast server is marked "lastcall:". Usage: beast-drain-server PORT STATE_DIR
#include <lastcall/coordinator/asio_clock.hpp>
#include <lastcall/coordinator/asio_task.hpp>
#include <lastcall/coordinator/coordinator.hpp>
#include <lastcall/coordinator/io_context.hpp>
#include <lastcall/coordinator/signal_intake.hpp>

#include <boost/asio.hpp>
#include <boost/beast.hpp>

#include <atomic>
#include <charconv>
#include <cstdio>
#include <memory>
#include <string>

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace lc = lastcall::coordinator;
using tcp = net::ip::tcp;
constexpr auto use_tuple = net::as_tuple(net::use_awaitable);

struct Server {
    net::io_context& io;
    lc::Coordinator& coordinator;
    tcp::acceptor& acceptor;
    std::atomic<long> count{0};
};

struct Connection : std::enable_shared_from_this<Connection> {
    explicit Connection(tcp::socket s) : stream(std::move(s)) {}
    beast::tcp_stream stream;
    bool idle = true;
    lc::DrainTracker::Guard linger;  // lastcall: holds draining open while a request may be on its way
};

// lastcall: at drain start an idle keep-alive connection gets a short linger, so that a request
// already on its way is answered (with Connection: close) instead of meeting a closed socket.
lc::ConnectionRegistry::Callbacks on_shutdown(const std::shared_ptr<Connection>& c, Server& server) {
    std::weak_ptr<Connection> weak = c;
    auto executor = c->stream.get_executor();
    return {.on_draining =
                [weak, executor, &server] {
                    auto hold = std::make_shared<lc::DrainTracker::Guard>(server.coordinator.drain().hold());
                    net::post(executor, [weak, hold, &server] {
                        auto live = weak.lock();
                        if (!live || !live->idle) return;
                        live->linger = std::move(*hold);
                        auto timer = std::make_shared<net::steady_timer>(live->stream.get_executor(),
                                                                         server.coordinator.config().budgets.close_linger);
                        timer->async_wait([weak, timer](beast::error_code ec) {
                            if (auto again = weak.lock(); again && !ec && again->idle) again->stream.close();
                        });
                    });
                },
            .close_now = [weak, executor] {
                net::post(executor, [weak] {
                    if (auto live = weak.lock()) live->stream.close();
                });
            }};
}

net::awaitable<void> serve(std::shared_ptr<Connection> c, Server& server) {
    auto registration = server.coordinator.connections().add(on_shutdown(c, server));  // lastcall
    beast::flat_buffer buffer;
    for (;;) {
        c->idle = true;
        http::request<http::string_body> req;
        c->stream.expires_after(std::chrono::seconds(30));
        auto [ec, n] = co_await http::async_read(c->stream, buffer, req, use_tuple);
        c->idle = false;
        if (ec) break;
        http::response<http::string_body> res{http::status::ok, req.version()};
        if (!server.coordinator.accepts_new_requests()) {  // lastcall: a new request while draining
            res.result(http::status::service_unavailable);
            res.set(http::field::retry_after, "1");
        } else {
            auto guard = server.coordinator.drain().track_request();  // lastcall: in flight
            const auto target = std::string(req.target());
            if (target.rfind("/hello", 0) == 0) {
                int ms = 0;
                if (auto at = target.find("ms="); at != std::string::npos) std::from_chars(target.data() + at + 3, target.data() + target.size(), ms);
                net::steady_timer delay(c->stream.get_executor(), std::chrono::milliseconds(ms));
                co_await delay.async_wait(use_tuple);
                res.body() = "hello\n";
            } else if (target == "/count") {
                res.body() = std::to_string(req.method() == http::verb::post ? ++server.count : server.count.load()) + "\n";
            } else {
                res.result(http::status::not_found);
            }
        }
        // lastcall: once draining, every response announces the close.
        res.keep_alive(req.keep_alive() && !server.coordinator.draining());
        res.prepare_payload();
        const bool keep_alive = res.keep_alive();
        auto [write_ec, written] = co_await http::async_write(c->stream, res, use_tuple);
        if (write_ec || !keep_alive) break;
    }
    beast::error_code ignored;
    c->stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
}

net::awaitable<void> accept_loop(Server& server) {
    for (;;) {
        auto [ec, socket] = co_await server.acceptor.async_accept(net::make_strand(server.io), use_tuple);
        if (ec) co_return;  // closed by stop_accepting
        auto c = std::make_shared<Connection>(std::move(socket));
        net::co_spawn(c->stream.get_executor(), serve(c, server), net::detached);
    }
}

// lastcall: a background task that stops when shutdown cancels it.
net::awaitable<void> ticker() {
    co_await net::this_coro::reset_cancellation_state(net::enable_total_cancellation());
    net::steady_timer timer(co_await net::this_coro::executor);
    for (;;) {
        timer.expires_after(std::chrono::milliseconds(100));
        if (auto [ec] = co_await timer.async_wait(use_tuple); ec) co_return;
    }
}

int main(int argc, char** argv) {
    if (argc != 3) {
        std::fprintf(stderr, "usage: beast-drain-server PORT STATE_DIR\n");
        return 2;
    }
    const std::filesystem::path state_dir = argv[2];
    std::filesystem::create_directories(state_dir);
    lc::IoContext io;  // lastcall: an io_context that can drop its leftovers before the coordinator goes
    tcp::acceptor acceptor(io, {net::ip::make_address("127.0.0.1"), static_cast<unsigned short>(std::stoi(argv[1]))});

    // lastcall: clock, coordinator, checkpoint, hooks, resources, tasks, signals.
    lc::AsioClock clock(io);
    lc::ShutdownConfig config;
    config.report_path = state_dir / "shutdown-report.json";
    config.budgets.tasks = std::chrono::milliseconds(500);  // the ticker never ends on its own: cancel it soon
    lc::Coordinator coordinator(clock, config);
    lc::Checkpointer checkpointer(state_dir / "count.checkpoint");
    Server server{io, coordinator, acceptor};
    try {
        if (auto loaded = checkpointer.load(lc::Checkpointer::Fallback::refuse, [](const std::string& p) { std::stol(p); })) {
            server.count = std::stol(loaded->payload);
        }
    } catch (const std::exception& e) {
        std::fprintf(stderr, "beast-drain-server: %s\n", e.what());
        return 3;
    }
    coordinator.set_checkpointer(&checkpointer);
    int exit_code = 0;
    coordinator.set_hooks({
        .stop_accepting = [&] { net::post(io, [&] { acceptor.close(); }); },
        .snapshot = [&] { return std::optional<std::string>(std::to_string(server.count.load())); },
        .exited =
            [&](const lc::ShutdownReport& report, const std::string&) {
                exit_code = report.exit_code;
                io.stop();
            },
    });
    coordinator.resources().add_blocking("log", std::chrono::seconds(1), [] { std::fflush(stderr); });
    lc::spawn_tracked_task(coordinator.tasks(), "ticker", net::make_strand(io), ticker());
    lc::SignalIntake signals(io, coordinator);

    std::printf("listening 127.0.0.1:%u\n", acceptor.local_endpoint().port());
    std::fflush(stdout);
    net::co_spawn(io, accept_loop(server), net::detached);
    io.run();
    io.destroy_pending_work();  // lastcall: what the queue still holds goes while the coordinator lives
    return exit_code;
}

#include "proxy/proxy_session.hpp"

#include "proxy/upstream_failure.hpp"
#include "response_reader.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <fmt/format.h>

#include <sstream>

namespace lastcall::harness::proxy {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;
constexpr auto use_tuple = net::as_tuple(net::use_awaitable);

namespace {

constexpr std::size_t read_size = 16 * 1024;
constexpr std::uint32_t request_head_limit = 64 * 1024;
constexpr std::uint64_t request_body_limit = 16 * 1024 * 1024;
constexpr auto client_idle_limit = std::chrono::seconds(120);  // between two requests of a client
constexpr auto own_answer_limit = std::chrono::seconds(5);     // writing the proxy's own response
constexpr std::size_t target_kept = 200;
constexpr std::size_t held_limit = 1024 * 1024;  // interim responses and the head, before relaying

using Request = http::request<http::string_body>;

bool idempotent(http::verb method) {
    return method == http::verb::get || method == http::verb::head || method == http::verb::put || method == http::verb::delete_ ||
           method == http::verb::options || method == http::verb::trace;
}

std::string_view readable(const beast::flat_buffer& buffer) {
    const auto data = buffer.data();
    return {static_cast<const char*>(data.data()), data.size()};
}

// The response's end is its framing (length, chunks) or, without either, the close of the
// connection: then the client's connection must close after it too.
bool framed(const ResponseHead& head, bool head_request) {
    const bool no_body = head_request || head.status == 204 || head.status == 304 || head.status / 100 == 1;
    return no_body || head.chunked || head.content_length.has_value();
}

UpstreamFailure failure_of_connect(const beast::error_code& ec) {
    if (ec == beast::error::timeout) return UpstreamFailure::connect_timeout;
    if (ec == net::error::connection_refused) return UpstreamFailure::refused;
    return UpstreamFailure::connect_error;
}

// The reader ends a response cut by the close as a ReadError too: that is a cut, not a malformation.
UpstreamFailure failure_of_read(ReadError error) {
    switch (error) {
    case ReadError::eof_before_response: return UpstreamFailure::eof_before_response;
    case ReadError::eof_in_head:
    case ReadError::eof_in_body: return UpstreamFailure::eof_mid_response;
    default: return UpstreamFailure::bad_response;
    }
}

} // namespace

class ProxySession {
public:
    ProxySession(ProxyState& state, tcp::socket socket) : state_(state), client_(std::move(socket)), id_(++state.last_client) {
        state_.sessions.insert(this);
    }
    ~ProxySession() { state_.sessions.erase(this); }
    ProxySession(const ProxySession&) = delete;
    ProxySession& operator=(const ProxySession&) = delete;

    net::awaitable<void> run();
    void cut();

private:
    struct Attempt {
        UpstreamFailure failure = UpstreamFailure::none;
        bool reused = false;        // on a pooled connection
        bool relayed_any = false;   // some of the response reached the client
        bool client_gone = false;
        bool client_may_stay = true;  // the relayed response leaves the client's connection open
    };

    net::awaitable<bool> serve(Request& request, ProxyRecord& record);
    net::awaitable<Attempt> attempt(const std::string& wire, bool head_request, ProxyRecord& record);
    net::awaitable<Attempt> relay(UpstreamConnection& upstream, bool head_request, ProxyRecord& record);
    net::awaitable<bool> answer(int status, std::string_view word, const ProxyRecord& record, bool keep_alive);
    void reset_client();

    ProxyState& state_;
    beast::tcp_stream client_;
    std::shared_ptr<UpstreamConnection> upstream_;  // the one in use, if any
    std::uint32_t id_;
    std::uint32_t uses_ = 0;
};

void ProxySession::cut() {
    client_.close();
    if (upstream_) upstream_->stream.close();
}

void cut_session(ProxySession& session) { session.cut(); }

net::awaitable<void> serve_client(ProxyState& state, tcp::socket socket) {
    beast::error_code ignored;
    socket.set_option(tcp::no_delay(true), ignored);
    ProxySession session(state, std::move(socket));
    try {
        co_await session.run();
    } catch (const std::exception& e) {
        // lastcall's own failure, never the target's: said as a harness error, and the client's
        // connection cut (its request is then `dropped` on the client side, and the run fails on
        // harness_errors, which names this).
        state.errors.push_back(fmt::format("proxy client connection: {}", e.what()));
        session.cut();
    }
}

net::awaitable<void> ProxySession::run() {
    beast::flat_buffer buffer;
    while (!state_.stopping) {
        http::request_parser<http::string_body> parser;
        parser.header_limit(request_head_limit);
        parser.body_limit(request_body_limit);
        client_.expires_after(client_idle_limit);
        auto [ec, n] = co_await http::async_read(client_, buffer, parser, use_tuple);
        if (ec) break;  // the client left, or sent what is not a request: lastcall's load never does
        auto request = parser.release();
        ProxyRecord record;
        record.id = ++state_.last_record;
        record.client_connection = id_;
        record.client_reuse = uses_++;
        record.method = std::string(request.method_string());
        record.target = std::string(request.target().substr(0, target_kept));
        record.received_us = state_.since_start_us(SteadyClock::now());
        const bool keep = co_await serve(request, record);
        record.done_us = state_.since_start_us(SteadyClock::now());
        state_.records.push_back(std::move(record));
        if (!keep) break;
    }
    beast::error_code ignored;
    client_.socket().shutdown(tcp::socket::shutdown_send, ignored);
    client_.close();
}

// True: the client's connection stays open for its next request.
net::awaitable<bool> ProxySession::serve(Request& request, ProxyRecord& record) {
    const bool client_keep_alive = request.keep_alive();
    // Judged by the clock once the request is read, not by the removal timer having fired: a
    // proxy thread that runs late under CPU noise still stops routing on time (EndpointSchedule).
    if (!state_.schedule.routable(SteadyClock::now())) {
        record.source = ResponseSource::no_endpoint;
        co_return co_await answer(503, no_endpoint, record, client_keep_alive);
    }
    request.keep_alive(true);  // upstream connections are pooled whatever the client asked of the proxy
    std::ostringstream wire;
    wire << request;
    const bool head_request = request.method() == http::verb::head;
    const bool may_retry = state_.config.retry == ProxyConfig::Retry::idempotent && idempotent(request.method());
    for (int round = 0;; ++round) {
        const auto a = co_await attempt(wire.str(), head_request, record);
        if (a.client_gone) co_return false;
        if (a.failure == UpstreamFailure::none) co_return client_keep_alive && a.client_may_stay;
        record.upstream_failure = std::string(to_string(a.failure));
        if (a.relayed_any) {
            reset_client();  // mid-response: the client must not take a part for the whole
            co_return false;
        }
        // nginx's proxy_next_upstream for a cached connection: the request crossed the target's
        // close of an idle connection and was never seen, so a new connection may carry it again.
        const bool crossed_close = a.failure == UpstreamFailure::reset || a.failure == UpstreamFailure::eof_before_response;
        if (may_retry && round == 0 && a.reused && crossed_close) {
            record.retried = true;
            continue;
        }
        const int status = proxy_status(a.failure);
        record.source = status == 504 ? ResponseSource::proxy_504 : ResponseSource::proxy_502;
        co_return co_await answer(status, to_string(a.failure), record, client_keep_alive);
    }
}

net::awaitable<ProxySession::Attempt> ProxySession::attempt(const std::string& wire, bool head_request, ProxyRecord& record) {
    Attempt a;
    if (state_.stopping) {  // cut by stop(): nothing new starts
        a.failure = UpstreamFailure::reset;
        co_return a;
    }
    const auto now = SteadyClock::now();
    if (record.forwarded_us < 0) record.forwarded_us = state_.since_start_us(now);
    upstream_ = state_.pool.acquire(now);
    a.reused = upstream_ != nullptr;
    if (!upstream_) {
        upstream_ = std::make_shared<UpstreamConnection>(client_.get_executor(), state_.pool.next_id());
        upstream_->stream.expires_after(state_.config.connect_timeout);
        auto [ec] = co_await upstream_->stream.async_connect(state_.target, use_tuple);
        if (ec || state_.stopping) {
            a.failure = failure_of_connect(ec);
            upstream_->stream.close();
            upstream_.reset();
            co_return a;
        }
        beast::error_code ignored;
        upstream_->stream.socket().set_option(tcp::no_delay(true), ignored);
    }
    auto upstream = upstream_;  // kept alive across the awaits below whatever cut() does
    if (record.sent_us < 0) record.sent_us = state_.since_start_us(SteadyClock::now());
    record.upstream_connection = upstream->id;
    record.upstream_reuse = upstream->uses++;
    upstream->stream.expires_after(state_.config.response_timeout);
    if (auto [ec, n] = co_await net::async_write(upstream->stream, net::buffer(wire), use_tuple); ec) {
        a.failure = ec == beast::error::timeout ? UpstreamFailure::timeout : UpstreamFailure::reset;
        upstream->stream.close();
        upstream_.reset();
        co_return a;
    }
    const bool reused = a.reused;
    a = co_await relay(*upstream, head_request, record);
    a.reused = reused;
    upstream_.reset();
    co_return a;
}

net::awaitable<ProxySession::Attempt> ProxySession::relay(UpstreamConnection& upstream, bool head_request, ProxyRecord& record) {
    Attempt a;
    ResponseReader reader;
    reader.begin(head_request, nullptr);
    // Beast's parser consumes a head field by field: what it took is held back until the final
    // head is whole and valid, so a malformed one costs the client nothing but the proxy's 502.
    // Interim responses (1xx) go with it. Then each piece of body goes out as it arrives.
    std::string held;
    beast::error_code read_ec;
    for (;;) {
        if (upstream.buffer.size() > 0) {
            if (record.first_byte_us < 0) record.first_byte_us = state_.since_start_us(SteadyClock::now());
            const auto consumed = reader.feed(readable(upstream.buffer));
            held.append(readable(upstream.buffer).substr(0, consumed));
            upstream.buffer.consume(consumed);
            if (held.size() > held_limit) break;  // endless interim responses: not HTTP as anyone uses it
            if (reader.head_done() && !held.empty()) {
                // As it arrives: a stream's events reach the client when the target sends them.
                client_.expires_after(state_.config.response_timeout);
                auto [ec, n] = co_await net::async_write(client_, net::buffer(held), use_tuple);
                if (ec) {
                    a.client_gone = true;
                    record.client_gone = true;
                    upstream.stream.close();
                    co_return a;
                }
                a.relayed_any = true;
                record.bytes += held.size();
                held.clear();
            }
            if (reader.done() || reader.failed()) break;
        }
        if (read_ec) {
            if (read_ec == net::error::eof) reader.feed_eof();  // a body delimited by the close ends here
            break;
        }
        upstream.stream.expires_after(state_.config.response_timeout);
        auto [ec, n] = co_await upstream.stream.async_read_some(upstream.buffer.prepare(read_size), use_tuple);
        upstream.buffer.commit(n);
        read_ec = ec;
    }
    record.source = ResponseSource::upstream;
    if (reader.done()) {
        const auto& head = reader.head();
        record.upstream_status = head.status;
        a.client_may_stay = head.keep_alive && framed(head, head_request);
        const auto now = SteadyClock::now();
        // Bytes beyond the response answer nothing: that connection is not used again.
        const bool reusable = head.keep_alive && upstream.buffer.size() == 0 && !read_ec && state_.schedule.routable(now) && !state_.stopping;
        if (reusable) state_.pool.release(upstream_, now);
        else upstream.stream.close();
        co_return a;
    }
    upstream.stream.close();
    // What the target said instead of a status line: the run's verdict that it does not speak HTTP
    // (not_http.hpp) is the proxy's to give, as the load only sees the proxy's 502.
    if (reader.failed() && reader.error() == ReadError::bad_status_line) record.not_http.assign(reader.bytes_at_failure().substr(0, 32));
    if (reader.failed()) a.failure = failure_of_read(reader.error());
    else if (held.size() > held_limit) a.failure = UpstreamFailure::bad_response;
    else if (read_ec == beast::error::timeout) a.failure = UpstreamFailure::timeout;
    else if (reader.received_bytes() > 0) a.failure = UpstreamFailure::eof_mid_response;
    else if (read_ec == net::error::eof) a.failure = UpstreamFailure::eof_before_response;
    else a.failure = UpstreamFailure::reset;
    if (a.relayed_any && a.failure != UpstreamFailure::bad_response && a.failure != UpstreamFailure::timeout) {
        a.failure = UpstreamFailure::eof_mid_response;
    }
    co_return a;
}

net::awaitable<bool> ProxySession::answer(int status, std::string_view word, const ProxyRecord& record, bool keep_alive) {
    const std::string body = fmt::format("lastcall proxy: {}\n", word);
    const std::string_view reason = status == 503 ? "Service Unavailable" : status == 504 ? "Gateway Timeout" : "Bad Gateway";
    const std::string response =
        fmt::format("HTTP/1.1 {} {}\r\nContent-Type: text/plain\r\nContent-Length: {}\r\n{}: {}\r\n{}: {}\r\n{}{}\r\n{}", status, reason,
                    body.size(), failure_header, word, record_header, record.id, status == 503 ? "Retry-After: 1\r\n" : "",
                    keep_alive ? "" : "Connection: close\r\n", body);
    client_.expires_after(own_answer_limit);
    auto [ec, n] = co_await net::async_write(client_, net::buffer(response), use_tuple);
    co_return !ec && keep_alive;
}

void ProxySession::reset_client() {
    beast::error_code ignored;
    client_.socket().set_option(net::socket_base::linger(true, 0), ignored);
    client_.close();
}

} // namespace lastcall::harness::proxy

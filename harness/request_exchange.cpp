#include "request_exchange.hpp"

#include "proxy/upstream_failure.hpp"
#include "sha256.hpp"
#include "sse_parser.hpp"
#include "target_json.hpp"
#include "stream_end.hpp"
#include "stream_trail.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/error.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <memory>
#include <optional>

#include <sys/socket.h>

namespace lastcall::harness {

namespace beast = boost::beast;
namespace net = boost::asio;
using Clock = std::chrono::steady_clock;
constexpr auto use_tuple = net::as_tuple(net::use_awaitable);
// Awaited without a coroutine frame of its own (use_awaitable initiates through one): the
// response's reads are the per-request path.
constexpr auto deferred_tuple = net::as_tuple(net::deferred);

namespace {

constexpr std::size_t read_size = 16 * 1024;
constexpr std::size_t reply_body_kept = 4 * 1024;  // the value a contract points at sits in a small reply

// A body as it arrives, never stored whole: a stream's through the SSE tokenizer and its contract,
// a reply's first KiB for the value the contract points at, the digest for expect_body.
struct BodyWatcher final : BodySink {
    BodyWatcher(const ExchangePlan& plan, StreamTrail* trail) {
        if (plan.stream) {
            convention.emplace(*plan.stream);
            ids.emplace(*convention, trail);  // with a trail, each event's id is noted on the way (stream.resume)
            sse.emplace(*ids);
        }
        if (plan.reply_pointer) prefix.emplace(reply_body_kept);
        if (plan.body && plan.body->sha256) digest.emplace();
    }
    void on_body(std::string_view bytes) override {
        if (sse) sse->feed(bytes);
        if (prefix) prefix->on_body(bytes);
        if (digest) digest->update(bytes);
    }
    std::optional<StreamConvention> convention;
    std::optional<EventIdTrail> ids;
    std::optional<SseParser> sse;
    std::optional<BodyPrefix> prefix;
    std::optional<Sha256> digest;
};

// expect_body against a complete 2xx response.
Failure body_failure(const BodyExpectation& want, const ResponseHead& head, std::uint64_t body_bytes, Sha256* digest) {
    if (want.content_length_met && (head.chunked || !head.content_length)) return Failure::body_without_content_length;
    if (want.bytes && body_bytes != *want.bytes) return Failure::body_bytes_mismatch;
    if (want.sha256 && digest && digest->hex_digest() != *want.sha256) return Failure::body_sha256_mismatch;
    return Failure::none;
}

Failure failure_of(const beast::error_code& ec, bool any_bytes) {
    if (ec == beast::error::timeout) return Failure::timeout;
    if (any_bytes) return Failure::eof_mid_response;
    return ec == net::error::eof ? Failure::eof_before_response : Failure::reset;
}

Failure failure_of(ReadError error) {
    switch (error) {
    case ReadError::none: return Failure::none;
    case ReadError::eof_before_response: return Failure::eof_before_response;
    case ReadError::eof_in_head:
    case ReadError::eof_in_body: return Failure::eof_mid_response;
    case ReadError::bad_status_line:
    case ReadError::bad_header:
    case ReadError::unexpected_switch: return Failure::bad_response;
    case ReadError::header_too_large: return Failure::header_too_large;
    case ReadError::bad_length: return Failure::bad_length;
    case ReadError::bad_chunk: return Failure::bad_chunk;
    }
    return Failure::bad_response;
}

// A stream that stopped coming (rather than one that broke the protocol).
bool cut(Failure f) {
    return f == Failure::eof_mid_response || f == Failure::eof_before_response || f == Failure::reset || f == Failure::timeout;
}

std::int64_t micros_since(Clock::time_point start) {
    return std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - start).count();
}

std::string_view readable(const beast::flat_buffer& buffer) {
    const auto data = buffer.data();
    return {static_cast<const char*>(data.data()), data.size()};
}

// One recv(2) into the connection's buffer. No error and nothing read: the receive queue was empty.
beast::error_code receive(ClientConnection& c) {
    const auto space = c.buffer.prepare(read_size);
    const auto n = ::recv(c.fd(), space.data(), space.size(), 0);
    if (n > 0) {
        c.buffer.commit(static_cast<std::size_t>(n));
        // TCP returns less than asked only with its receive queue emptied: what arrives next is an edge.
        if (static_cast<std::size_t>(n) < space.size()) c.readable.drained();
        return {};
    }
    if (n == 0) return net::error::eof;
    if (errno == EAGAIN || errno == EWOULDBLOCK) {
        c.readable.drained();
        return {};
    }
    if (errno == EINTR) return {};
    return {errno, boost::system::system_category()};
}

} // namespace

std::optional<std::string> json_value_at(std::string_view body, const nlohmann::json::json_pointer& pointer) {
    const auto doc = parse_target_json(body);
    if (doc.is_discarded()) return std::nullopt;
    const auto* value = json_at(doc, pointer);
    if (!value) return std::nullopt;
    auto text = json_text(*value);
    if (text.size() > reply_value_limit) return std::nullopt;
    return text;
}

ExchangePlan plan_exchange(const Workload& w, const std::string& authority) {
    ExchangePlan plan;
    plan.wire = wire_request(w, authority);
    plan.kind = w.kind;
    plan.head_request = w.request.method == "HEAD";
    plan.timeout = w.timeout;
    if (w.kind == WorkloadKind::stream) plan.stream = &w.stream;
    if (w.expect_body) plan.body = &*w.expect_body;
    // The loader checked the pointers: constructing them cannot throw.
    if (w.job) plan.reply_pointer.emplace(w.job->id_pointer);
    else if (w.keep_reply_value) plan.reply_pointer.emplace(*w.keep_reply_value);
    return plan;
}

std::string wire_request(const Workload& w, const std::string& authority, std::string_view last_event_id) {
    // A Host or User-Agent of the request's own replaces lastcall's (a virtual host, wrk's -H 'Host: x'):
    // two Host fields make a request every server must refuse (RFC 9112 3.2).
    const auto given = [&](std::string_view name) {
        return std::any_of(w.request.headers.begin(), w.request.headers.end(), [&](const auto& header) {
            return std::equal(header.first.begin(), header.first.end(), name.begin(), name.end(),
                              [](char a, char b) { return (a >= 'A' && a <= 'Z' ? a - 'A' + 'a' : a) == b; });
        });
    };
    std::string out = fmt::format("{} {} HTTP/1.1\r\n", w.request.method, w.request.path);
    if (!given("host")) out += fmt::format("Host: {}\r\n", authority);
    if (!given("user-agent")) out += "User-Agent: lastcall\r\n";
    if (w.kind == WorkloadKind::stream) out += "Accept: text/event-stream\r\n";
    if (!last_event_id.empty()) out += fmt::format("Last-Event-ID: {}\r\n", last_event_id);
    if (!w.keep_alive) out += "Connection: close\r\n";
    for (const auto& [name, value] : w.request.headers) out += fmt::format("{}: {}\r\n", name, value);
    out += fmt::format("Content-Length: {}\r\n\r\n{}", w.request.body.size(), w.request.body);
    return out;
}

std::size_t send_request(ClientConnection& c, const ExchangePlan& plan, Clock::time_point run_start, const RequestRecord& r,
                         beast::error_code& ec) {
    // For a request: the whole exchange, from its send time (one clock read fewer).
    if (r.sent_us >= 0) c.expires_at(run_start + std::chrono::microseconds(r.sent_us) + plan.timeout);
    else c.expires_after(plan.timeout);
    // The request goes out in one send(2) right here (the socket is non-blocking; a request fits
    // its send buffer): no suspension and no trip through the io_context's queue for a write that
    // cannot wait. Only what the buffer did not take is written asynchronously.
    return c.send_some(plan.wire, ec);
}

bool write_failed(const ClientConnection& c, const beast::error_code& ec, Observation& seen) {
    if (!ec && !c.timed_out()) return false;
    seen.failure = c.timed_out() ? Failure::timeout : Failure::write_error;
    return true;
}

namespace {

// Feeds the reader what the buffer holds; true once the response is whole or broken.
bool feed_buffered(ClientConnection& c, Clock::time_point run_start, RequestRecord& r, Observation& seen) {
    if (c.buffer.size() == 0) return false;
    auto& reader = c.reader;
    const bool first = r.first_byte_us < 0;
    if (first) r.first_byte_us = micros_since(run_start);
    c.buffer.consume(reader.feed(readable(c.buffer)));
    // Whole in its first read (most responses of a load test): done when its first byte came.
    if (first && reader.done()) seen.completed_us = r.first_byte_us;
    return reader.done() || reader.failed();
}

} // namespace

bool read_without_waiting(ClientConnection& c, Clock::time_point run_start, RequestRecord& r, Observation& seen,
                          beast::error_code& read_ec) {
    auto& reader = c.reader;
    for (;;) {
        if (feed_buffered(c, run_start, r, seen)) return true;
        if (read_ec) {
            if (read_ec == net::error::eof) reader.feed_eof();  // a body delimited by the close ends here
            return true;
        }
        if (c.timed_out()) {  // passed between two reads
            read_ec = beast::error::timeout;
            continue;
        }
        // Reads at once when an edge came since the receive queue was last seen empty, else the
        // caller waits for one in the load thread's epoll set: no speculative recv(2) that finds nothing.
        if (!c.readable.may_have_data()) return false;
        read_ec = receive(c);
        if (c.timed_out()) read_ec = beast::error::timeout;
    }
}

void after_readiness_wait(ClientConnection& c, const beast::error_code& ec, beast::error_code& read_ec) {
    if (!ec) read_ec = receive(c);  // the edge came: its bytes are read before the deadline is asked about
    else read_ec = ec;              // cancelled: by the deadline, or by a close
    if (c.timed_out()) read_ec = beast::error::timeout;
}

namespace {

void conclude(ClientConnection& c, const ExchangePlan& plan, Clock::time_point run_start, RequestRecord& r, Observation& seen,
              const beast::error_code& read_ec, BodyWatcher* watcher) {
    c.expires_never();
    const auto& reader = c.reader;
    const auto& head = reader.head();
    r.status = static_cast<std::uint16_t>(head.status);
    seen.status = head.status;
    if (reader.head_done()) {
        r.connection_close = !head.keep_alive;
        r.retry_after_s = head.retry_after_s;
    }
    seen.complete = reader.done();
    if (seen.complete) {
        // A 502/504 lastcall's proxy made for a failed upstream exchange: the request was dropped.
        if (const auto upstream = proxy::client_failure(head.status, head.proxy_failure)) seen.failure = *upstream;
        r.proxy_record = head.proxy_record;
    }
    seen.response_bytes = reader.received_bytes();
    r.bytes = seen.complete ? reader.wire_bytes() : reader.received_bytes();
    r.body_bytes = reader.body_bytes();
    if (!seen.complete) {
        seen.failure = reader.failed() ? failure_of(reader.error()) : failure_of(read_ec, seen.response_bytes > 0);
    } else if (c.buffer.size() > 0) {
        r.unsolicited_after = true;  // bytes beyond the response: there was no request for them
        r.closed_after_us = micros_since(run_start);
    }
    const bool success = reader.head_done() && head.status / 100 == 2;
    if (watcher && watcher->convention && success) {
        r.events = watcher->convention->events();
        r.stream_end = watcher->convention->end();
        // Without an end marker in the contract, the end of the HTTP message is the end of the stream.
        if (seen.complete && !plan.stream->end && r.stream_end == StreamEnd::none) r.stream_end = StreamEnd::complete;
        seen.stream_end = r.stream_end;
        if (seen.complete && r.stream_end == StreamEnd::none) seen.failure = Failure::truncated_stream;
        if (!seen.complete && cut(seen.failure)) seen.failure = Failure::truncated_stream;
    }
    if (!seen.complete || !success || seen.failure != Failure::none) return;  // a cut stream stays a cut stream
    if (plan.body) {
        if (const auto failed = body_failure(*plan.body, head, r.body_bytes, watcher && watcher->digest ? &*watcher->digest : nullptr); failed != Failure::none) seen.failure = failed;
    }
    if (watcher && watcher->prefix && seen.failure == Failure::none) {
        const auto value = json_value_at(watcher->prefix->text(), *plan.reply_pointer);
        // A job's id goes into a path: a string or a number; null, true or an object is no id.
        const auto is_id = [](const std::string& v) { return v.front() == '"' || v.front() == '-' || (v.front() >= '0' && v.front() <= '9'); };
        if (value && (plan.kind != WorkloadKind::job || is_id(*value))) r.reply_value = *value;
        else seen.failure = Failure::reply_value_missing;
    }
}

} // namespace

bool watches_body(const ExchangePlan& plan) { return plan.stream || plan.reply_pointer || (plan.body && plan.body->sha256); }

void conclude_exchange(ClientConnection& c, const ExchangePlan& plan, Clock::time_point run_start, RequestRecord& r, Observation& seen,
                       const beast::error_code& read_ec) {
    conclude(c, plan, run_start, r, seen, read_ec, nullptr);
}

net::awaitable<void> exchange(ClientConnection& c, const ExchangePlan& plan, Clock::time_point run_start, RequestRecord& r,
                              Observation& seen, StreamTrail* trail) {
    beast::error_code write_ec;
    const auto sent = send_request(c, plan, run_start, r, write_ec);
    if (!write_ec && sent < plan.wire.size()) {
        auto [ec, n] = co_await net::async_write(c.asio_socket(), net::buffer(plan.wire) + sent, use_tuple);
        write_ec = ec;
    }
    if (write_failed(c, write_ec, seen)) co_return;
    // Built only for a body something watches, and off the coroutine's frame: Asio recycles frames
    // of up to about 1 KiB per thread, a larger one is a malloc and a free per request.
    std::unique_ptr<BodyWatcher> watcher;
    if (watches_body(plan)) watcher = std::make_unique<BodyWatcher>(plan, trail);
    const bool watched = watcher && (watcher->sse || watcher->prefix || watcher->digest);
    auto& reader = c.reader;
    reader.begin(plan.head_request, watched ? watcher.get() : nullptr);

    beast::error_code read_ec;
    if (c.readable.registered() && !(watcher && watcher->sse)) {
        // The common case, as the closed loop's keep-alive run reads without a coroutine: what is
        // there, then a wait in the thread's set for the socket's next edge.
        while (!read_without_waiting(c, run_start, r, seen, read_ec)) {
            auto [ec] = co_await c.readable.async_wait(deferred_tuple);
            after_readiness_wait(c, ec, read_ec);
        }
        conclude(c, plan, run_start, r, seen, read_ec, watcher.get());
        co_return;
    }
    for (;;) {
        if (feed_buffered(c, run_start, r, seen)) break;
        if (read_ec) {
            if (read_ec == net::error::eof) reader.feed_eof();
            break;
        }
        if (watcher && watcher->sse) c.expires_after(plan.timeout);  // a stream's timeout is an idle limit
        if (c.timed_out()) {  // passed between two reads
            read_ec = beast::error::timeout;
            continue;
        }
        if (c.readable.registered()) {
            // A stream in the thread's set: its idle limit is re-armed once per bytes read.
            const auto before = c.buffer.size();
            while (!read_ec && c.buffer.size() == before) {
                if (!c.readable.may_have_data()) {
                    auto [ec] = co_await c.readable.async_wait(deferred_tuple);
                    if (ec) {
                        read_ec = ec;
                        break;
                    }
                }
                read_ec = receive(c);
            }
        } else {
            auto [ec, n] = co_await c.socket.async_read_some(c.buffer.prepare(read_size), deferred_tuple);
            c.buffer.commit(n);
            read_ec = ec;
        }
        if (c.timed_out()) read_ec = beast::error::timeout;
    }
    conclude(c, plan, run_start, r, seen, read_ec, watcher.get());
}

net::awaitable<void> drip_headers(const Workload& spec, ClientConnection& c, Observation& seen) {
    seen.is_slowloris = true;
    const auto deadline = Clock::now() + spec.timeout;
    const auto drip = std::max<std::chrono::nanoseconds>(spec.think, std::chrono::milliseconds(100));
    const std::string head = fmt::format("{} {} HTTP/1.1\r\nHost: lastcall\r\n", spec.request.method, spec.request.path);
    const std::string line = "X-Slow: 1\r\n";
    c.expires_after(spec.timeout);
    auto [ec, n] = co_await net::async_write(c.asio_socket(), net::buffer(head), use_tuple);
    while (!ec && Clock::now() < deadline) {
        // Wait for the next drip, or for the server to close (a read completes on FIN or RST).
        c.expires_after(drip);
        char byte;
        auto [read_ec, read_n] = co_await c.socket.async_read_some(net::buffer(&byte, 1), use_tuple);
        if (!c.timed_out()) {
            ec = read_ec ? read_ec : beast::error_code(net::error::eof);
            break;
        }
        c.expires_after(spec.timeout);
        std::tie(ec, n) = co_await net::async_write(c.socket, net::buffer(line), use_tuple);
        if (c.timed_out()) ec = beast::error::timeout;
    }
    c.expires_never();
    seen.failure = !ec ? Failure::timeout : failure_of(ec, false);
}

} // namespace lastcall::harness

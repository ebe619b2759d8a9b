#include "response_reader.hpp"

#include <boost/beast/http/basic_parser.hpp>
#include <boost/beast/http/error.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <charconv>

namespace lastcall::harness {

namespace beast = boost::beast;
namespace http = beast::http;

namespace {

std::string_view view(beast::string_view text) { return {text.data(), text.size()}; }

bool iequals(std::string_view a, std::string_view b) {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
               return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
           });
}

// RFC 9110 section 10.2.3: delta-seconds, or an HTTP-date (kept as "present, not seconds").
std::int16_t parse_retry_after(std::string_view value) {
    while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
    while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.remove_suffix(1);
    std::uint64_t seconds = 0;
    const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), seconds);
    if (value.empty() || ec != std::errc{} || end != value.data() + value.size()) return -2;
    return static_cast<std::int16_t>(std::min<std::uint64_t>(seconds, INT16_MAX));
}

// The line a parse error points at, printable and short, for evidence.
std::string offending_line(std::string_view rest) {
    while (!rest.empty() && (rest.front() == '\r' || rest.front() == '\n')) rest.remove_prefix(1);
    rest = rest.substr(0, std::min(rest.find_first_of("\r\n"), std::size_t{60}));
    std::string out(rest);
    for (auto& c : out) {
        if (!std::isprint(static_cast<unsigned char>(c))) c = '?';
    }
    return out;
}

} // namespace

void BodyPrefix::on_body(std::string_view bytes) {
    const auto room = limit_ - std::min(limit_, text_.size());
    if (bytes.size() > room) truncated_ = true;
    text_.append(bytes.substr(0, room));
}

std::string_view to_string(ReadError error) {
    switch (error) {
    case ReadError::none: return "";
    case ReadError::eof_before_response: return "eof_before_response";
    case ReadError::eof_in_head: return "eof_in_head";
    case ReadError::eof_in_body: return "eof_in_body";
    case ReadError::bad_status_line: return "bad_status_line";
    case ReadError::bad_header: return "bad_header";
    case ReadError::header_too_large: return "header_too_large";
    case ReadError::bad_length: return "bad_length";
    case ReadError::bad_chunk: return "bad_chunk";
    case ReadError::unexpected_switch: return "unexpected_switch";
    }
    return "";
}

namespace {

// What the callbacks of one parse fill in.
struct ParseState {
    ResponseHead head;
    std::vector<std::pair<std::string, std::string>> headers;
    BodySink* sink = nullptr;
    std::uint64_t body_bytes = 0;
    bool keep_headers = false;
    bool status_seen = false;

    void body(std::string_view bytes) {
        body_bytes += bytes.size();
        if (sink) sink->on_body(bytes);
    }
};

// Beast's grammar with callbacks that count instead of storing (a `basic_parser`, as Beast's own
// `parser` is one with a body type on top). Fields of interest are picked out as they pass.
class WireParser final : public http::basic_parser<false> {
public:
    explicit WireParser(ParseState& parse) : state_(parse) {}

private:
    void on_request_impl(http::verb, beast::string_view, beast::string_view, int, beast::error_code& ec) override {
        ec = http::error::bad_version;  // never called for a response parser
    }
    void on_response_impl(int code, beast::string_view, int version, beast::error_code&) override {
        state_.head.status = code;
        state_.head.version = version;
        state_.status_seen = true;
    }
    void on_field_impl(http::field name, beast::string_view name_text, beast::string_view value, beast::error_code&) override {
        if (name == http::field::retry_after) state_.head.retry_after_s = parse_retry_after(view(value));
        if (name == http::field::unknown) pick_proxy_marks(view(name_text), view(value));
        if (state_.keep_headers && state_.headers.size() < ResponseReader::kept_headers_limit) {
            state_.headers.emplace_back(view(name_text), view(value));
        }
    }
    void pick_proxy_marks(std::string_view name, std::string_view value) {
        if (iequals(name, "X-Lastcall-Proxy")) state_.head.proxy_failure = value.substr(0, 32);
        if (iequals(name, "X-Lastcall-Proxy-Record")) {
            std::uint32_t id = 0;
            const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), id);
            if (ec == std::errc{} && end == value.data() + value.size()) state_.head.proxy_record = id;
        }
    }
    void on_header_impl(beast::error_code&) override {}
    void on_body_init_impl(const boost::optional<std::uint64_t>&, beast::error_code&) override {}
    std::size_t on_body_impl(beast::string_view body, beast::error_code&) override {
        state_.body(view(body));
        return body.size();
    }
    void on_chunk_header_impl(std::uint64_t, beast::string_view, beast::error_code&) override {}
    std::size_t on_chunk_body_impl(std::uint64_t, beast::string_view body, beast::error_code&) override {
        state_.body(view(body));
        return body.size();
    }
    void on_finish_impl(beast::error_code&) override {}

    ParseState& state_;
};

} // namespace

struct ResponseReader::Impl {
    enum class State : std::uint8_t { idle, reading, done, failed };

    explicit Impl(std::uint32_t limit) : header_limit(limit) {}
    void fresh_parser();
    bool replay_repeated_head(std::string_view bytes);
    void remember_head(std::string_view bytes, std::uint64_t fed_from);
    void fail(ReadError why, std::string_view rest);
    ReadError error_of(const beast::error_code& ec) const;

    std::uint32_t header_limit;
    ParseState parse;
    std::optional<WireParser> parser;  // in place: no allocation per message
    bool head_request = false;
    State state = State::idle;
    ReadError error = ReadError::none;
    std::string error_context;
    std::string failed_at;  // bytes_at_failure()
    std::uint64_t wire = 0;
    std::uint64_t message_start = 0;  // `wire` when the current message (interim or final) began
    std::uint64_t pending = 0;
    int interim = 0;
    bool head_done = false;
};

namespace {

// The head of the last response that came whole (head and Content-Length body) in one feed,
// byte for byte, and what Beast made of it. A server answers a load test with the same head
// again and again (nginx's Date changes once a second): parsing it is most of a request's
// user time. Beast's parse is a function of the bytes and of the reader's settings (its header
// limit; the same for every response but a HEAD request's, never replayed), so a next response
// whose head is the same bytes, with its whole body at hand, reads as this one did without
// parsing it again. One per thread, shared by its readers (each reads on one thread only): a
// load thread's connections all read the same head, and one copy stays in the CPU's cache where
// one per connection was a cache miss per response (64 connections: 7% of the thread's user time).
struct RepeatedHead {
    std::string bytes;
    ResponseHead head;
    std::uint32_t header_limit = 0;  // what it was parsed under
};
thread_local RepeatedHead repeated;

} // namespace

// Larger heads are parsed every time: the memory kept stays small.
constexpr std::size_t repeat_head_limit = 1024;

void ResponseReader::Impl::fresh_parser() {
    // A Beast parser cannot be reset: a new one per message, in the same storage.
    parser.emplace(parse);
    // The reader enforces the head limit over the whole head (Beast's applies to what is
    // unconsumed, and it consumes complete fields as they arrive: endless headers would pass).
    parser->header_limit(header_limit);
    parser->body_limit(boost::none);  // counted, not stored: any size
    parser->eager(true);
    if (head_request) parser->skip(true);
    parse.head = ResponseHead{};
    parse.status_seen = false;
    parse.headers.clear();
    message_start = wire;
}

bool ResponseReader::Impl::replay_repeated_head(std::string_view bytes) {
    const auto& last = repeated;
    if (last.bytes.empty() || last.header_limit != header_limit || wire != 0 || head_request || parse.keep_headers) return false;
    const auto head_size = last.bytes.size();
    const auto body = *last.head.content_length;
    if (bytes.size() < head_size || bytes.size() - head_size < body) return false;  // parsed as it comes
    if (bytes.compare(0, head_size, last.bytes) != 0) return false;
    parse.head = last.head;
    parse.status_seen = true;
    head_done = true;
    parse.body(bytes.substr(head_size, body));
    wire = head_size + body;
    pending = bytes.size() - wire;
    state = State::done;
    return true;
}

// After a final response completed in the feed that began at wire `fed_from`.
void ResponseReader::Impl::remember_head(std::string_view bytes, std::uint64_t fed_from) {
    const auto& head = parse.head;
    if (fed_from != 0 || interim != 0 || head_request || parse.keep_headers || head.chunked || !head.content_length ||
        parse.body_bytes != *head.content_length || wire < parse.body_bytes) {
        return;
    }
    const auto head_size = wire - parse.body_bytes;
    if (head_size > repeat_head_limit) return;
    auto& last = repeated;
    last.bytes.assign(bytes.substr(0, head_size));
    last.head = head;
    last.header_limit = header_limit;
}

void ResponseReader::Impl::fail(ReadError why, std::string_view rest) {
    state = State::failed;
    error = why;
    error_context = offending_line(rest);
    failed_at.assign(rest.substr(0, 32));
}

ReadError ResponseReader::Impl::error_of(const beast::error_code& ec) const {
    if (ec == http::error::header_limit) return ReadError::header_too_large;
    if (ec == http::error::bad_content_length || ec == http::error::multiple_content_length ||
        ec == http::error::bad_transfer_encoding) {
        return ReadError::bad_length;
    }
    if (ec == http::error::bad_chunk || ec == http::error::bad_chunk_extension) return ReadError::bad_chunk;
    if (!parse.status_seen) return ReadError::bad_status_line;
    if (!parser->is_header_done()) return ReadError::bad_header;
    return ReadError::bad_chunk;  // after the head only the chunked framing (and its trailers) can be wrong
}

ResponseReader::ResponseReader(std::uint32_t header_limit) : impl_(std::make_unique<Impl>(header_limit)) {}
ResponseReader::~ResponseReader() = default;
ResponseReader::ResponseReader(ResponseReader&&) noexcept = default;
ResponseReader& ResponseReader::operator=(ResponseReader&&) noexcept = default;

void ResponseReader::begin(bool head_request, BodySink* sink, bool keep_headers) {
    auto& m = *impl_;
    m.parse.sink = sink;
    m.parse.keep_headers = keep_headers;
    m.parse.body_bytes = 0;
    m.head_request = head_request;
    m.state = Impl::State::reading;
    m.error = ReadError::none;
    m.error_context.clear();
    m.failed_at.clear();
    m.wire = m.pending = 0;
    m.interim = 0;
    m.head_done = false;
    // The parser is made at the first bytes that need it: a repeated head does not.
    m.parser.reset();
    m.parse.head = ResponseHead{};
    m.parse.status_seen = false;
    m.parse.headers.clear();
    m.message_start = 0;
}

std::size_t ResponseReader::feed(std::string_view bytes) {
    auto& m = *impl_;
    if (m.state != Impl::State::reading || bytes.empty()) return 0;
    if (m.replay_repeated_head(bytes)) return static_cast<std::size_t>(m.wire);
    if (!m.parser) m.fresh_parser();
    const auto fed_from = m.wire;
    // A status line is known bad from its first byte that cannot be "HTTP/": say so now rather than
    // wait for the eight bytes Beast needs to judge the version (or for a timeout).
    if (!m.parse.status_seen && m.wire == m.message_start) {
        constexpr std::string_view http = "HTTP/";
        const auto n = std::min(bytes.size(), http.size());
        if (bytes.substr(0, n) != http.substr(0, n)) {
            m.fail(ReadError::bad_status_line, bytes);
            return 0;
        }
    }
    std::size_t used = 0;
    while (m.state == Impl::State::reading && used < bytes.size()) {
        beast::error_code ec;
        const auto n = m.parser->put(boost::asio::const_buffer(bytes.data() + used, bytes.size() - used), ec);
        used += n;
        m.wire += n;
        if (ec && ec != http::error::need_more) {
            m.fail(m.error_of(ec), bytes.substr(used));
            break;
        }
        if (!m.parser->is_header_done()) {
            if (m.wire - m.message_start + (bytes.size() - used) > m.header_limit) m.fail(ReadError::header_too_large, {});
            break;  // needs more of the head
        }
        const bool interim = m.parse.head.status / 100 == 1;
        if (!interim && !m.head_done) {
            m.head_done = true;
            m.parse.head.keep_alive = m.parser->keep_alive();
            m.parse.head.chunked = m.parser->chunked();
            if (const auto length = m.parser->content_length()) m.parse.head.content_length = *length;
        }
        if (!m.parser->is_done()) {
            if (ec == http::error::need_more || n == 0) break;
            continue;
        }
        if (!interim) {
            m.state = Impl::State::done;
            m.remember_head(bytes, fed_from);
            break;
        }
        // 1xx: no body; the real response follows. A 101 switches protocols, which nobody asked for.
        if (m.parse.head.status == 101) {
            m.fail(ReadError::unexpected_switch, {});
            break;
        }
        ++m.interim;
        m.fresh_parser();
    }
    m.pending = bytes.size() - used;
    return used;
}

void ResponseReader::feed_eof() {
    auto& m = *impl_;
    if (m.state != Impl::State::reading) return;
    if (m.wire + m.pending == 0) return m.fail(ReadError::eof_before_response, {});
    if (!m.parser || !m.parser->got_some()) return m.fail(ReadError::eof_in_head, {});  // after an interim response
    beast::error_code ec;
    m.parser->put_eof(ec);
    if (ec) return m.fail(m.head_done ? ReadError::eof_in_body : ReadError::eof_in_head, {});
    m.state = Impl::State::done;  // a body delimited by the close (HTTP/1.0 style)
}

bool ResponseReader::done() const { return impl_->state == Impl::State::done; }
bool ResponseReader::failed() const { return impl_->state == Impl::State::failed; }
bool ResponseReader::head_done() const { return impl_->head_done; }
ReadError ResponseReader::error() const { return impl_->error; }
const ResponseHead& ResponseReader::head() const { return impl_->parse.head; }
const std::vector<std::pair<std::string, std::string>>& ResponseReader::headers() const { return impl_->parse.headers; }
std::uint64_t ResponseReader::wire_bytes() const { return impl_->wire; }
std::uint64_t ResponseReader::received_bytes() const { return impl_->wire + impl_->pending; }
std::uint64_t ResponseReader::body_bytes() const { return impl_->parse.body_bytes; }
int ResponseReader::interim_responses() const { return impl_->interim; }

std::optional<std::string_view> ResponseReader::header(std::string_view name) const {
    for (const auto& [key, value] : impl_->parse.headers) {
        if (iequals(key, name)) return value;
    }
    return std::nullopt;
}

std::string_view ResponseReader::bytes_at_failure() const { return impl_->failed_at; }

std::string ResponseReader::describe_error() const {
    const auto& m = *impl_;
    switch (m.error) {
    case ReadError::none: return "";
    case ReadError::eof_before_response: return "the connection closed before any response byte";
    case ReadError::eof_in_head: return fmt::format("the connection closed inside the response head after {} bytes", m.wire + m.pending);
    case ReadError::eof_in_body:
        if (m.parse.head.content_length) {
            return fmt::format("the connection closed after {} of {} body bytes", m.parse.body_bytes, *m.parse.head.content_length);
        }
        return fmt::format("the connection closed after {} body bytes, before the chunked terminator", m.parse.body_bytes);
    case ReadError::bad_status_line: return fmt::format("malformed status line '{}'", m.error_context);
    case ReadError::bad_header: return fmt::format("malformed header line '{}'", m.error_context);
    case ReadError::header_too_large: return fmt::format("response head larger than {} bytes", m.header_limit);
    case ReadError::bad_length: return fmt::format("bad message length in '{}'", m.error_context);
    case ReadError::bad_chunk: return fmt::format("bad chunk at '{}'", m.error_context);
    case ReadError::unexpected_switch: return "101 Switching Protocols to a request that asked for no upgrade";
    }
    return "";
}

} // namespace lastcall::harness

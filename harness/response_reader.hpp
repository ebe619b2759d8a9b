#pragma once
// Reads one HTTP/1.1 response from whatever bytes a target sends, without I/O of its own (the load
// generator feeds it from Asio reads, ProbeClient from blocking ones) and without storing the body:
// body bytes are counted and passed to an optional BodySink, so a body of any size costs constant
// memory. Interim 1xx responses (100 Continue, 103 Early Hints) are counted and skipped; a body
// that runs to EOF (HTTP/1.0 style) ends at feed_eof(). The head is bounded; every malformation
// ends in a ReadError with a description, never an exception. Beast's parser does the grammar
// (compiled once, in net/); nothing of Boost is visible here.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace lastcall::harness {

class BodySink {
public:
    virtual void on_body(std::string_view bytes) = 0;

protected:
    ~BodySink() = default;
};

// Keeps the first `limit` bytes of a body and counts the rest (a job's id, a probe's answer).
class BodyPrefix final : public BodySink {
public:
    explicit BodyPrefix(std::size_t limit) : limit_(limit) {}
    void on_body(std::string_view bytes) override;
    const std::string& text() const { return text_; }
    std::string take() { return std::move(text_); }
    bool truncated() const { return truncated_; }
    void clear() {
        text_.clear();
        truncated_ = false;
    }

private:
    std::size_t limit_;
    std::string text_;
    bool truncated_ = false;
};

enum class ReadError : std::uint8_t {
    none,
    eof_before_response,  // the connection ended before one byte of a response
    eof_in_head,
    eof_in_body,          // before Content-Length bytes, or before the chunked terminator
    bad_status_line,
    bad_header,
    header_too_large,
    bad_length,           // Content-Length negative, overflowing, conflicting; Transfer-Encoding with it
    bad_chunk,            // chunk size not hex, overflowing, bad extension or framing
    unexpected_switch,    // 101 Switching Protocols to a request that asked for no upgrade
};
std::string_view to_string(ReadError error);

struct ResponseHead {
    int status = 0;
    int version = 0;                   // 10 or 11
    bool keep_alive = false;           // per version and the Connection header, any letter case
    bool chunked = false;
    std::optional<std::uint64_t> content_length;
    std::int16_t retry_after_s = -1;   // -1: absent; -2: present but not delta-seconds
    // lastcall's own proxy (harness/proxy/) marks the responses it makes itself: what failed
    // upstream (X-Lastcall-Proxy, at most 32 bytes kept) and its record's id (X-Lastcall-Proxy-Record).
    std::string proxy_failure;
    std::uint32_t proxy_record = 0;
};

class ResponseReader {
public:
    static constexpr std::uint32_t default_header_limit = 64 * 1024;
    static constexpr std::size_t kept_headers_limit = 64;

    explicit ResponseReader(std::uint32_t header_limit = default_header_limit);
    ~ResponseReader();
    ResponseReader(ResponseReader&&) noexcept;
    ResponseReader& operator=(ResponseReader&&) noexcept;

    // Starts reading the response to a request just sent. `head_request`: the response has no body
    // whatever its headers say. `keep_headers`: store the header fields (up to
    // kept_headers_limit) for headers().
    void begin(bool head_request, BodySink* sink, bool keep_headers = false);

    // Consumes what it can; the caller keeps the rest and feeds it again with more bytes appended
    // (a head is only consumed whole). Stops at the end of the response: bytes after it are not
    // this response's.
    std::size_t feed(std::string_view bytes);
    void feed_eof();

    bool done() const;    // a complete final response
    bool failed() const;
    bool head_done() const;  // the final response's head
    ReadError error() const;
    // For evidence: "malformed status line 'XYZ'", "response head larger than 65536 bytes"...
    std::string describe_error() const;
    // After a malformation: the bytes it was found at, as they came (at most 32): for a status line,
    // the response's first bytes (a target that does not speak HTTP is named by what it sent).
    std::string_view bytes_at_failure() const;

    const ResponseHead& head() const;
    // Headers as received (names as sent), when begin() asked to keep them.
    const std::vector<std::pair<std::string, std::string>>& headers() const;
    // The value of the first header named `name` (any letter case), if kept.
    std::optional<std::string_view> header(std::string_view name) const;

    std::uint64_t wire_bytes() const;      // consumed: interim responses, head, framing, body
    std::uint64_t received_bytes() const;  // wire_bytes plus what was fed and not yet consumed
    std::uint64_t body_bytes() const;
    int interim_responses() const;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

} // namespace lastcall::harness

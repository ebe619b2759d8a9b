#pragma once
// One record per request attempt, written by the load generator thread that made it into its own
// history file (history_spool.hpp; no locks, no shared atomics). Exactly one outcome class each
// (DESIGN.md).
#include <cstdint>
#include <string>
#include <string_view>

namespace lastcall::harness {

enum class Outcome : std::uint8_t { ok, ended_by_shutdown, rejected, dropped, idle_close_race, error, unknown };
inline constexpr int outcome_count = 7;

// What went wrong on the wire, when something did.
enum class Failure : std::uint8_t {
    none,
    connect_refused,
    connect_error,
    write_error,
    reset,
    eof_before_response,  // the connection ended with zero response bytes
    eof_mid_response,
    timeout,
    bad_response,         // not HTTP/1.x: a malformed status line or header, a 101 nobody asked for
    truncated_stream,     // a stream cut, or whose message ended without the end marker its contract names
    header_too_large,     // the response head went past the client's header limit
    bad_length,           // negative, overflowing or conflicting Content-Length; a bad Transfer-Encoding
    bad_chunk,            // a malformed or overflowing chunk size
    harness_error,        // lastcall itself failed on this request (an exception): never the target's fault
    // lastcall's proxy (`proxy:`) answered 502/504 for the target, with X-Lastcall-Proxy naming
    // what went wrong upstream: the request reached the service's endpoint and got no response.
    upstream_refused,          // connect refused (the listener had closed)
    upstream_connect_timeout,  // no handshake within proxy.connect_timeout (SYNs dropped)
    upstream_connect_error,
    upstream_reset,            // the connection was reset before a response (or the request's write failed)
    upstream_eof,              // the target closed the connection before one response byte
    upstream_timeout,          // no response within proxy.response_timeout
    upstream_bad_response,     // the target's response was not HTTP/1.x
    // A complete 2xx response that broke the scenario's contract (an `error`):
    reply_value_missing,         // a job's id or a set write's element not at its JSON pointer (or not JSON)
    body_bytes_mismatch,         // expect_body.bytes
    body_without_content_length, // expect_body.content_length_met: chunked or close-delimited
    body_sha256_mismatch,        // expect_body.sha256
};

// The contract failures above: the server answered in full, but not what the scenario says it must.
bool is_contract_failure(Failure failure);
// What lastcall's proxy reported for the target (upstream_*): always `dropped`.
bool is_upstream_failure(Failure failure);

// complete: the stream's end marker arrived (or, without one in the contract, its HTTP message
// ended); shutdown: its last marker was the shutdown notice.
enum class StreamEnd : std::uint8_t { none, complete, shutdown };

struct RequestRecord {
    std::uint64_t id = 0;
    std::uint64_t retry_of = 0;        // id of the attempt this one retries; 0: a first attempt
    std::int64_t intended_us = -1;     // times in microseconds since the run started; -1: never happened
    std::int64_t sent_us = -1;
    std::int64_t first_byte_us = -1;
    std::int64_t done_us = -1;
    // Every byte of this response on the wire: interim 1xx responses, status line, headers, chunk
    // framing, body. For a response that never completed, what arrived of it.
    std::uint64_t bytes = 0;
    std::uint64_t body_bytes = 0;      // the payload alone (de-chunked)
    // When lastcall saw the connection end while idle after this response (see closed_after and
    // unsolicited_after); -1: it did not, or it was still in use.
    std::int64_t closed_after_us = -1;
    // A connect that failed: when it began (the clock read just before the connect call); -1 for
    // every attempt whose connect succeeded or that reused a connection (its sent_us says when).
    std::int64_t connect_us = -1;
    std::uint32_t connection_id = 0;
    std::uint32_t reuse_index = 0;     // 0: first request on its connection
    std::uint32_t events = 0;          // SSE events dispatched (data-only ones too)
    std::uint32_t proxy_record = 0;    // the proxy's record of a response it made itself (X-Lastcall-Proxy-Record); 0: none
    std::uint16_t workload = 0;
    std::uint16_t status = 0;          // 0: no status line
    std::int16_t retry_after_s = -1;   // -1: no Retry-After header; -2: one that is not delta-seconds (an HTTP-date)
    Outcome outcome = Outcome::unknown;
    Failure failure = Failure::none;
    StreamEnd stream_end = StreamEnd::none;
    bool connection_close = false;     // the response carried Connection: close
    bool retried = false;              // a retry of this attempt follows
    bool closed_after = false;         // the server closed the connection after this response
    // Bytes arrived on the idle connection after this response: HTTP/1.1 has no unsolicited
    // responses, so lastcall closed it (as Go's transport does, "Unsolicited response received on
    // idle HTTP channel").
    bool unsolicited_after = false;
    // A refused connect whose SYN the kernel had sent again (TCP_INFO's total_retrans): the first
    // SYN went unanswered, so a listener was there and left it (a closed port refuses at once).
    bool syn_retried = false;
    // The JSON value a 2xx reply held at the contract's pointer (a job's id, a set write's
    // element), as JSON text of at most reply_value_limit bytes; empty when none was kept.
    std::string reply_value;
};
inline constexpr std::size_t reply_value_limit = 1024;

std::string_view to_string(Outcome outcome);
std::string_view to_string(Failure failure);
std::string_view to_string(StreamEnd end);

// What the client saw, reduced to what classification needs.
struct Observation {
    bool is_stream = false;
    bool is_slowloris = false;   // a request that never finishes its headers, on purpose
    bool reused_connection = false;
    bool complete = false;       // a whole response (for a chunked one: the terminator arrived)
    int status = 0;
    std::uint64_t response_bytes = 0;
    Failure failure = Failure::none;
    StreamEnd stream_end = StreamEnd::none;
    bool target_killed_meanwhile = false;  // it ended after the scenario ordered a SIGKILL of the target
    std::int64_t closed_after_send_us = 0;  // from the request's last byte sent to the close seen
    // When the read that completed the response was made, if the exchange read the clock then
    // (a response whole in its first read: its first byte's time); -1: the request's end reads it.
    std::int64_t completed_us = -1;
};

// A close that reaches the client this soon after its request crossed it on the wire; a later one
// means the server held the request and then dropped it. Loopback round trips are microseconds.
inline constexpr std::int64_t race_window_us = 10'000;

// Jepsen's discipline: never guess. See DESIGN.md for the classes.
Outcome classify(const Observation& seen);

// A refused connect that is no clean rejection, judged once the shutdown signal's time is known:
// one begun before the signal (-1: none) whose SYN a listener left unanswered (`syn_retried`) and
// that was refused only after it. The target's listener was open when the client came and never
// took the connection; the refusal says the target went away, not that it turned a late request
// away. DESIGN's `rejected` is a refusal after the listener closed: this one is `dropped`.
bool refused_after_being_held(const RequestRecord& r, std::int64_t signal_us);

// One JSON object (no newline) for history.jsonl. A field at its default is left out (about 190
// bytes for a typical ok request instead of 420): times -1 (never happened), counts and ids 0,
// retry_after_s -1, flags false, stream_end and failure "", reply_value null. id, workload,
// intended_us and outcome are always there.
std::string to_json_line(const RequestRecord& record, std::string_view workload_name);

} // namespace lastcall::harness

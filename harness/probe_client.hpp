#pragma once
// A small blocking HTTP/1.1 client for readiness probes and read-back after a restart: its own
// connection (kept alive between calls), a deadline on every call, nothing shared with the load
// generator. IPv4 or IPv6. Whatever the target answers is parsed without exceptions into a
// ProbeResponse; a bad answer is an error with a description, never a crash.
//
//   ProbeClient client(address, port);
//   const auto r = client.request("/health", 2000ms);
//   if (!r.ok()) note(r.error_text);                     // "no answer within 2000ms"
//   else use r.body (bounded), parsed without exceptions (readback.hpp)
#include "endpoint.hpp"
#include "response_reader.hpp"

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace lastcall::harness {

enum class ProbeError : std::uint8_t {
    none,
    unresolved,      // the host has no address
    refused,         // connection refused: nothing listens
    connect_failed,  // another connect error, or no connect within the deadline
    timeout,         // connected, but no complete answer within the deadline
    closed,          // the connection ended before a complete answer
    malformed,       // not HTTP/1.x (status line, headers, lengths, chunks)
};
std::string_view to_string(ProbeError error);

struct ProbeResponse {
    int status = -1;                  // -1: no complete answer (see error)
    ProbeError error = ProbeError::none;
    std::string error_text;           // in words, for events and evidence
    std::string body;                 // the first body_limit bytes
    std::uint64_t body_bytes = 0;     // the whole body, however long
    bool body_truncated = false;
    bool connection_close = false;    // the server will close (or closed) the connection
    std::int16_t retry_after_s = -1;  // as in RequestRecord
    std::vector<std::pair<std::string, std::string>> headers;  // as received, at most 64
    std::optional<std::string_view> header(std::string_view name) const;  // any letter case
    bool ok() const { return error == ProbeError::none; }
};

class ProbeClient {
public:
    static constexpr std::size_t default_body_limit = 64 * 1024;
    static constexpr std::uint32_t header_limit = 32 * 1024;

    ProbeClient(HostAddress address, std::uint16_t port);
    // Resolves `host` once, now; when it cannot be resolved every call answers `unresolved`.
    ProbeClient(std::string host, std::uint16_t port);
    ~ProbeClient() { disconnect(); }
    ProbeClient(const ProbeClient&) = delete;
    ProbeClient& operator=(const ProbeClient&) = delete;

    // One GET, on the kept connection when the server left it open, else a fresh one. A kept
    // connection that the server closed as the request went out is retried once on a fresh one,
    // as HTTP clients do for idempotent requests. Everything within `timeout`.
    ProbeResponse request(const std::string& path, std::chrono::milliseconds timeout, std::size_t body_limit = default_body_limit);
    // The status, or -1 when no complete answer came; `body` receives the (bounded) body.
    int get(const std::string& path, std::chrono::milliseconds timeout, std::string* body = nullptr);
    // A TCP connect succeeds; `why` says what happened when it did not (refused, timed out...).
    bool connect_only(std::chrono::milliseconds timeout, std::string* why = nullptr);
    // Connections this client made to the server so far (request() reuses a kept one).
    std::uint64_t connections_made() const { return connections_made_; }

private:
    using Deadline = std::chrono::steady_clock::time_point;
    ProbeResponse attempt(const std::string& path, Deadline deadline, std::chrono::milliseconds timeout, std::size_t body_limit,
                          bool& crossed_close);
    ProbeError connect(Deadline deadline, std::string& why);
    bool send_all(std::string_view bytes, Deadline deadline);
    void disconnect();

    std::optional<HostAddress> address_;
    std::string resolve_error_;
    std::uint16_t port_;
    std::uint64_t connections_made_ = 0;
    int fd_ = -1;
    ResponseReader reader_{header_limit};
    std::string unread_;  // bytes received and not yet consumed by the reader (a partial head)
};

} // namespace lastcall::harness

#pragma once
// What can go wrong between lastcall's proxy and the target, how the proxy answers the client for
// it, and how the client side reads that answer back (X-Lastcall-Proxy) into a history Failure.
// Both ends live here so the header's words cannot drift apart.
#include "history.hpp"

#include <cstdint>
#include <optional>
#include <string_view>

namespace lastcall::harness::proxy {

enum class UpstreamFailure : std::uint8_t {
    none,
    refused,              // connect refused: nothing listens (the listener closed)
    connect_timeout,      // no handshake in time: SYNs dropped (a SYN filter, a full backlog)
    connect_error,        // any other connect failure
    reset,                // reset (or the request's write failed) before a response byte
    eof_before_response,  // the target closed the connection before a response byte
    eof_mid_response,     // the connection ended inside the response (the client is reset)
    timeout,              // no response byte within proxy.response_timeout
    bad_response,         // not HTTP/1.x (ResponseReader's errors)
};

std::string_view to_string(UpstreamFailure failure);

// Status the proxy answers with when the failure came before any response byte reached the client:
// 504 for the timeouts, 502 for the rest (nginx's choice).
int proxy_status(UpstreamFailure failure);

inline constexpr std::string_view failure_header = "X-Lastcall-Proxy";         // the failure's name, or no_endpoint
inline constexpr std::string_view record_header = "X-Lastcall-Proxy-Record";   // the proxy record's id
inline constexpr std::string_view no_endpoint = "no_endpoint";

// The client side: a complete 502/504 whose X-Lastcall-Proxy names an upstream failure is that
// failure (`dropped`). Anything else (another status, an unknown word, no_endpoint on a 503) is
// nullopt and keeps its usual class: a target that sends the header itself gains nothing by it.
std::optional<Failure> client_failure(int status, std::string_view header_value);

} // namespace lastcall::harness::proxy

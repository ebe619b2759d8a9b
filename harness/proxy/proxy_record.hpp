#pragma once
// What lastcall's proxy did with one request (proxy.jsonl, one line each), and the run's one-line
// summary of them. Times are microseconds since the run started (-1: never happened).
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace lastcall::harness::proxy {

// Who made the response the client got.
enum class ResponseSource : std::uint8_t { upstream, proxy_502, proxy_504, no_endpoint, none };
std::string_view to_string(ResponseSource source);

struct ProxyRecord {
    std::uint32_t id = 0;                 // X-Lastcall-Proxy-Record on the responses the proxy makes itself
    std::uint32_t client_connection = 0;  // the proxy's numbering of the load's connections to it
    std::uint32_t client_reuse = 0;
    std::string method;
    std::string target;                   // the request target, at most 200 bytes
    std::int64_t received_us = -1;        // the request was read whole from the client
    std::uint32_t upstream_connection = 0;  // 0: none was used
    std::uint32_t upstream_reuse = 0;     // 0: a new connection
    bool retried = false;                 // a first attempt on a pooled connection failed with 0 bytes (retry: idempotent)
    std::int64_t forwarded_us = -1;       // the proxy began sending it to the target (connect or pooled write)
    std::int64_t sent_us = -1;            // its write to the target began, on an open connection (-1: none was had)
    std::int64_t first_byte_us = -1;      // from the target
    std::int64_t done_us = -1;
    int upstream_status = 0;              // 0: no complete response
    std::string upstream_failure;         // UpstreamFailure's name, empty when none
    std::string not_http;                 // what the target's answer began with when it was no HTTP status line (at most 32 bytes)
    std::uint64_t bytes = 0;              // relayed to the client
    ResponseSource source = ResponseSource::none;
    bool client_gone = false;             // the client's connection ended before the response was relayed
};

std::string to_json_line(const ProxyRecord& record);

// "forwarded 1.204s on upstream conn 3 (reuse 12): refused -> 502" for a check's evidence.
std::string describe(const ProxyRecord& record);

struct ProxySummary {
    std::uint64_t requests = 0;
    std::uint64_t forwarded = 0;    // sent to the target (at least one attempt)
    std::uint64_t relayed = 0;      // the target's response relayed
    std::uint64_t bad_gateway = 0;  // proxy 502
    std::uint64_t gateway_timeout = 0;  // proxy 504
    std::uint64_t no_endpoint = 0;  // 503 after the removal
    std::uint64_t cut = 0;          // failed mid-response: the client was reset
};
ProxySummary summarize(const std::vector<ProxyRecord>& records);
// "proxy: 812 requests, forwarded 790 (relayed 760, 502 30), no endpoint 22"
std::string describe(const ProxySummary& summary);

} // namespace lastcall::harness::proxy

#include "proxy/proxy_record.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace lastcall::harness::proxy {

std::string_view to_string(ResponseSource source) {
    switch (source) {
    case ResponseSource::upstream: return "upstream";
    case ResponseSource::proxy_502: return "proxy_502";
    case ResponseSource::proxy_504: return "proxy_504";
    case ResponseSource::no_endpoint: return "no_endpoint";
    case ResponseSource::none: return "none";
    }
    return "none";
}

std::string to_json_line(const ProxyRecord& r) {
    // The method and target come from the load's own requests, but through nlohmann they are
    // escaped whatever they hold.
    nlohmann::ordered_json line{
        {"id", r.id}, {"client_connection", r.client_connection}, {"client_reuse", r.client_reuse}, {"method", r.method},
        {"target", r.target}, {"received_us", r.received_us}, {"upstream_connection", r.upstream_connection},
        {"upstream_reuse", r.upstream_reuse}, {"retried", r.retried}, {"forwarded_us", r.forwarded_us},
        {"sent_us", r.sent_us}, {"first_byte_us", r.first_byte_us}, {"done_us", r.done_us}, {"upstream_status", r.upstream_status},
        {"upstream_failure", r.upstream_failure}, {"bytes", r.bytes}, {"source", std::string(to_string(r.source))},
        {"client_gone", r.client_gone}};
    if (!r.not_http.empty()) line["not_http"] = r.not_http;  // raw bytes: invalid UTF-8 is replaced below
    return line.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

namespace {
std::string seconds(std::int64_t us) { return us < 0 ? "-" : fmt::format("{:.3f}s", static_cast<double>(us) / 1e6); }
} // namespace

std::string describe(const ProxyRecord& r) {
    if (r.source == ResponseSource::no_endpoint) return fmt::format("proxy record {}: received {}, endpoint removed -> 503", r.id, seconds(r.received_us));
    const std::string conn = r.upstream_connection == 0 ? std::string("no upstream connection")
                             : r.upstream_reuse == 0   ? fmt::format("new upstream conn {}", r.upstream_connection)
                                                       : fmt::format("pooled upstream conn {} (reuse {})", r.upstream_connection, r.upstream_reuse);
    const std::string result = r.upstream_failure.empty() ? fmt::format("status {}", r.upstream_status) : r.upstream_failure;
    const std::string answer = r.source == ResponseSource::proxy_502   ? " -> 502"
                               : r.source == ResponseSource::proxy_504 ? " -> 504"
                               : r.upstream_failure.empty()            ? ""
                                                                       : " -> client reset";
    return fmt::format("proxy record {}: received {}, forwarded {} on {}{}: {}{}", r.id, seconds(r.received_us), seconds(r.forwarded_us), conn,
                       r.retried ? " (a retry)" : "", result, answer);
}

ProxySummary summarize(const std::vector<ProxyRecord>& records) {
    ProxySummary s;
    for (const auto& r : records) {
        ++s.requests;
        if (r.forwarded_us >= 0) ++s.forwarded;
        switch (r.source) {
        case ResponseSource::upstream:
            if (r.upstream_failure.empty()) ++s.relayed;
            else ++s.cut;
            break;
        case ResponseSource::proxy_502: ++s.bad_gateway; break;
        case ResponseSource::proxy_504: ++s.gateway_timeout; break;
        case ResponseSource::no_endpoint: ++s.no_endpoint; break;
        case ResponseSource::none: break;
        }
    }
    return s;
}

std::string describe(const ProxySummary& s) {
    return fmt::format("proxy: {} requests, forwarded {} (relayed {}, 502 {}, 504 {}, cut mid-response {}), no endpoint (503) {}", s.requests,
                       s.forwarded, s.relayed, s.bad_gateway, s.gateway_timeout, s.cut, s.no_endpoint);
}

} // namespace lastcall::harness::proxy

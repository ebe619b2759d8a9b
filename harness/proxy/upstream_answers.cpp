#include "proxy/upstream_answers.hpp"

#include "proxy/upstream_failure.hpp"

#include <fmt/format.h>

namespace lastcall::harness::proxy {

AnswersSeen upstream_answers(const std::vector<ProxyRecord>& records) {
    AnswersSeen seen;
    for (const auto& p : records) {
        if (p.forwarded_us < 0) continue;  // answered by the proxy alone (the endpoint was removed)
        if (p.source == ResponseSource::upstream) seen.note_http(p.done_us);  // relayed: its head was HTTP
        RequestRecord r;
        r.id = p.id;
        r.workload = AnswersSeen::unknown_workload;
        r.sent_us = p.sent_us;
        r.first_byte_us = p.first_byte_us;
        // As the load does for its own requests: a failed connect, begun when the proxy forwarded it.
        if (p.sent_us < 0) {
            r.connect_us = p.forwarded_us;
            r.failure = client_failure(p.source == ResponseSource::proxy_504 ? 504 : 502, p.upstream_failure).value_or(Failure::upstream_connect_error);
        }
        r.done_us = p.first_byte_us >= 0 ? p.first_byte_us : p.done_us;  // when the target answered, else when the proxy gave up
        seen.note_attempt(r);
        if (!p.not_http.empty()) seen.note_not_http(r, p.not_http);
    }
    return seen;
}

std::string seen_through_proxy(const std::string& verdict) {
    if (verdict.empty()) return verdict;
    return fmt::format("{}. Seen through lastcall's proxy (proxy:), which answered the load with its own 502/504 for these requests: "
                       "proxy.jsonl has its side of each request",
                       verdict);
}

} // namespace lastcall::harness::proxy

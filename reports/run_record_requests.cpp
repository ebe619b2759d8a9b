// history.jsonl and proxy.jsonl read back, a line at a time (run_record.hpp).
#include "run_record_requests.hpp"

#include <algorithm>

namespace lastcall::reports::record {

using namespace lastcall::harness;

RequestRecord read_request(const json& r, const Source& at, const std::vector<std::string>& workloads) {
    RequestRecord out;
    out.id = field<std::uint64_t>(r, "id", at);
    const auto workload = field<std::string>(r, "workload", at);
    const auto it = std::find(workloads.begin(), workloads.end(), workload);
    if (it == workloads.end()) at.fail(fmt::format("workload '{}' is not one of the run's", workload));
    out.workload = static_cast<std::uint16_t>(it - workloads.begin());
    out.intended_us = field<std::int64_t>(r, "intended_us", at);
    out.sent_us = field_or<std::int64_t>(r, "sent_us", -1, at);
    out.first_byte_us = field_or<std::int64_t>(r, "first_byte_us", -1, at);
    out.done_us = field_or<std::int64_t>(r, "done_us", -1, at);
    out.connection_id = field_or<std::uint32_t>(r, "connection", 0, at);
    out.reuse_index = field_or<std::uint32_t>(r, "reuse", 0, at);
    out.status = field_or<std::uint16_t>(r, "status", 0, at);
    out.bytes = field_or<std::uint64_t>(r, "bytes", 0, at);
    out.body_bytes = field_or<std::uint64_t>(r, "body_bytes", 0, at);
    out.events = field_or<std::uint32_t>(r, "events", 0, at);
    out.stream_end = named(field_or<std::string>(r, "stream_end", "", at), StreamEnd::shutdown, at, "stream end");
    out.connection_close = field_or<bool>(r, "connection_close", false, at);
    out.retry_after_s = field_or<std::int16_t>(r, "retry_after_s", -1, at);
    out.outcome = named(field<std::string>(r, "outcome", at), Outcome::unknown, at, "outcome");
    out.failure = named(field_or<std::string>(r, "failure", "", at), Failure::body_sha256_mismatch, at, "failure");
    out.retry_of = field_or<std::uint64_t>(r, "retry_of", 0, at);
    out.retried = field_or<bool>(r, "retried", false, at);
    const auto reply = field_or<json>(r, "reply_value", nullptr, at);
    if (!reply.is_null()) out.reply_value = reply.dump();
    out.closed_after = field_or<bool>(r, "closed_after", false, at);
    out.closed_after_us = field_or<std::int64_t>(r, "closed_after_us", -1, at);
    out.unsolicited_after = field_or<bool>(r, "unsolicited_after", false, at);
    out.proxy_record = field_or<std::uint32_t>(r, "proxy_record", 0, at);
    return out;
}

proxy::ProxyRecord read_proxy_record(const json& r, const Source& at) {
    proxy::ProxyRecord out;
    out.id = field<std::uint32_t>(r, "id", at);
    out.client_connection = field<std::uint32_t>(r, "client_connection", at);
    out.client_reuse = field<std::uint32_t>(r, "client_reuse", at);
    out.method = field<std::string>(r, "method", at);
    out.target = field<std::string>(r, "target", at);
    out.received_us = field<std::int64_t>(r, "received_us", at);
    out.upstream_connection = field<std::uint32_t>(r, "upstream_connection", at);
    out.upstream_reuse = field<std::uint32_t>(r, "upstream_reuse", at);
    out.retried = field<bool>(r, "retried", at);
    out.forwarded_us = field<std::int64_t>(r, "forwarded_us", at);
    out.sent_us = field_or<std::int64_t>(r, "sent_us", -1, at);  // older runs' proxy.jsonl have neither
    out.first_byte_us = field<std::int64_t>(r, "first_byte_us", at);
    out.done_us = field<std::int64_t>(r, "done_us", at);
    out.upstream_status = field<int>(r, "upstream_status", at);
    out.upstream_failure = field<std::string>(r, "upstream_failure", at);
    out.not_http = field_or<std::string>(r, "not_http", "", at);
    out.bytes = field<std::uint64_t>(r, "bytes", at);
    out.source = named(field<std::string>(r, "source", at), proxy::ResponseSource::none, at, "response source");
    out.client_gone = field<bool>(r, "client_gone", at);
    return out;
}

} // namespace lastcall::reports::record

#include "not_http.hpp"

#include <fmt/format.h>

namespace lastcall::harness {

void AnswersSeen::note_http(std::int64_t done_us) {
    if (done_us >= 0 && (first_http_us < 0 || done_us < first_http_us)) first_http_us = done_us;
}

void AnswersSeen::note_not_http(const RequestRecord& r, std::string_view first_bytes) {
    ++not_http;
    if (r.done_us < 0 || (first_not_http_us >= 0 && r.done_us >= first_not_http_us)) return;
    first_not_http_us = r.done_us;
    first_not_http_request = r.id;
    first_not_http_workload = r.workload;
    first_not_http_sent_us = r.sent_us;
    first_not_http_bytes.assign(first_bytes.substr(0, 32));
}

namespace {
void keep_earliest(std::int64_t& kept, std::int64_t t) {
    if (t >= 0 && (kept < 0 || t < kept)) kept = t;
}
} // namespace

void AnswersSeen::note_attempt(const RequestRecord& r) {
    keep_earliest(first_sent_us, r.sent_us);
    keep_earliest(first_byte_us, r.first_byte_us);
    if (r.connect_us < 0) return;
    ++unconnected;
    if (first_unconnected_us >= 0 && r.connect_us >= first_unconnected_us) return;
    first_unconnected_us = r.connect_us;
    first_unconnected_request = r.id;
    first_unconnected_done_us = r.done_us;
    first_unconnected_failure = r.failure;
}

void AnswersSeen::merge(const AnswersSeen& other) {
    note_http(other.first_http_us);
    keep_earliest(first_sent_us, other.first_sent_us);
    keep_earliest(first_byte_us, other.first_byte_us);
    unconnected += other.unconnected;
    if (other.first_unconnected_us >= 0 && (first_unconnected_us < 0 || other.first_unconnected_us < first_unconnected_us)) {
        first_unconnected_us = other.first_unconnected_us;
        first_unconnected_request = other.first_unconnected_request;
        first_unconnected_done_us = other.first_unconnected_done_us;
        first_unconnected_failure = other.first_unconnected_failure;
    }
    const auto count = not_http + other.not_http;
    if (other.first_not_http_us >= 0 && (first_not_http_us < 0 || other.first_not_http_us < first_not_http_us)) {
        first_not_http_us = other.first_not_http_us;
        first_not_http_request = other.first_not_http_request;
        first_not_http_workload = other.first_not_http_workload;
        first_not_http_sent_us = other.first_not_http_sent_us;
        first_not_http_bytes = other.first_not_http_bytes;
    }
    not_http = count;
}

std::string escape_bytes(std::string_view bytes) {
    std::string out;
    for (const char ch : bytes) {
        const auto c = static_cast<unsigned char>(ch);
        switch (c) {
        case '\r': out += "\\r"; break;
        case '\n': out += "\\n"; break;
        case '\t': out += "\\t"; break;
        case '\\': out += "\\\\"; break;
        case '"': out += "\\\""; break;
        default:
            if (c >= 0x20 && c < 0x7f) out += ch;
            else out += fmt::format("\\x{:02x}", c);
        }
    }
    return out;
}

std::string not_http_verdict(const AnswersSeen& seen, std::int64_t signal_us, std::uint64_t requests,
                             const std::vector<std::string>& workload_names) {
    const auto before_signal = [signal_us](std::int64_t t) { return t >= 0 && (signal_us < 0 || t < signal_us); };
    if (!before_signal(seen.first_not_http_us) || before_signal(seen.first_http_us)) return {};
    const auto seconds = [](std::int64_t us) { return static_cast<double>(us) / 1e6; };
    const auto workload = seen.first_not_http_workload == AnswersSeen::unknown_workload ? std::string("a request")
                          : seen.first_not_http_workload < workload_names.size()
                              ? fmt::format("a request of workload {}", workload_names[seen.first_not_http_workload])
                              : fmt::format("a request of workload #{}", seen.first_not_http_workload + 1);
    const auto sent = seen.first_not_http_sent_us >= 0 ? fmt::format("sent at {:.3f}s, ", seconds(seen.first_not_http_sent_us)) : std::string{};
    return fmt::format("the target does not speak HTTP: it answered none of the run's requests with an HTTP status line {}, and {} of the {} "
                       "requests got answers that were not HTTP; the first ({}, {}answered at {:.3f}s) began \"{}\". "
                       "Its shutdown was not judged: check target.command and the port (ready: {{tcp: true}} only proves that something "
                       "accepts connections)",
                       signal_us < 0 ? "at all" : fmt::format("before the signal at {:.3f}s", seconds(signal_us)), seen.not_http, requests, workload,
                       sent, seconds(seen.first_not_http_us), escape_bytes(seen.first_not_http_bytes));
}

std::string answered_nothing_verdict(const AnswersSeen& seen, std::int64_t signal_us) {
    const auto before_signal = [signal_us](std::int64_t t) { return t >= 0 && (signal_us < 0 || t < signal_us); };
    if (!before_signal(seen.first_unconnected_us) || before_signal(seen.first_sent_us) || before_signal(seen.first_byte_us)) return {};
    const auto seconds = [](std::int64_t us) { return static_cast<double>(us) / 1e6; };
    return fmt::format("the target answered nothing {}: requests were attempted before it, yet none got through (no connect was accepted, "
                       "no byte came back); {} connects failed, the first (begun at {:.3f}s) ended {} at {:.3f}s. Its shutdown "
                       "was not judged: the target took no request to shut down with. Check target.command and the port (ready: {{tcp: true}} "
                       "only proves that something accepted lastcall's probes; a listener with a tiny backlog, as `nc -l`'s, takes no more)",
                       signal_us < 0 ? "in the whole run" : fmt::format("before the signal at {:.3f}s", seconds(signal_us)), seen.unconnected,
                       seconds(seen.first_unconnected_us), to_string(seen.first_unconnected_failure),
                       seconds(seen.first_unconnected_done_us));
}

} // namespace lastcall::harness

#include "history.hpp"

#include <fmt/format.h>

#include <iterator>

namespace lastcall::harness {

std::string_view to_string(Outcome outcome) {
    switch (outcome) {
    case Outcome::ok: return "ok";
    case Outcome::ended_by_shutdown: return "ended_by_shutdown";
    case Outcome::rejected: return "rejected";
    case Outcome::dropped: return "dropped";
    case Outcome::idle_close_race: return "idle_close_race";
    case Outcome::error: return "error";
    case Outcome::unknown: return "unknown";
    }
    return "unknown";
}

std::string_view to_string(Failure failure) {
    switch (failure) {
    case Failure::none: return "";
    case Failure::connect_refused: return "connect_refused";
    case Failure::connect_error: return "connect_error";
    case Failure::write_error: return "write_error";
    case Failure::reset: return "reset";
    case Failure::eof_before_response: return "eof_before_response";
    case Failure::eof_mid_response: return "eof_mid_response";
    case Failure::timeout: return "timeout";
    case Failure::bad_response: return "bad_response";
    case Failure::truncated_stream: return "truncated_stream";
    case Failure::header_too_large: return "header_too_large";
    case Failure::bad_length: return "bad_length";
    case Failure::bad_chunk: return "bad_chunk";
    case Failure::harness_error: return "harness_error";
    case Failure::upstream_refused: return "upstream_refused";
    case Failure::upstream_connect_timeout: return "upstream_connect_timeout";
    case Failure::upstream_connect_error: return "upstream_connect_error";
    case Failure::upstream_reset: return "upstream_reset";
    case Failure::upstream_eof: return "upstream_eof";
    case Failure::upstream_timeout: return "upstream_timeout";
    case Failure::upstream_bad_response: return "upstream_bad_response";
    case Failure::reply_value_missing: return "reply_value_missing";
    case Failure::body_bytes_mismatch: return "body_bytes_mismatch";
    case Failure::body_without_content_length: return "body_without_content_length";
    case Failure::body_sha256_mismatch: return "body_sha256_mismatch";
    }
    return "";
}

std::string_view to_string(StreamEnd end) {
    switch (end) {
    case StreamEnd::none: return "";
    case StreamEnd::complete: return "complete";
    case StreamEnd::shutdown: return "shutdown";
    }
    return "";
}

bool is_contract_failure(Failure failure) {
    return failure == Failure::reply_value_missing || failure == Failure::body_bytes_mismatch ||
           failure == Failure::body_without_content_length || failure == Failure::body_sha256_mismatch;
}

bool is_upstream_failure(Failure failure) {
    return failure >= Failure::upstream_refused && failure <= Failure::upstream_bad_response;
}

Outcome classify(const Observation& seen) {
    if (seen.failure == Failure::harness_error) return Outcome::unknown;    // our fault says nothing of the target
    // The proxy took the request for the service and the target never answered it: the client got
    // a 502/504 where a real load balancer's client gets the same (complete, but no answer).
    if (is_upstream_failure(seen.failure)) return seen.target_killed_meanwhile ? Outcome::unknown : Outcome::dropped;
    if (seen.failure == Failure::connect_refused) return Outcome::rejected;  // the server never took it
    if (seen.failure == Failure::connect_error) return Outcome::unknown;     // cannot tell who failed
    if (seen.is_slowloris) {
        // Cut by the server (header timeout, drain): refused, as it should be. Outlasting our patience
        // or cut by the scenario: we cannot say.
        return seen.failure == Failure::timeout || seen.target_killed_meanwhile ? Outcome::unknown : Outcome::rejected;
    }
    if (seen.complete) {
        if (seen.status == 503) return Outcome::rejected;
        if (seen.status < 200 || seen.status >= 300) return Outcome::error;
        if (is_contract_failure(seen.failure)) return Outcome::error;
        if (!seen.is_stream) return Outcome::ok;
        if (seen.stream_end == StreamEnd::complete) return Outcome::ok;
        if (seen.stream_end == StreamEnd::shutdown) return Outcome::ended_by_shutdown;
        return Outcome::dropped;  // the message ended without the end marker: the client cannot tell a cut from an end
    }
    if (seen.target_killed_meanwhile) return Outcome::unknown;  // the scenario itself cut it
    // A reused keep-alive connection closed before one response byte: the request crossed the
    // server's close (gunicorn#1236). Real clients retry idempotent requests here.
    const bool closed_before_response =
        seen.failure == Failure::eof_before_response || seen.failure == Failure::reset || seen.failure == Failure::write_error;
    if (seen.reused_connection && seen.response_bytes == 0 && closed_before_response &&
        seen.closed_after_send_us <= race_window_us) {
        return Outcome::idle_close_race;
    }
    return Outcome::dropped;
}

bool refused_after_being_held(const RequestRecord& r, std::int64_t signal_us) {
    // What it rests on: the connect's start read before the connect call (so a start after the
    // signal is never taken for one before it) and the kernel's own retransmission count, not how
    // long the client took to see the refusal, which a busy machine stretches.
    return signal_us >= 0 && r.failure == Failure::connect_refused && r.outcome == Outcome::rejected && r.syn_retried &&
           r.connect_us >= 0 && r.connect_us < signal_us && r.done_us >= signal_us;
}

// The fields in the order they always had; a field at its default (history.hpp, and
// harness/README.md) is left out, which halves a typical line. id, workload, intended_us and
// outcome are always written.
std::string to_json_line(const RequestRecord& r, std::string_view workload_name) {
    fmt::memory_buffer line;
    auto out = std::back_inserter(line);
    fmt::format_to(out, R"({{"id":{},"workload":"{}","intended_us":{})", r.id, workload_name, r.intended_us);
    const auto number = [&](std::string_view name, auto value, decltype(value) absent) {
        if (value != absent) fmt::format_to(out, R"(,"{}":{})", name, value);
    };
    const auto word = [&](std::string_view name, std::string_view value) {
        if (!value.empty()) fmt::format_to(out, R"(,"{}":"{}")", name, value);
    };
    const auto flag = [&](std::string_view name, bool value) {
        if (value) fmt::format_to(out, R"(,"{}":true)", name);
    };
    number("sent_us", r.sent_us, std::int64_t{-1});
    number("first_byte_us", r.first_byte_us, std::int64_t{-1});
    number("done_us", r.done_us, std::int64_t{-1});
    number("connection", r.connection_id, 0u);
    number("reuse", r.reuse_index, 0u);
    number("status", r.status, std::uint16_t{0});
    number("bytes", r.bytes, std::uint64_t{0});
    number("body_bytes", r.body_bytes, std::uint64_t{0});
    number("events", r.events, 0u);
    word("stream_end", to_string(r.stream_end));
    flag("connection_close", r.connection_close);
    number("retry_after_s", r.retry_after_s, std::int16_t{-1});
    fmt::format_to(out, R"(,"outcome":"{}")", to_string(r.outcome));
    word("failure", to_string(r.failure));
    number("retry_of", r.retry_of, std::uint64_t{0});
    flag("retried", r.retried);
    if (!r.reply_value.empty()) fmt::format_to(out, R"(,"reply_value":{})", r.reply_value);
    flag("closed_after", r.closed_after);
    number("closed_after_us", r.closed_after_us, std::int64_t{-1});
    flag("unsolicited_after", r.unsolicited_after);
    number("proxy_record", r.proxy_record, 0u);
    number("connect_us", r.connect_us, std::int64_t{-1});
    flag("syn_retried", r.syn_retried);
    line.push_back('}');
    return fmt::to_string(line);
}

} // namespace lastcall::harness

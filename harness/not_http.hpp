#pragma once
// Whether the target speaks HTTP at all, from what the load saw: a TCP echo or an `nc -lk` that
// answers anything is ready by `ready: {tcp: true}`, and every request then fails with a bad
// response. Before the signal that is a target that does not speak HTTP, not a failed shutdown.
#include "history.hpp"

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace lastcall::harness {

// Kept online by each load thread (one comparison per request), merged after the load.
struct AnswersSeen {
    // A request whose workload is not known (seen by the proxy, its load request not recorded).
    static constexpr std::uint16_t unknown_workload = 0xffff;

    std::int64_t first_http_us = -1;       // the earliest end of a request answered with a status line
    std::uint64_t not_http = 0;            // answers whose first bytes were no HTTP status line
    std::int64_t first_not_http_us = -1;   // the earliest of those, its end
    std::uint64_t first_not_http_request = 0;  // its id in history.jsonl (events.jsonl names it; the message does not)
    std::uint16_t first_not_http_workload = 0;
    std::int64_t first_not_http_sent_us = -1;
    std::string first_not_http_bytes;      // what it began with, as sent (at most 32 bytes)
    // Whether a request got through at all: an `nc -lk` whose backlog is full answers no connect,
    // and the refusals when it dies at the signal looked like clean rejections.
    std::int64_t first_sent_us = -1;        // the earliest request that went out on a connection
    std::int64_t first_byte_us = -1;        // the earliest response byte, of any request
    std::uint64_t unconnected = 0;          // attempts whose connect failed
    std::int64_t first_unconnected_us = -1; // the earliest of those, when its connect began
    std::uint64_t first_unconnected_request = 0;
    std::int64_t first_unconnected_done_us = -1;
    Failure first_unconnected_failure = Failure::none;

    void note_http(std::int64_t done_us);
    void note_not_http(const RequestRecord& r, std::string_view first_bytes);
    void note_attempt(const RequestRecord& r);  // every request, as it ends
    void merge(const AnswersSeen& other);
};

// Bytes as a C string literal would show them: printable ASCII as is, \r \n \t \\ \", the rest \xNN.
std::string escape_bytes(std::string_view bytes);

// Empty unless the target answered no request with HTTP before `signal_us` (-1: no signal, then
// the whole run) and answered one before it with bytes that are not HTTP; else why, naming them
// and the first such request in the user's terms: its workload (`workload_names`, by index) and
// its moments, not lastcall's internal id.
std::string not_http_verdict(const AnswersSeen& seen, std::int64_t signal_us, std::uint64_t requests,
                             const std::vector<std::string>& workload_names);

// Empty unless requests were attempted before `signal_us` (-1: the whole run) and none of the
// run's requests went out on a connection or got a byte back before it: the target took nothing,
// so its shutdown was never tested (a setup error, exit 3); else what was attempted, and how it ended.
std::string answered_nothing_verdict(const AnswersSeen& seen, std::int64_t signal_us);

} // namespace lastcall::harness

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
    std::int64_t first_http_us = -1;       // the earliest end of a request answered with a status line
    std::uint64_t not_http = 0;            // answers whose first bytes were no HTTP status line
    std::int64_t first_not_http_us = -1;   // the earliest of those, its end
    std::uint64_t first_not_http_request = 0;  // its id in history.jsonl (events.jsonl names it; the message does not)
    std::uint16_t first_not_http_workload = 0;
    std::int64_t first_not_http_sent_us = -1;
    std::string first_not_http_bytes;      // what it began with, as sent (at most 32 bytes)

    void note_http(std::int64_t done_us);
    void note_not_http(const RequestRecord& r, std::string_view first_bytes);
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

} // namespace lastcall::harness

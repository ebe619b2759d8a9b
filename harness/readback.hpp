#pragma once
// After a restart: what the checks compare with the acknowledged history, read from the new
// generation. Every read is bounded in time and stops on Ctrl+C; a malformed answer is an error
// message, never an exception.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace lastcall::harness {

struct CounterReadback {
    std::optional<std::int64_t> value;
    std::string error;    // what was wrong when there is no value
    int status = -1;
    std::string body;     // bounded
};
// GET `path`; the value is the number after "value": in a JSON body (as lastcall-server writes it).
CounterReadback read_counter(const std::string& host, std::uint16_t port, const std::string& path);

// The state of each job, polled (bounded by `deadline`) until it is "completed".
std::map<std::int64_t, std::string> read_job_states(const std::string& host, std::uint16_t port, const std::vector<std::int64_t>& ids,
                                                    std::chrono::steady_clock::time_point deadline, const std::atomic<bool>* interrupted);

// The integer after `"key":` (spaces allowed) in `body`; nullopt when absent or not an integer.
std::optional<std::int64_t> json_integer_field(const std::string& body, const std::string& key);
// The string after `"key":` in `body`; nullopt when absent.
std::optional<std::string> json_string_field(const std::string& body, const std::string& key);

} // namespace lastcall::harness

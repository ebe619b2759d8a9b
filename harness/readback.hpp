#pragma once
// After a restart: what the checks compare with the acknowledged history, read from the new
// generation as the scenario's contract says (a read path and a JSON pointer; a job's poll path
// and done condition). Every read is bounded in time and stops on Ctrl+C; an answer that is not
// JSON, or not of the expected shape, is an error message, never an exception.
#include "endpoint.hpp"
#include "scenario.hpp"

#include <nlohmann/json.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace lastcall::harness {

struct ValueReadback {
    std::optional<nlohmann::json> value;  // what was at the pointer
    std::string error;    // what was wrong when there is no value
    int status = -1;
    std::string body;     // bounded, for events.jsonl
};
// GET `path`; the value at `pointer` in its JSON body (read_limit bytes at most).
ValueReadback read_json_value(const HostAddress& address, std::uint16_t port, const std::string& path, const std::string& pointer);
inline constexpr std::size_t read_limit = 16 * 1024 * 1024;

// A job to poll: its workload and its id as the submit reply held it (JSON text).
struct JobRef {
    std::uint16_t workload = 0;
    std::string id;
    bool operator<(const JobRef& o) const { return std::tie(workload, id) < std::tie(o.workload, o.id); }
};
struct JobReadback {
    bool done = false;
    std::string seen;  // the last answer, in words ("state is \"running\"", "http 404", "not JSON: ...")
};

// The poll path for one job: `{id}` replaced by the id (a string's characters percent-encoded
// where a path cannot hold them, a number as written).
std::string job_poll_path(const JobContract& job, const std::string& id_json);
// Whether a poll reply says done: the value at done.pointer equals done.equals (a string's text,
// or the JSON text of a number, true, false or null).
bool job_done(const JobContract& job, std::string_view body, std::string& seen);

// Polls each job every poll_interval until it is done or `deadline` passes.
std::map<JobRef, JobReadback> read_job_states(const HostAddress& address, std::uint16_t port, const std::vector<Workload>& workloads,
                                              const std::vector<JobRef>& jobs, std::chrono::steady_clock::time_point deadline,
                                              const std::atomic<bool>* interrupted);

} // namespace lastcall::harness

#pragma once
// One request/response exchange on an open connection of the load generator (internal to it):
// write the request, read the response with the counting ResponseReader (any body size, constant
// memory), feed a stream's body to the SSE tokenizer and the workload's stream contract, keep the
// first KiB of a 2xx body whose value the contract wants (a job's id, a set write's element),
// hash and measure bodies with an expect_body. Fills the record and what the classifier needs;
// opens and closes nothing (the worker owns the connection's life).
#include "client_connection.hpp"
#include "history.hpp"
#include "scenario.hpp"

#include <boost/asio/awaitable.hpp>
#include <nlohmann/json.hpp>

#include <chrono>
#include <optional>
#include <string>

namespace lastcall::harness {

// A workload's requests as this thread sends them, computed once.
struct ExchangePlan {
    std::string wire;  // the request bytes
    WorkloadKind kind = WorkloadKind::request;
    bool head_request = false;
    Duration timeout{};
    const StreamContract* stream = nullptr;             // kind: stream
    const BodyExpectation* body = nullptr;              // expect_body
    std::optional<nlohmann::json::json_pointer> reply_pointer;  // where a 2xx reply holds its value
};

// The plan of a workload's requests; `authority` is the Host header's value.
ExchangePlan plan_exchange(const Workload& w, const std::string& authority);

// `last_event_id`: a resumed stream's Last-Event-ID header (already checked to be a field value).
std::string wire_request(const Workload& w, const std::string& authority, std::string_view last_event_id = {});

// The JSON value at `pointer` in `body`, as JSON text (at most reply_value_limit bytes); nullopt
// when the body is not JSON, has nothing there, or the value is too long. Never throws.
std::optional<std::string> json_value_at(std::string_view body, const nlohmann::json::json_pointer& pointer);

struct StreamTrail;

// `run_start`: the origin of the record's microsecond times. `trail`: where a stream's event ids
// are noted (stream.resume), or nullptr.
boost::asio::awaitable<void> exchange(ClientConnection& c, const ExchangePlan& plan, std::chrono::steady_clock::time_point run_start,
                                      RequestRecord& r, Observation& seen, StreamTrail* trail = nullptr);

// Slowloris: the request line, then one header line per `think` (at least 100 ms), never the blank
// line that ends the headers, until the server cuts the connection or `timeout` runs out.
boost::asio::awaitable<void> drip_headers(const Workload& spec, ClientConnection& c, Observation& seen);

} // namespace lastcall::harness

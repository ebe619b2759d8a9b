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

// The pieces of exchange() for a caller without a coroutine (the closed loop's keep-alive run,
// load_worker_keep_alive.cpp), shared with it so that both classify alike. Only for a plain
// request (!watches_body) on a socket in the thread's set.
bool watches_body(const ExchangePlan& plan);
// The request's deadline and one send(2) of it: how many of its bytes went out (all of them but
// for a full send buffer, whose remainder the caller writes through Asio); `ec`: a write error.
std::size_t send_request(ClientConnection& c, const ExchangePlan& plan, std::chrono::steady_clock::time_point run_start,
                         const RequestRecord& r, boost::system::error_code& ec);
// The write failed (`ec`) or ran out of time: `seen` says which. False when it went out.
bool write_failed(const ClientConnection& c, const boost::system::error_code& ec, Observation& seen);
// The response read as far as the connection's bytes go, without waiting (the reader begun by the
// caller). True when reading is over: a whole response, a malformed one, or `read_ec` says why no
// more will come. False: the caller waits for the socket's next edge (ReadWaiter), then calls
// after_readiness_wait() (which reads what the edge brought) and this again.
bool read_without_waiting(ClientConnection& c, std::chrono::steady_clock::time_point run_start, RequestRecord& r, Observation& seen,
                          boost::system::error_code& read_ec);
void after_readiness_wait(ClientConnection& c, const boost::system::error_code& ec, boost::system::error_code& read_ec);
// What was read, as the record and the classifier see it (the deadline ended).
void conclude_exchange(ClientConnection& c, const ExchangePlan& plan, std::chrono::steady_clock::time_point run_start, RequestRecord& r,
                       Observation& seen, const boost::system::error_code& read_ec);

// Slowloris: the request line, then one header line per `think` (at least 100 ms), never the blank
// line that ends the headers, until the server cuts the connection or `timeout` runs out.
boost::asio::awaitable<void> drip_headers(const Workload& spec, ClientConnection& c, Observation& seen);

} // namespace lastcall::harness

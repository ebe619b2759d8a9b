#pragma once
// The reference service's routes, independent of Beast: a plain request in, a plain reply out.
// Streams are the exception; the session serves them itself (see http_session.cpp).
#include "app_state.hpp"

#include <boost/asio/awaitable.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace lastcall::server {

struct Request {
    std::string_view method;
    std::string_view target;  // path and query
    std::string_view body;
};

struct Reply {
    int status = 200;
    std::string_view content_type = "application/json";  // always a literal: no allocation per reply
    std::string body;
    std::vector<std::pair<std::string, std::string>> headers;
};

std::string_view path_of(std::string_view target);
std::optional<std::string_view> query_param(std::string_view target, std::string_view name);
// An integer query parameter; nullopt when present but not a number in [min, max].
std::optional<long> int_param(std::string_view target, std::string_view name, long fallback, long min, long max);

bool is_stream_request(const Request& request);
boost::asio::awaitable<Reply> handle_request(AppState& app, Request request);
// Whether handle_request waits for this request's reply (a delay, the journal's fsync, the jobs
// database). The others are answered by answer_at_once, and the session serves them without a
// coroutine. Looks at the method and target only: no side effect.
bool waits(const Request& request);
// The reply of a request that does not wait (only for those), as handle_request gives it.
Reply answer_at_once(AppState& app, const Request& request);

// Starts the tracked task that runs (or resumes) a job.
void start_job_task(AppState& app, const Job& job);

} // namespace lastcall::server

#include "routes.hpp"

#include "log.hpp"
#include "status_page.hpp"

#include "lastcall/coordinator/asio_task.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <fmt/format.h>

#include <charconv>
#include <exception>
#include <functional>
#include <iterator>
#include <memory>
#include <thread>
#include <fcntl.h>

namespace lastcall::server {

namespace net = boost::asio;
using namespace std::chrono_literals;

namespace {

Reply json_reply(int status, std::string body) { return Reply{status, "application/json", std::move(body), {}}; }

Reply bad_request(std::string_view why) {
    return json_reply(400, fmt::format(R"({{"error":"{}"}})", why));
}

net::awaitable<void> sleep_for(std::chrono::milliseconds delay) {
    net::steady_timer timer(co_await net::this_coro::executor, delay);
    co_await timer.async_wait(net::as_tuple(net::use_awaitable));
}

// Runs `work` on the jobs database's own thread and resumes on the caller's executor. SQLite commits
// fsync (synchronous=FULL): on a stalled disk one took seconds, and when it ran on the io threads
// both of them blocked and SIGTERM was taken 6.8 s late (background-jobs, noise soak). Exceptions
// from the store reach the caller as if the call were local.
net::awaitable<void> in_database(AppState& app, std::function<void(JobStore&)> work) {
    std::exception_ptr error;
    co_await net::async_initiate<decltype(net::use_awaitable), void()>(
        [&app, &work, &error](auto handler) {
            auto shared = std::make_shared<decltype(handler)>(std::move(handler));
            net::post(app.database, [&app, &work, &error, shared] {
                if (app.config.job_commit_delay.count() > 0) std::this_thread::sleep_for(app.config.job_commit_delay);
                try {
                    work(app.jobs);
                } catch (...) {
                    error = std::current_exception();
                }
                net::post(net::get_associated_executor(*shared), [shared]() mutable { std::move(*shared)(); });
            });
        },
        net::use_awaitable);
    if (error) std::rethrow_exception(error);
}

// A job: cooperative, so it enables total cancellation and, when cancelled, says so and leaves
// itself resumable in the database; the next start of the server picks it up where it stopped.
net::awaitable<void> run_job(AppState& app, Job job, coordinator::TaskStopping stopping) {
    co_await net::this_coro::reset_cancellation_state(net::enable_total_cancellation());
    // The cancelled timer is the signal to stop; the database writes after it must still run.
    co_await net::this_coro::throw_if_cancelled(false);
    net::steady_timer timer(co_await net::this_coro::executor);
    const auto stop_here = [&]() -> net::awaitable<void> {
        stopping.acknowledge();
        co_await in_database(app, [&job](JobStore& jobs) { jobs.mark_resumable(job.id); });
    };
    for (int step = job.done_steps; step < job.steps; ++step) {
        timer.expires_after(std::chrono::milliseconds(job.step_ms));
        auto [ec] = co_await timer.async_wait(net::as_tuple(net::use_awaitable));
        if (ec) co_return co_await stop_here();
        {
            // A commit cannot be interrupted: a cancel that comes meanwhile is seen right after it.
            const auto scope = stopping.uninterruptible();
            co_await in_database(app, [&job, step](JobStore& jobs) { jobs.record_progress(job.id, step + 1); });
        }
        if ((co_await net::this_coro::cancellation_state).cancelled() != net::cancellation_type::none) {
            if (step + 1 < job.steps) co_return co_await stop_here();
        }
    }
    co_await in_database(app, [&job](JobStore& jobs) { jobs.mark_completed(job.id); });
}

// A stuck task: it never enables total cancellation, so the coordinator's request never reaches it.
net::awaitable<void> run_stuck(std::chrono::milliseconds how_long) {
    net::steady_timer timer(co_await net::this_coro::executor, how_long);
    co_await timer.async_wait(net::as_tuple(net::use_awaitable));
}

Reply job_json(const Job& job, int status) {
    return json_reply(status, fmt::format(R"({{"id":{},"steps":{},"done_steps":{},"state":"{}","resumes":{},"owner":"{}"}})",
                                          job.id, job.steps, job.done_steps, job.state, job.resumes, log::json_escape(job.owner)));
}

std::optional<long> delay_ms(const Request& request, long default_ms) { return int_param(request.target, "ms", default_ms, 0, 3'600'000); }

// /fast and /slow once their delay is over (or when there is none).
Reply delay_done(AppState& app, std::optional<long> ms) {
    if (!ms) return bad_request("ms must be a whole number of milliseconds");
    if (app.faulty(Fault::leak_fd)) ::open("/dev/null", O_RDONLY);  // deliberately never closed
    // By hand rather than fmt: /fast is the benchmarked route.
    char digits[20];
    const auto end = std::to_chars(digits, digits + sizeof digits, *ms).ptr;
    std::string body = R"({"slept_ms":)";
    body.append(digits, end);
    body += '}';
    return json_reply(200, std::move(body));
}

net::awaitable<Reply> handle_delay(AppState& app, const Request& request, long default_ms) {
    const auto ms = delay_ms(request, default_ms);
    if (ms && *ms > 0) co_await sleep_for(std::chrono::milliseconds(*ms));
    co_return delay_done(app, ms);
}

// Resumes on the request's executor with what the counter answered: for an increment, once the
// commit that covers it is durable (the journal's group commit, or the shared database's).
net::awaitable<Counter::Result> counter_call(std::function<void(Counter::Done)> call) {
    co_return co_await net::async_initiate<decltype(net::use_awaitable), void(Counter::Result)>(
        [&call](auto handler) {
            auto shared = std::make_shared<decltype(handler)>(std::move(handler));
            call([shared](const Counter::Result& result) {
                auto executor = net::get_associated_executor(*shared);
                net::post(executor, [shared, result]() mutable { std::move(*shared)(result); });
            });
        },
        net::use_awaitable);
}

net::awaitable<Counter::Result> durable_increment(Counter& counter, std::int64_t by) {
    co_return co_await counter_call([&counter, by](Counter::Done done) { counter.increment(by, std::move(done)); });
}

net::awaitable<Counter::Result> durable_read(Counter& counter) {
    co_return co_await counter_call([&counter](Counter::Done done) { counter.read(std::move(done)); });
}

Reply increment_reply(const Counter::Result& result) {
    switch (result.failure) {
    case Counter::Failure::none: return json_reply(200, fmt::format(R"({{"value":{}}})", result.value));
    case Counter::Failure::overflow: return json_reply(409, R"({"error":"the counter would overflow"})");
    case Counter::Failure::not_durable: break;
    }
    return json_reply(500, fmt::format(R"({{"error":"not acknowledged: {}"}})", log::json_escape(result.error)));
}

Reply read_failed(const Counter::Result& result) {
    return json_reply(500, fmt::format(R"({{"error":"cannot read the counter: {}"}})", log::json_escape(result.error)));
}

net::awaitable<Reply> handle_counter_get(AppState& app) {
    const auto result = co_await durable_read(app.counter);
    if (result.failure != Counter::Failure::none) co_return read_failed(result);
    co_return json_reply(200, fmt::format(R"({{"value":{}}})", result.value));
}

net::awaitable<Reply> handle_counter_incr(AppState& app, const Request& request) {
    const auto by = int_param(request.target, "by", 1, -1'000'000, 1'000'000);
    const auto ms = int_param(request.target, "ms", 0, 0, 3'600'000);
    if (!by || !ms) co_return bad_request("by and ms must be whole numbers");
    if (*ms > 0) co_await sleep_for(std::chrono::milliseconds(*ms));
    co_return increment_reply(co_await durable_increment(app.counter, *by));
}

// A set of acknowledged elements on the counter's journal: each add is an increment by one and its
// element is the value it reached, so the durable set is 1..durable_value (never mix with
// /counter/incr, whose other increments would shift it). An instance of the acked-writes set model.
net::awaitable<Reply> handle_set_add(AppState& app, const Request& request) {
    const auto ms = int_param(request.target, "ms", 0, 0, 3'600'000);
    if (!ms) co_return bad_request("ms must be a whole number of milliseconds");
    if (*ms > 0) co_await sleep_for(std::chrono::milliseconds(*ms));
    const auto result = co_await durable_increment(app.counter, 1);
    if (result.failure != Counter::Failure::none) co_return increment_reply(result);
    co_return json_reply(200, fmt::format(R"({{"element":{}}})", result.value));
}

net::awaitable<Reply> handle_set_list(AppState& app) {
    constexpr std::int64_t max_listed = 1'000'000;  // a 7 MB body; a bigger set is refused, not cut
    const auto read = co_await durable_read(app.counter);
    if (read.failure != Counter::Failure::none) co_return read_failed(read);
    const auto size = read.value;
    if (size > max_listed) co_return json_reply(507, fmt::format(R"({{"error":"the set holds {} elements, more than {} can be listed"}})", size, max_listed));
    std::string body = R"({"elements":[)";
    for (std::int64_t e = 1; e <= size; ++e) fmt::format_to(std::back_inserter(body), "{}{}", e == 1 ? "" : ",", e);
    body += "]}";
    co_return json_reply(200, std::move(body));
}

net::awaitable<Reply> handle_job_create(AppState& app, const Request& request) {
    const auto steps = int_param(request.target, "steps", 5, 1, 100'000);
    const auto step_ms = int_param(request.target, "step_ms", 100, 0, 3'600'000);
    if (!steps || !step_ms) co_return bad_request("steps and step_ms must be whole numbers");
    Job job;
    job.steps = static_cast<int>(*steps);
    job.step_ms = static_cast<int>(*step_ms);
    job.state = "running";
    job.owner = app.jobs.owner();
    co_await in_database(app, [&job](JobStore& jobs) { job.id = jobs.create(job.steps, job.step_ms); });
    start_job_task(app, job);
    co_return job_json(job, 202);
}

net::awaitable<Reply> handle_job_get(AppState& app, std::string_view id_text) {
    std::int64_t id = 0;
    const auto [ptr, ec] = std::from_chars(id_text.data(), id_text.data() + id_text.size(), id);
    if (ec != std::errc{} || ptr != id_text.data() + id_text.size()) co_return bad_request("job id must be a number");
    std::optional<Job> job;
    co_await in_database(app, [&job, id](JobStore& jobs) { job = jobs.find(id); });
    if (!job) co_return json_reply(404, R"({"error":"no such job"})");
    co_return job_json(*job, 200);
}

Reply handle_stuck(AppState& app, const Request& request) {
    const auto ms = int_param(request.target, "ms", 3'600'000, 0, 86'400'000);
    if (!ms) return bad_request("ms must be a whole number of milliseconds");
    const auto number = app.next_task_number.fetch_add(1);
    coordinator::spawn_tracked_task(app.coordinator.tasks(), fmt::format("stuck-{}", number), net::make_strand(app.io),
                                    run_stuck(std::chrono::milliseconds(*ms)));
    return json_reply(202, fmt::format(R"({{"task":"stuck-{}"}})", number));
}

Reply handle_ready(AppState& app) {
    if (app.coordinator.ready() || app.faulty(Fault::no_ready_flip)) return Reply{200, "text/plain", "ready\n", {}};
    return Reply{503, "text/plain", "shutting down\n", {{"Retry-After", "1"}}};
}

} // namespace

std::string_view path_of(std::string_view target) { return target.substr(0, target.find('?')); }

std::optional<std::string_view> query_param(std::string_view target, std::string_view name) {
    const auto question = target.find('?');
    if (question == std::string_view::npos) return std::nullopt;
    auto query = target.substr(question + 1);
    while (!query.empty()) {
        const auto amp = query.find('&');
        const auto pair = query.substr(0, amp);
        const auto eq = pair.find('=');
        if (pair.substr(0, eq) == name) return eq == std::string_view::npos ? std::string_view{} : pair.substr(eq + 1);
        query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
    }
    return std::nullopt;
}

std::optional<long> int_param(std::string_view target, std::string_view name, long fallback, long min, long max) {
    const auto text = query_param(target, name);
    if (!text) return fallback;
    long value = 0;
    const auto [ptr, ec] = std::from_chars(text->data(), text->data() + text->size(), value);
    if (ec != std::errc{} || ptr != text->data() + text->size() || value < min || value > max) return std::nullopt;
    return value;
}

bool is_stream_request(const Request& request) {
    return request.method == "GET" && path_of(request.target) == "/stream";
}

void start_job_task(AppState& app, const Job& job) {
    coordinator::spawn_tracked_task(app.coordinator.tasks(), fmt::format("job-{}", job.id), net::make_strand(app.io),
                                    [&app, &job](coordinator::TaskStopping stopping) { return run_job(app, job, stopping); });
}

// The methods each path answers, for 405 and OPTIONS (RFC 9110 15.5.6: a 405 carries Allow).
std::string allowed_methods(std::string_view path) {
    struct Resource {
        std::string_view path;
        bool prefix;
        std::string_view allow;
    };
    static constexpr Resource resources[] = {
        {"/fast", false, "GET, HEAD, OPTIONS"},   {"/slow", false, "GET, HEAD, OPTIONS"},
        {"/stream", false, "GET, HEAD, OPTIONS"}, {"/counter/incr", false, "POST, OPTIONS"},
        {"/counter", false, "GET, HEAD, OPTIONS"}, {"/jobs", false, "POST, OPTIONS"},
        {"/set/add", false, "POST, OPTIONS"},     {"/set", false, "GET, HEAD, OPTIONS"},
        {"/jobs/", true, "GET, HEAD, OPTIONS"},   {"/stuck", false, "POST, OPTIONS"},
        {"/health", false, "GET, HEAD, OPTIONS"}, {"/ready", false, "GET, HEAD, OPTIONS"},
        {"/status", false, "GET, HEAD, OPTIONS"}, {"/metrics", false, "GET, HEAD, OPTIONS"},
    };
    if (path == "*") return "GET, HEAD, POST, OPTIONS";
    for (const auto& r : resources) {
        if (r.prefix ? path.substr(0, r.path.size()) == r.path && path.size() > r.path.size() : path == r.path) {
            return std::string(r.allow);
        }
    }
    return {};
}

bool waits(const Request& request) {
    const auto path = path_of(request.target);
    const auto method = request.method;
    if (method == "GET" && (path == "/fast" || path == "/slow")) {
        const auto ms = delay_ms(request, path == "/fast" ? 0 : 3000);
        return ms && *ms > 0;
    }
    return (method == "POST" && (path == "/counter/incr" || path == "/set/add" || path == "/jobs")) ||
           (method == "GET" && (path == "/counter" || path == "/set" || path.substr(0, 6) == "/jobs/"));
}

net::awaitable<Reply> handle_request(AppState& app, Request request) {
    if (!waits(request)) co_return answer_at_once(app, request);
    app.requests_total.fetch_add(1, std::memory_order_relaxed);
    const auto path = path_of(request.target);
    const auto method = request.method;
    if (method == "GET" && path == "/fast") co_return co_await handle_delay(app, request, 0);
    if (method == "GET" && path == "/slow") co_return co_await handle_delay(app, request, 3000);
    if (method == "POST" && path == "/counter/incr") co_return co_await handle_counter_incr(app, request);
    if (method == "GET" && path == "/counter") co_return co_await handle_counter_get(app);
    if (method == "POST" && path == "/set/add") co_return co_await handle_set_add(app, request);
    if (method == "GET" && path == "/set") co_return co_await handle_set_list(app);
    if (method == "POST" && path == "/jobs") co_return co_await handle_job_create(app, request);
    co_return co_await handle_job_get(app, path.substr(6));  // GET /jobs/{id}: the last that waits
}

Reply answer_at_once(AppState& app, const Request& request) {
    app.requests_total.fetch_add(1, std::memory_order_relaxed);
    const auto path = path_of(request.target);
    const auto method = request.method;
    if (method == "GET" && path == "/fast") return delay_done(app, delay_ms(request, 0));  // no delay, or a bad one
    if (method == "GET" && path == "/slow") return delay_done(app, delay_ms(request, 3000));
    if (method == "POST" && path == "/stuck") return handle_stuck(app, request);
    if (method == "GET" && path == "/health") return Reply{200, "text/plain", "ok\n", {}};
    if (method == "GET" && path == "/ready") return handle_ready(app);
    if (method == "GET" && path == "/status") return json_reply(200, status_json(app));
    if (method == "GET" && path == "/metrics") return Reply{200, "text/plain; version=0.0.4", metrics_text(app), {}};
    if (method == "GET" && path == "/stream") return Reply{200, "text/event-stream", "", {}};  // HEAD /stream
    const auto allow = allowed_methods(path);
    if (allow.empty()) return json_reply(404, R"({"error":"not found"})");
    if (method == "OPTIONS") return Reply{204, "text/plain", "", {{"Allow", allow}}};
    return Reply{405, "application/json", R"({"error":"method not allowed"})", {{"Allow", allow}}};
}

} // namespace lastcall::server

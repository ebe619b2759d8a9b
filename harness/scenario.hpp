#pragma once
// The validated model of one scenario file. Everything here has passed scenario_loader's checks:
// references resolve, durations are durations, signals are signals.
#include "units.hpp"

#include <csignal>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace lastcall::harness {

struct ReadyCheck {
    std::string http_path;  // empty: a TCP connect is enough
    Duration timeout = std::chrono::seconds(10);
};

struct Target {
    std::vector<std::string> command;  // argv, placeholders {port} {workdir} {server} not yet substituted
    std::map<std::string, std::string> env;
    std::string cwd;
    std::string host = "127.0.0.1";
    std::optional<std::uint16_t> port;  // nullopt: a free port is chosen
    bool allow_remote = false;
    ReadyCheck ready;
    std::string shutdown_report;        // where the target writes its shutdown report, if it does
    bool pid1 = false;                  // PID 1 of a new PID namespace, as in a container (pid_namespace.hpp)
    int reload_signal = SIGHUP;         // what `reload: true` sends to the main process
};

enum class WorkloadKind { request, stream, job, slowloris };
enum class LoadMode { closed, open };
enum class ClientRetry { none, idempotent };

struct HttpRequest {
    std::string method = "GET";
    std::string path = "/";
    std::map<std::string, std::string> headers;
    std::string body;
};

// One SSE event's shape, as a scenario states it: every field given must hold (an empty matcher
// matches nothing; the loader refuses one). `event` is the event type ("message" for an event with
// no `event:` line), `data` the whole data exactly, `data_contains` a part of it.
struct EventMatcher {
    std::optional<std::string> event;
    std::optional<std::string> data;
    std::optional<std::string> data_contains;
};

// How a stream says it is done (`stream:` of a stream workload). Without `end`, a stream is
// complete when its HTTP message is (the chunked terminator, or Content-Length met); with it, only
// when the marker arrived before the message ended. A stream whose last marker is the shutdown
// notice ended by shutdown.
struct StreamContract {
    std::optional<EventMatcher> end;
    std::optional<EventMatcher> shutdown_notice;
    bool resume = false;  // a stream ended by shutdown is asked for again with Last-Event-ID until a
                          // generation answers it 2xx (closed loops only; see stream_trail.hpp)
};

// A job workload's conventions (`job:`): where the submit reply holds the id, how to poll it, when
// it is done. Pointers are JSON pointers (RFC 6901).
struct JobContract {
    std::string id_pointer;                 // in the 2xx reply to the submit request
    std::string poll;                       // a request path, `{id}` replaced by the id
    std::string done_pointer;               // in the poll reply
    std::string done_equals;                // a string value, or a number/true/false/null as written
    Duration poll_interval = std::chrono::milliseconds(100);
};

// What a workload's 2xx bodies must be (`expect_body:`); a body that is not is an `error`.
struct BodyExpectation {
    std::optional<std::uint64_t> bytes;     // the payload's length
    bool content_length_met = false;        // the response carried Content-Length (and met it)
    std::optional<std::string> sha256;      // lowercase hex of the payload
};

struct Workload {
    std::string name;
    WorkloadKind kind = WorkloadKind::request;
    HttpRequest request;
    LoadMode mode = LoadMode::closed;
    int connections = 1;              // closed loop
    Duration think = Duration::zero();
    double rate = 0;                  // open loop, requests per second
    Duration start = Duration::zero();
    std::optional<Duration> stop;     // nullopt: until the run ends or stop_load
    bool keep_alive = true;
    Duration timeout = std::chrono::seconds(30);
    ClientRetry client_retry = ClientRetry::none;
    std::optional<std::uint64_t> max_requests;  // bound on requests started, per workload
    StreamContract stream;            // kind: stream
    std::optional<JobContract> job;   // kind: job; without it, submits are plain requests
    std::optional<BodyExpectation> expect_body;
    // Set by the loader when acked_writes (model: set) takes elements from this workload's replies.
    std::optional<std::string> keep_reply_value;
};

// main: the target's main process (`to: target`, or `to: master` when it runs workers); group: its
// process group; child: its Nth child by pid; workers: every current child of the main process;
// worker: its Nth child by start time (stable across respawns, unlike pid order).
enum class SignalTarget { main, group, child, workers, worker };

// What a signal is for. Only a shutdown signal to the main process or its group is the run's
// signal moment (what the checks time from); a reload or a signal to one worker is not.
enum class SignalPurpose { shutdown, reload, pause, process };

struct SignalAction {
    int signal = 0;
    SignalTarget to = SignalTarget::main;
    int child_index = 0;  // 1-based, with SignalTarget::child and SignalTarget::worker
    SignalPurpose purpose = SignalPurpose::shutdown;
};
struct StopLoadAction { std::vector<std::string> workloads; };  // empty: all
struct StartLoadAction { std::string workload; };
struct PauseAction { Duration duration{}; };                   // SIGSTOP, then SIGCONT after duration
struct KillIfAliveAction {};
struct RestartTargetAction {};
using Action = std::variant<SignalAction, StopLoadAction, StartLoadAction, PauseAction, KillIfAliveAction,
                            RestartTargetAction>;

// When a timeline entry fires: at a time, or when a condition first holds (then after `delay`).
struct Condition {
    enum class Kind { in_flight_at_least, not_ready, exited, after_signal } kind = Kind::in_flight_at_least;
    std::int64_t threshold = 0;
};

struct TimelineEntry {
    std::optional<Duration> at;
    std::optional<Condition> when;
    Duration delay = Duration::zero();
    Duration every = Duration::zero();  // with count > 1: fires `count` times, `every` apart
    int count = 1;
    Action action;
    std::string description;  // as written, for events.jsonl
};

// What the checks hold the run to (`expect:`); every field has a documented default.
struct Expectations {
    enum class RacePolicy { fail, tolerate, retried };
    struct Exit {
        bool by_signal = false;
        int value = 0;  // exit code, or signal number when by_signal
        bool operator==(const Exit&) const = default;
    };
    // Acknowledged writes, in Jepsen's spirit: the writes one workload made, what a read after the
    // restart must show. counter: acked <= value <= acked + uncertain (each write adds `increment`);
    // set: every acknowledged write's element is in the array the read returns.
    struct AckedWrites {
        enum class Model { counter, set };
        enum class ElementFrom { reply, request };
        std::string workload;
        Model model = Model::counter;
        std::int64_t increment = 1;                 // counter
        ElementFrom element_from = ElementFrom::reply;  // set: where each write's element is
        std::string element_pointer;                // set: a JSON pointer into the reply or request body
        std::string read_path;                      // GET after the restart
        std::string read_pointer;                   // JSON pointer to the integer (counter) or array (set)
    };
    // Across each reload: nothing dropped or refused, readiness held, the old workers gone within
    // `within`, new ones serving after (checks_workers.cpp).
    struct ZeroDowntime {
        Duration within = std::chrono::seconds(10);
        std::optional<Duration> max_latency;  // of the requests in a reload's window
    };
    // How the main process's children ended: each with a listed exit code, else killed (SIGKILL)
    // or crashed; exactly `killed` and `crashed` of them may.
    struct WorkersDrained {
        std::int64_t killed = 0;
        std::int64_t crashed = 0;
        std::vector<int> exit{0};
    };
    std::uint64_t dropped = 0;
    RacePolicy idle_close_race = RacePolicy::fail;
    std::uint64_t errors = 0;
    std::optional<bool> streams_clean;  // default: on when a workload is a stream
    bool streams_resumed = false;       // every stream ended by shutdown resumed after the restart
    bool rejections_clean = true;
    bool close_announced = true;
    std::optional<Duration> readiness_flip = std::chrono::milliseconds(100);  // needs target.ready.http
    std::optional<Duration> accepting_during_drain_delay;
    std::optional<Duration> shutdown_time;
    Duration drain_tail = std::chrono::seconds(3);  // gunicorn's arbiter alone takes up to ~1.3 s
    std::vector<Exit> exit{Exit{}};  // any of these (default: exit 0)
    std::uint64_t orphans = 0;
    bool port_released = true;
    std::optional<std::int64_t> fd_leak;  // default 16, beyond lastcall's own open connections
    std::optional<AckedWrites> acked_writes;
    bool jobs_accounted = false;
    std::optional<Duration> stuck_abandoned_within;
    std::optional<Duration> p99_during_drain;
    bool shutdown_report = true;  // checked when the target wrote one
    std::optional<ZeroDowntime> zero_downtime;      // off unless named
    std::optional<WorkersDrained> workers_drained;  // off unless named
    std::vector<std::string> off;  // checks the scenario turned off (`dropped: off`): skipped, saying so
};

// `proxy:`: lastcall's own HTTP/1.1 reverse proxy between the load and the target, which keeps
// routing to the target for `endpoint_lag` after the first shutdown signal (a load balancer that
// has not yet seen the endpoint removed), then answers 503 + Retry-After. See harness/proxy/.
struct ProxyConfig {
    enum class Retry { none, idempotent };  // idempotent: one retry on a new connection after a pooled one failed with 0 bytes
    Duration endpoint_lag = std::chrono::seconds(1);
    std::int64_t pool_max = 32;             // idle keep-alive upstream connections kept (0: none)
    Duration pool_idle_timeout = std::chrono::seconds(60);
    Duration connect_timeout = std::chrono::seconds(1);
    Duration response_timeout = std::chrono::seconds(60);  // between two reads of the upstream response
    Retry retry = Retry::none;
};

struct Scenario {
    std::string file;
    std::string sha256;  // of the file's text as read (before ${VAR}): `lastcall diff` tells two scenarios apart by it
    std::string name;
    std::string description;
    Target target;
    std::vector<Workload> workloads;
    std::vector<TimelineEntry> timeline;
    Duration max_duration = std::chrono::seconds(60);
    // limits.history_bytes: the history's files on disk at most this big; past it records are
    // dropped, and the run says so (run.json `history`, the console).
    std::uint64_t history_bytes = std::uint64_t{1} << 30;
    int threads = 1;  // load generator threads
    int repeat = 1;
    Duration jitter = Duration::zero();
    std::uint64_t seed = 1;
    std::string expect_yaml;  // as written, kept with the run
    Expectations expect;
    std::optional<ProxyConfig> proxy;
};

} // namespace lastcall::harness

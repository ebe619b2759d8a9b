// Hand-written seeds for the scenario fuzz test, beside the library's own files. Each names what
// it aims at; the mutations take it from there.
#include "scenario_mutator.hpp"

namespace lastcall::harness::testing {

namespace {

// Every section and nearly every key, so that mutations reach every reader.
constexpr const char* every_key = R"(name: every-key
description: |
  Every section, nearly every key.
target:
  command: ["{server}", "--port", "{port}", "--state-dir", "{workdir}/state"]
  env: {LASTCALL_THREADS: "2", EMPTY: ""}
  cwd: "{workdir}"
  host: 127.0.0.1
  port: auto
  allow_remote: false
  ready: {http: /ready, timeout: 5s}
  shutdown_report: "{workdir}/state/shutdown-report.json"
threads: 2
workloads:
  - name: slow
    kind: request
    request: {method: GET, path: "/slow?ms=1000", headers: {X-Trace: "1"}, body: ""}
    mode: closed
    connections: 4
    think: 0ms
    start: 0s
    stop: 10s
    keep_alive: true
    timeout: 30s
    client_retry: idempotent
    max_requests: 1000
  - name: burst
    mode: open
    rate: 200/s
    request: {path: /fast}
    start: 1s
    stop: 3s
  - name: events
    kind: stream
    request: {path: /stream}
    stream:
      end: {event: end, data_contains: '"reason":"complete"'}
      shutdown_notice: {event: end, data_contains: shutdown}
  - {name: done, kind: stream, request: {path: "${STREAM_PATH:-/v1/chat}"}, stream: {end: {data: "[DONE]"}}}
  - name: jobs
    kind: job
    request: {path: "/jobs?steps=3"}
    job: {id: /id, poll: "/jobs/{id}", done: {pointer: /state, equals: completed}, poll_interval: 100ms}
  - {name: drip, kind: slowloris, think: 200ms, timeout: 5s}
  - name: increments
    request: {method: POST, path: /counter/incr, body: "{\"n\": 1}"}
    expect_body: {bytes: 12, content_length_met: true, sha256: E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855}
timeline:
  - at: 1500ms
    signal: TERM
    to: target
  - when: in_flight >= 5
    delay: 100ms
    signal: INT
    to: "child 1"
  - at: 2s
    every: 600ms
    count: 3
    reload: true
  - at: 3s
    signal: KILL
    to: "worker 2"
    purpose: process
  - at: 4s
    signal: TERM
    to: workers
  - at: 5s
    stop_load: [burst]
  - at: 5s
    start_load: burst
  - at: 6s
    pause: 2s
  - at: 20s
    kill_if_alive: true
  - when: exited
    restart_target: true
limits: {max_duration: 30s}
repeat: 1
jitter: 10ms
seed: 1
expect:
  dropped: 0
  idle_close_race: tolerate
  errors: 0
  streams_clean: true
  rejections_clean: true
  close_announced: true
  readiness_flip: 100ms
  accepting_during_drain_delay: 1s
  shutdown_time: 5s
  drain_tail: 1s
  exit: [0, 143, SIGKILL, TERM]
  workloads_ran: off
  signals_delivered: true
  orphans: 0
  port_released: true
  fd_leak: 16
  acked_writes: {workload: increments, model: counter, increment: 2, read: {path: /counter, pointer: /value}}
  jobs_accounted: true
  stuck_abandoned_within: 2s
  p99_during_drain: 200ms
  shutdown_report: true
)";

} // namespace

std::vector<std::string> nasty_seeds() {
    const std::string head = "name: x\ntarget: {command: [srv]}\n";
    return {
        every_key,
        head + "? [a, b]\n: 1\n",                                     // the field crash: a key that is a list
        head + "workloads:\n  - name: a\n    ? {k: v}\n    : 1\n",     // ... or a mapping, deeper down
        billion_laughs(9),                                             // alias expansion
        head + "description: &loop [*loop]\n",                         // an alias inside its own anchor
        "name: ../outside\ntarget: {command: [srv]}\n",                // the run directory escape
        head + "workloads:\n  - {name: a, mode: open, rate: nan/s}\n", // rates seen in the field
        head + "workloads:\n  - {name: a, think: 1e300s}\nlimits: {max_duration: 99999999999999h}\n",
        head + "workloads:\n  - name: a\n    request:\n      headers: {X-A: \"1\\r\\nX-Injected: 1\"}\n      path: \"/a\\r\\nb\"\n",
        head + "name: y\nworkloads:\n  - {name: a, name: b}\n",        // duplicate keys
        head + "description: " + std::string(300, '[') + "\n",         // yaml-cpp's depth guard
        head + "---\nname: second\n...\n---\n",                        // more documents
        head + "description: !!binary aGVsbG8=\nseed: !!int 3\nrepeat: !custom 2\n",
        "name: x\r\ntarget: {command: [srv]}\r\ntimeline:\r\n  - {at: 1s, signal: TERM}\r\n",  // CR LF
        "\xef\xbb\xbfname: caf\xc3\xa9\ntarget: {command: [srv]}\n",   // BOM, non-ASCII name
        "", "~", "[]", "{}", "- a\n- b\n", "name", "name:\n", ":",
        // The contract keys: a set model, every check off, variables and their escapes.
        head + "workloads:\n  - {name: adds, request: {method: POST, path: /set/add}}\n"
               "expect:\n  acked_writes: {workload: adds, model: set, element: {from: reply, pointer: /element}, read: {path: /set, pointer: /elements}}\n",
        head + "workloads:\n  - {name: adds, request: {method: POST, path: /s, body: '{\"k\": [1]}'}}\n"
               "expect:\n  acked_writes: {workload: adds, model: set, element: {from: request, pointer: /k/0}, read: {path: /s, pointer: ''}}\n",
        head + "expect: {dropped: off, errors: off, readiness_flip: off, exit: off, streams_clean: off, shutdown_report: off, fd_leak: off}\n",
        head + "description: \"${HOME} $${NOT} ${UNSET_LASTCALL_VARIABLE:-fallback} ${}\"\nseed: ${LASTCALL_SEED:-3}\n",
        head + "description: &a \"$${X}\"\nworkloads:\n  - {name: x, request: {path: *a}}\n",
    };
}

} // namespace lastcall::harness::testing

// The target's contract in a scenario (stream markers, job polling, acknowledged writes, body
// expectations, exit lists, checks turned off) and ${VAR} substitution: every key valid, and
// invalid with its file:line:column.
#include "scenario_error_of.hpp"
#include "scenario_loader.hpp"

#include <gtest/gtest.h>

#include <csignal>
#include <cstdlib>

namespace lastcall::harness {
namespace {

using namespace std::chrono_literals;
using testing::error_of;
const std::string head = testing::minimal_head;

const std::string stream_head = head + "workloads:\n  - name: s\n    kind: stream\n";  // stream: at line 6, column 5
const std::string job_head = head + "workloads:\n  - name: j\n    kind: job\n";

TEST(ScenarioContract, StreamMarkers) {
    const auto s = load_scenario_text(stream_head + "    stream:\n      end: {data: \"[DONE]\"}\n"
                                                    "      shutdown_notice: {event: end, data_contains: shutdown}\n", "s.yaml");
    const auto& c = s.workloads[0].stream;
    ASSERT_TRUE(c.end && c.shutdown_notice);
    EXPECT_EQ(c.end->data, "[DONE]");
    EXPECT_FALSE(c.end->event);
    EXPECT_EQ(c.shutdown_notice->event, "end");
    EXPECT_EQ(c.shutdown_notice->data_contains, "shutdown");
    // Without stream:, the end of the HTTP message is the end: no markers.
    const auto plain = load_scenario_text(stream_head, "s.yaml");
    EXPECT_FALSE(plain.workloads[0].stream.end || plain.workloads[0].stream.shutdown_notice);
}

TEST(ScenarioContract, StreamMarkerErrors) {
    EXPECT_EQ(error_of(stream_head + "    stream: {end: {}}\n"), "6:19: stream.end needs event, data or data_contains");
    EXPECT_EQ(error_of(stream_head + "    stream: {end: {data: a, data_contains: b}}\n"),
              "6:44: stream.end takes data (exact) or data_contains, not both");
    EXPECT_EQ(error_of(stream_head + "    stream: {end: {events: end}}\n"), "6:20: unknown key 'events' in stream.end (did you mean 'event'?)");
    EXPECT_EQ(error_of(stream_head + "    stream: {finish: {data: x}}\n"), "6:14: unknown key 'finish' in stream");
    EXPECT_EQ(error_of(stream_head + "    stream: {end: {event: [a]}}\n"), "6:27: stream.end.event must be a string");
    EXPECT_EQ(error_of(job_head + "    stream: {end: {data: x}}\n"), "6:13: stream: is for kind: stream");
}

TEST(ScenarioContract, JobPolling) {
    const auto s = load_scenario_text(job_head + "    job: {id: /data/id, poll: \"/v1/tasks/{id}?full=1\", done: {pointer: /status, equals: \"true\"}, "
                                                 "poll_interval: 250ms}\n", "s.yaml");
    ASSERT_TRUE(s.workloads[0].job);
    const auto& j = *s.workloads[0].job;
    EXPECT_EQ(j.id_pointer, "/data/id");
    EXPECT_EQ(j.poll, "/v1/tasks/{id}?full=1");
    EXPECT_EQ(j.done_pointer, "/status");
    EXPECT_EQ(j.done_equals, "true");
    EXPECT_EQ(j.poll_interval, Duration(250ms));
    EXPECT_FALSE(load_scenario_text(job_head, "s.yaml").workloads[0].job);
}

TEST(ScenarioContract, JobPollingErrors) {
    const std::string done = "done: {pointer: /state, equals: ok}";
    EXPECT_EQ(error_of(job_head + "    job: {poll: \"/j/{id}\", " + done + "}\n"),
              "6:10: job needs id (job: {id: /id, poll: \"/tasks/{id}\", done: {pointer: /status, equals: done}})");
    EXPECT_EQ(error_of(job_head + "    job: {id: id, poll: \"/j/{id}\", " + done + "}\n"),
              "6:15: job.id must be a JSON pointer like /id or /data/0/state ('' for the whole body; ~0 and ~1 escape ~ and /)");
    EXPECT_EQ(error_of(job_head + "    job: {id: /a~2, poll: \"/j/{id}\", " + done + "}\n"),
              "6:15: job.id must be a JSON pointer like /id or /data/0/state ('' for the whole body; ~0 and ~1 escape ~ and /)");
    EXPECT_EQ(error_of(job_head + "    job: {id: /id, poll: /jobs, " + done + "}\n"), "6:26: job.poll must hold {id}, where the job's id goes");
    EXPECT_EQ(error_of(job_head + "    job: {id: /id, poll: \"jobs/{id}\", " + done + "}\n"),
              "6:26: job.poll must start with / and hold no spaces or control characters (percent-encode them, like %20)");
    EXPECT_EQ(error_of(job_head + "    job: {id: /id, poll: \"/j/{id}\", done: {pointer: /state}}\n"),
              "6:43: job.done needs pointer and equals (done: {pointer: /status, equals: done})");
    EXPECT_EQ(error_of(job_head + "    job: {id: /id, poll: \"/j/{id}\", " + done + ", poll_interval: 0ms}\n"),
              "6:89: job.poll_interval must be a duration from 1ms to 1m, like 250ms, 3s or 1m");
    EXPECT_EQ(error_of(head + "workloads:\n  - name: r\n    job: {id: /id}\n"), "5:10: job: is for kind: job");
    EXPECT_EQ(error_of(job_head + "expect: {jobs_accounted: true}\n"),
              "6:26: jobs_accounted needs a job workload with job: {id, poll, done} (how to find and poll its jobs)");
}

TEST(ScenarioContract, BodyExpectations) {
    const auto s = load_scenario_text(head + "workloads:\n  - name: d\n    expect_body: {bytes: 1048576, content_length_met: true, "
                                             "sha256: E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855}\n", "s.yaml");
    ASSERT_TRUE(s.workloads[0].expect_body);
    EXPECT_EQ(s.workloads[0].expect_body->bytes, 1048576u);
    EXPECT_TRUE(s.workloads[0].expect_body->content_length_met);
    EXPECT_EQ(s.workloads[0].expect_body->sha256, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");  // lowercased
    const std::string w = head + "workloads:\n  - name: d\n";
    EXPECT_EQ(error_of(w + "    expect_body: {sha256: abc}\n"), "5:27: expect_body.sha256 must be 64 hex digits (sha256sum's output)");
    EXPECT_EQ(error_of(w + "    expect_body: {bytes: -1}\n"), "5:26: expect_body.bytes must be a whole number, 0 or more");
    EXPECT_EQ(error_of(w + "    expect_body: {content_length_met: maybe}\n"), "5:39: expect_body.content_length_met must be true or false");
    EXPECT_EQ(error_of(w + "    expect_body: {}\n"), "5:18: expect_body needs bytes, content_length_met or sha256");
    EXPECT_EQ(error_of(w + "    kind: slowloris\n    expect_body: {bytes: 1}\n"), "6:18: expect_body: a slowloris workload gets no body");
}

TEST(ScenarioContract, AckedWritesCounterAndSet) {
    const std::string w = head + "workloads:\n  - {name: adds, request: {method: POST, path: /set/add}}\n";
    const auto counter = load_scenario_text(w + "expect:\n  acked_writes: {workload: adds, model: counter, increment: 3, read: {path: /c, pointer: /value}}\n", "s.yaml");
    ASSERT_TRUE(counter.expect.acked_writes);
    EXPECT_EQ(counter.expect.acked_writes->model, Expectations::AckedWrites::Model::counter);
    EXPECT_EQ(counter.expect.acked_writes->increment, 3);
    EXPECT_EQ(counter.expect.acked_writes->read_path, "/c");
    EXPECT_EQ(counter.expect.acked_writes->read_pointer, "/value");
    EXPECT_FALSE(counter.workloads[0].keep_reply_value);
    const auto set = load_scenario_text(w + "expect:\n  acked_writes: {workload: adds, model: set, element: {from: reply, pointer: /element}, "
                                            "read: {path: /set, pointer: /elements}}\n", "s.yaml");
    ASSERT_TRUE(set.expect.acked_writes);
    EXPECT_EQ(set.expect.acked_writes->model, Expectations::AckedWrites::Model::set);
    EXPECT_EQ(set.expect.acked_writes->element_from, Expectations::AckedWrites::ElementFrom::reply);
    EXPECT_EQ(set.workloads[0].keep_reply_value, "/element");  // the writes keep what the check needs
}

TEST(ScenarioContract, AckedWritesErrors) {
    const std::string w = head + "workloads:\n  - {name: adds, request: {method: POST, path: /set/add}}\nexpect:\n  acked_writes: ";
    const std::string read = "read: {path: /s, pointer: /v}";
    EXPECT_EQ(error_of(w + "{workload: adds, model: counter}\n"),
              "6:17: acked_writes needs read (acked_writes: {workload: increments, model: counter, read: {path: /state, pointer: /total}})");
    EXPECT_EQ(error_of(w + "{workload: nobody, model: counter, " + read + "}\n"), "6:28: acked_writes.workload: no workload named 'nobody'");
    EXPECT_EQ(error_of(w + "{workload: adds, model: bag, " + read + "}\n"), "6:41: unknown acked_writes.model 'bag' (expected counter or set)");
    EXPECT_EQ(error_of(w + "{workload: adds, model: set, " + read + "}\n"),
              "6:17: acked_writes with model: set needs element (element: {from: reply, pointer: /id})");
    EXPECT_EQ(error_of(w + "{workload: adds, model: set, element: {from: log, pointer: /id}, " + read + "}\n"),
              "6:62: unknown acked_writes.element.from 'log' (expected reply or request)");
    EXPECT_EQ(error_of(w + "{workload: adds, model: counter, increment: 0, " + read + "}\n"),
              "6:61: acked_writes.increment must be a whole number from 1 to 1000000000");
    EXPECT_EQ(error_of(w + "{workload: adds, model: counter, read: {path: /s}}\n"),
              "6:56: acked_writes.read needs path and pointer (read: {path: /state, pointer: /total})");
    EXPECT_EQ(error_of(head + "expect: {acked_writes_durable: true}\n"),
              "3:32: acked_writes_durable is now acked_writes: {workload: NAME, model: counter, read: {path: PATH, pointer: POINTER}} "
              "(see scenarios/README.md)");
}

TEST(ScenarioContract, ExitListsCodesAndSignals) {
    using Exit = Expectations::Exit;
    const auto exits = [](const std::string& value) { return load_scenario_text(head + "expect: {exit: " + value + "}\n", "s.yaml").expect.exit; };
    EXPECT_EQ(exits("0"), (std::vector<Exit>{{false, 0}}));
    EXPECT_EQ(exits("[0, 143]"), (std::vector<Exit>{{false, 0}, {false, 143}}));
    EXPECT_EQ(exits("TERM"), (std::vector<Exit>{{true, SIGTERM}}));
    EXPECT_EQ(exits("[0, SIGTERM, WINCH, RTMIN+1]"), (std::vector<Exit>{{false, 0}, {true, SIGTERM}, {true, SIGWINCH}, {true, SIGRTMIN + 1}}));
    EXPECT_EQ(load_scenario_text(head, "s.yaml").expect.exit, (std::vector<Exit>{{false, 0}}));  // the default
    EXPECT_EQ(error_of(head + "expect: {exit: [0, TERMINATE]}\n"),
              "3:20: exit 'TERMINATE' is neither a code from 0 to 255 nor a signal name like TERM, SIGKILL or RTMIN+1");
    EXPECT_EQ(error_of(head + "expect: {exit: [0, 256]}\n"), "3:20: exit (a code from 0 to 255, or a signal name like TERM or SIGKILL) must be a whole number from 0 to 255");
    EXPECT_EQ(error_of(head + "expect: {exit: []}\n"), "3:16: exit needs at least one code or signal");
    EXPECT_EQ(error_of(head + "expect: {exit: [[0]]}\n"), "3:17: exit must be a string");
}

TEST(ScenarioContract, EveryCheckCanBeTurnedOff) {
    const auto s = load_scenario_text(head + "expect: {readiness_flip: off, dropped: off, streams_clean: off, workloads_ran: off, "
                                             "signals_delivered: off, exit: off, acked_writes: off, drain_tail: 2s}\n", "s.yaml");
    EXPECT_EQ(s.expect.off, (std::vector<std::string>{"workloads_ran", "signals_delivered", "dropped", "streams_clean", "readiness_flip",
                                                       "exit", "acked_writes_durable"}));
    EXPECT_FALSE(s.expect.readiness_flip);
    EXPECT_EQ(s.expect.drain_tail, Duration(2s));
    EXPECT_EQ(error_of(head + "expect: {dropped: of}\n"), "3:19: dropped must be a whole number, 0 or more");
    EXPECT_EQ(error_of(head + "expect: {workloads_ran: sometimes}\n"), "3:25: workloads_ran must be true or false");
}

TEST(ScenarioVariables, FromTheEnvironmentAndFromVar) {
    ::setenv("LASTCALL_TEST_PATH", "/from-env", 1);
    ::setenv("LASTCALL_TEST_EMPTY", "", 1);
    ::unsetenv("LASTCALL_TEST_UNSET");
    const std::string text = head + "description: \"${LASTCALL_TEST_PATH} $${LASTCALL_TEST_PATH} $5 ${LASTCALL_TEST_UNSET:-dflt} "
                                    "${LASTCALL_TEST_EMPTY:-was-empty}\"\nworkloads:\n  - {name: a, request: {path: \"${LASTCALL_TEST_PATH}/x\"}}\n";
    const auto s = load_scenario_text(text, "s.yaml");
    EXPECT_EQ(s.description, "/from-env ${LASTCALL_TEST_PATH} $5 dflt was-empty");
    EXPECT_EQ(s.workloads[0].request.path, "/from-env/x");
    ScenarioVariables vars;
    vars.values["LASTCALL_TEST_PATH"] = "/from-var";
    EXPECT_EQ(load_scenario_text(text, "s.yaml", vars).workloads[0].request.path, "/from-var/x");  // --var wins
    // Values are substituted, not parsed: a variable cannot add YAML structure.
    vars.values["LASTCALL_TEST_PATH"] = "/a,b:{c}";
    EXPECT_EQ(load_scenario_text(text, "s.yaml", vars).workloads[0].request.path, "/a,b:{c}/x");
    // An alias is substituted once, with its anchor: the escape stays an escape.
    const auto aliased = load_scenario_text(head + "description: &d \"$${LASTCALL_TEST_PATH}\"\nworkloads:\n  - {name: a, request: {path: /p}}\n"
                                                   "timeline:\n  - {at: 1s, stop_load: a}\n", "s.yaml");
    EXPECT_EQ(aliased.description, "${LASTCALL_TEST_PATH}");
    // Typed values too.
    vars.values["N"] = "4";
    EXPECT_EQ(load_scenario_text(head + "workloads:\n  - {name: a, connections: \"${N}\"}\n", "s.yaml", vars).workloads[0].connections, 4);
}

TEST(ScenarioVariables, UnsetOrMalformedIsAnErrorAtTheScalar) {
    ::unsetenv("LASTCALL_TEST_UNSET");
    EXPECT_EQ(error_of(head + "workloads:\n  - {name: a, request: {path: \"/${LASTCALL_TEST_UNSET}\"}}\n"),
              "4:31: variable LASTCALL_TEST_UNSET is not set (set it in the environment, pass --var LASTCALL_TEST_UNSET=VALUE, or write "
              "${LASTCALL_TEST_UNSET:-default})");
    EXPECT_EQ(error_of(head + "description: ${oops\n"), "3:14: unterminated ${ (write $$ for a literal $)");
    EXPECT_EQ(error_of(head + "description: ${1X}\n"),
              "3:14: '${1X}' is not a variable: a name is letters, digits and _, not starting with a digit (${NAME} or ${NAME:-default}; $$ for a literal $)");
    EXPECT_EQ(error_of(head + "description: ${}\n"),
              "3:14: '${}' is not a variable: a name is letters, digits and _, not starting with a digit (${NAME} or ${NAME:-default}; $$ for a literal $)");
    // Keys are never substituted.
    EXPECT_EQ(error_of(head + "${X}: 1\n"), "3:1: unknown key '${X}' in the scenario");
}

} // namespace
} // namespace lastcall::harness

// streams_resumed on hand-built evidence (every way a resumption can go wrong, each named in the
// evidence), and the event id rules it rests on: what follows what, and what the trail notes as
// a stream's events are tokenized.
#include "checks.hpp"
#include "scenario_error_of.hpp"
#include "sse_parser.hpp"
#include "stream_end.hpp"
#include "stream_trail.hpp"

#include <gtest/gtest.h>

#include <csignal>

namespace lastcall::harness {
namespace {

const std::string stream_head = testing::minimal_head + "workloads:\n  - name: s\n    kind: stream\n";

TEST(StreamResumeYaml, ResumeIsReadAndItsMistakesArePlaced) {
    const auto s = load_scenario_text(stream_head + "    stream: {shutdown_notice: {event: end}, resume: true}\nexpect: {streams_resumed: true}\n", "s.yaml");
    EXPECT_TRUE(s.workloads[0].stream.resume);
    EXPECT_TRUE(s.expect.streams_resumed);
    EXPECT_FALSE(load_scenario_text(stream_head, "s.yaml").workloads[0].stream.resume);
    EXPECT_EQ(testing::error_of(stream_head + "    stream: {resum: true}\n"),
              "6:14: unknown key 'resum' in stream (did you mean 'resume'?)");
    EXPECT_EQ(testing::error_of(stream_head + "    stream: {resume: maybe}\n"), "6:22: stream.resume must be true or false");
    EXPECT_EQ(testing::error_of(stream_head + "    stream: {resume: true}\n"),
              "6:22: stream.resume needs shutdown_notice (how the server says it ended a stream for shutdown)");
    EXPECT_EQ(testing::error_of(testing::minimal_head + "workloads:\n  - name: s\n    stream: {resume: true}\n"),
              "5:13: stream: is for kind: stream");
    EXPECT_EQ(testing::error_of(stream_head + "    mode: open\n    rate: 1/s\n    stream: {shutdown_notice: {event: end}, resume: true}\n"),
              "8:53: stream.resume needs mode: closed (each connection resumes the stream it had)");
    EXPECT_EQ(testing::error_of(stream_head + "expect: {streams_resumed: true}\n"),
              "6:27: streams_resumed needs a stream workload with stream: {resume: true}");
}

TEST(EventIds, FollowsMeansSamePrefixAndTheNextNumber) {
    EXPECT_TRUE(id_follows("7", "8"));
    EXPECT_TRUE(id_follows("S-41", "S-42"));
    EXPECT_TRUE(id_follows("msg_9", "msg_10"));
    EXPECT_FALSE(id_follows("S-41", "S-41"));
    EXPECT_FALSE(id_follows("S-41", "T-42"));
    EXPECT_FALSE(id_follows("abc", "abd"));
    EXPECT_FALSE(id_follows("", "0"));
    EXPECT_FALSE(id_follows("18446744073709551615", "18446744073709551616"));  // past 64 bits: no number
    EXPECT_EQ(join_of("S-41", "S-42"), IdJoin::follows);
    EXPECT_EQ(join_of("S-41", "S-41"), IdJoin::repeats);
    EXPECT_EQ(join_of("S-41", "S-0"), IdJoin::repeats);
    EXPECT_EQ(join_of("S-41", "S-45"), IdJoin::skips);
    EXPECT_EQ(join_of("S-41", "R-0"), IdJoin::unrelated);
    EXPECT_EQ(join_of("x", "y"), IdJoin::unrelated);
}

TEST(EventIds, TrailNotesFirstLastAndBreaksAndPassesEventsOn) {
    StreamContract contract;
    contract.shutdown_notice = EventMatcher{"end", std::nullopt, "shutdown"};
    StreamConvention convention(contract);
    StreamTrail trail;
    EventIdTrail ids(convention, &trail);
    SseParser sse(ids);
    sse.feed("id: S-3\ndata: a\n\nid: S-4\ndata: b\n\n: comment\nid: S-6\ndata: c\n\nid: S-7\r\ndata: d\r\n\r\n");
    sse.feed("event: end\ndata: {\"reason\":\"shutdown\"}\n\n");  // no id of its own: the last id stays S-7
    EXPECT_EQ(trail.first_id, "S-3");
    EXPECT_EQ(trail.last_id, "S-7");
    EXPECT_EQ(trail.ids, 4u);
    EXPECT_EQ(trail.breaks, 1u);
    EXPECT_EQ(trail.first_break, "S-6 after S-4");
    EXPECT_EQ(convention.events(), 5u);
    EXPECT_EQ(convention.end(), StreamEnd::shutdown);
}

TEST(EventIds, AnIdTooLongToSendBackIsNotKept) {
    StreamContract contract;
    StreamConvention convention(contract);
    StreamTrail trail;
    EventIdTrail ids(convention, &trail);
    SseParser sse(ids);
    sse.feed("id: S-1\ndata: a\n\nid: " + std::string(max_event_id + 1, 'x') + "\ndata: b\n\n");
    EXPECT_TRUE(trail.id_too_long);
    EXPECT_EQ(trail.last_id, "");
}

// Generation 1 ends stream #256 (last id S-9) at 1.2 s; generation 2 spawns at 1.5 s.
class StreamsResumedTest : public ::testing::Test {
protected:
    StreamsResumedTest() {
        Workload w;
        w.name = "events";
        w.kind = WorkloadKind::stream;
        w.stream.resume = true;
        scenario.workloads = {w};
        scenario.expect.streams_resumed = true;
        run.workload_names = {"events"};
        run.signals = {SignalSent{1'000'000, SIGTERM, "target", 1, true, "", false}};
        run.generations.resize(2);
        run.generations[0].number = 1;
        run.generations[0].spawn_us = -100'000;
        run.generations[1].number = 2;
        run.generations[1].spawn_us = 1'500'000;
        run.restarted = true;
        add(stream(256, 500'000, 1'200'000, Outcome::ended_by_shutdown), trail(256, 0, "S-0", "S-9"));
    }
    static RequestRecord stream(std::uint64_t id, std::int64_t sent, std::int64_t done, Outcome outcome, int status = 200) {
        RequestRecord r;
        r.id = id;
        r.intended_us = r.sent_us = sent;
        r.done_us = done;
        r.status = static_cast<std::uint16_t>(status);
        r.outcome = outcome;
        if (status == 0) r.failure = Failure::connect_refused;
        return r;
    }
    static StreamTrail trail(std::uint64_t id, std::uint64_t resume_of, std::string first, std::string last) {
        StreamTrail t;
        t.request_id = id;
        t.resume_of = resume_of;
        t.first_id = std::move(first);
        t.last_id = std::move(last);
        return t;
    }
    void add(const RequestRecord& r, const StreamTrail& t) {
        run.history.push_back(r);
        run.stream_trails.push_back(t);
    }
    void resume_with(std::string first, Outcome outcome = Outcome::ok, std::int64_t sent = 1'700'000) {
        add(stream(512, 1'300'000, 1'300'100, Outcome::rejected, 0), trail(512, 256, "", ""));  // generation 1 is gone
        add(stream(768, sent, 2'500'000, outcome), trail(768, 256, std::move(first), "S-19"));
    }
    CheckResult check() {
        for (auto& c : evaluate_checks(scenario, run)) {
            if (c.name == "streams_resumed") return c;
        }
        throw std::runtime_error("no streams_resumed");
    }
    std::string evidence() {
        const auto c = check();
        return c.evidence.empty() ? c.message : c.evidence.front();
    }

    Scenario scenario;
    RunResult run;
};

TEST_F(StreamsResumedTest, TheNextIdAfterTheRestartPasses) {
    resume_with("S-10");
    const auto c = check();
    EXPECT_EQ(c.status, CheckStatus::pass) << c.message << " " << (c.evidence.empty() ? "" : c.evidence[0]);
    EXPECT_EQ(c.measured, "1 of 1 resumed");
}

TEST_F(StreamsResumedTest, SkippedWhenNotExpected) {
    scenario.expect.streams_resumed = false;
    EXPECT_EQ(check().status, CheckStatus::skip);
}

TEST_F(StreamsResumedTest, AStreamStartedAnewFails) {
    resume_with("T-0");  // the forget-stream-positions fault: a new stream from event 0
    EXPECT_EQ(check().status, CheckStatus::fail);
    const auto e = evidence();
    EXPECT_NE(e.find("stream #256 (events)"), std::string::npos) << e;
    EXPECT_NE(e.find("last id before 'S-9'"), std::string::npos) << e;
    EXPECT_NE(e.find("first id after 'T-0'"), std::string::npos) << e;
    EXPECT_NE(e.find("not the same stream"), std::string::npos) << e;
}

TEST_F(StreamsResumedTest, ADuplicateFails) {
    resume_with("S-9");
    EXPECT_EQ(check().status, CheckStatus::fail);
    EXPECT_NE(evidence().find("duplicate"), std::string::npos) << evidence();
}

TEST_F(StreamsResumedTest, AGapFails) {
    resume_with("S-12");
    EXPECT_EQ(check().status, CheckStatus::fail);
    EXPECT_NE(evidence().find("gap"), std::string::npos) << evidence();
}

TEST_F(StreamsResumedTest, BreaksInsideTheRestFail) {
    resume_with("S-10");
    run.stream_trails.back().breaks = 2;
    run.stream_trails.back().first_break = "S-14 after S-12";
    EXPECT_EQ(check().status, CheckStatus::fail);
    EXPECT_NE(evidence().find("S-14 after S-12"), std::string::npos) << evidence();
}

TEST_F(StreamsResumedTest, ARestThatWasCutFails) {
    resume_with("S-10", Outcome::dropped);
    EXPECT_EQ(check().status, CheckStatus::fail);
    EXPECT_NE(evidence().find("did not end cleanly"), std::string::npos) << evidence();
}

TEST_F(StreamsResumedTest, AnsweredBeforeTheRestartFails) {
    resume_with("S-10", Outcome::ok, 1'400'000);
    EXPECT_EQ(check().status, CheckStatus::fail);
    EXPECT_NE(evidence().find("before the target restarted"), std::string::npos) << evidence();
}

TEST_F(StreamsResumedTest, NeverAnsweredFails) {
    add(stream(512, 1'300'000, 1'300'100, Outcome::rejected, 0), trail(512, 256, "", ""));
    EXPECT_EQ(check().status, CheckStatus::fail);
    EXPECT_NE(evidence().find("1 reconnects, none answered 2xx"), std::string::npos) << evidence();
}

TEST_F(StreamsResumedTest, NeverAskedAgainFails) {
    EXPECT_EQ(check().status, CheckStatus::fail);
    EXPECT_NE(evidence().find("never asked for again"), std::string::npos) << evidence();
}

TEST_F(StreamsResumedTest, NoRestartFails) {
    run.generations.resize(1);
    resume_with("S-10");
    EXPECT_EQ(check().status, CheckStatus::fail);
    EXPECT_NE(check().message.find("never restarted"), std::string::npos) << check().message;
}

TEST_F(StreamsResumedTest, NothingEndedByShutdownFails) {
    run.history.front().outcome = Outcome::ok;  // a pass here would prove nothing
    EXPECT_EQ(check().status, CheckStatus::fail);
    EXPECT_NE(check().message.find("nothing was resumed"), std::string::npos) << check().message;
}

TEST_F(StreamsResumedTest, StreamsEndedByALaterGenerationAreNotJudged) {
    resume_with("S-10", Outcome::ended_by_shutdown);  // lastcall stopped generation 2 at the end of the run
    EXPECT_EQ(check().status, CheckStatus::pass) << evidence();
}

TEST_F(StreamsResumedTest, AStreamWithNoIdBeforeMayStartAnywhere) {
    run.stream_trails.front().first_id.clear();
    run.stream_trails.front().last_id.clear();
    resume_with("S-0");
    EXPECT_EQ(check().status, CheckStatus::pass) << evidence();
}

} // namespace
} // namespace lastcall::harness

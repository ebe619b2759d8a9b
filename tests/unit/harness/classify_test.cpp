// The outcome classes as a table (docs/design.md). The wire-level counterpart is
// integration/outcome_classification_test.cpp.
#include "history.hpp"

#include <gtest/gtest.h>

namespace lastcall::harness {
namespace {

Observation complete(int status) {
    Observation o;
    o.complete = true;
    o.status = status;
    o.response_bytes = 100;
    return o;
}

TEST(Classify, CompleteResponses) {
    EXPECT_EQ(classify(complete(200)), Outcome::ok);
    EXPECT_EQ(classify(complete(202)), Outcome::ok);
    EXPECT_EQ(classify(complete(503)), Outcome::rejected);
    EXPECT_EQ(classify(complete(500)), Outcome::error);
    EXPECT_EQ(classify(complete(404)), Outcome::error);
}

TEST(Classify, Streams) {
    auto o = complete(200);
    o.is_stream = true;
    o.stream_end = StreamEnd::complete;
    EXPECT_EQ(classify(o), Outcome::ok);
    o.stream_end = StreamEnd::shutdown;
    EXPECT_EQ(classify(o), Outcome::ended_by_shutdown);
    o.stream_end = StreamEnd::none;  // terminator without an end event
    EXPECT_EQ(classify(o), Outcome::dropped);
    o.complete = false;  // cut
    o.stream_end = StreamEnd::shutdown;
    EXPECT_EQ(classify(o), Outcome::dropped);
}

TEST(Classify, RefusedIsRejectedAndOtherConnectFailuresAreUnknown) {
    Observation o;
    o.failure = Failure::connect_refused;
    EXPECT_EQ(classify(o), Outcome::rejected);
    o.failure = Failure::connect_error;
    EXPECT_EQ(classify(o), Outcome::unknown);
}

TEST(Classify, IdleCloseRaceOnlyOnAReusedConnectionWithNoBytesRightAfterSending) {
    Observation o;
    o.reused_connection = true;
    o.failure = Failure::eof_before_response;
    o.closed_after_send_us = 200;
    EXPECT_EQ(classify(o), Outcome::idle_close_race);
    o.failure = Failure::reset;
    EXPECT_EQ(classify(o), Outcome::idle_close_race);
    o.closed_after_send_us = race_window_us + 1;  // the server held it, then dropped it
    EXPECT_EQ(classify(o), Outcome::dropped);
    o.closed_after_send_us = 200;
    o.reused_connection = false;  // a fresh connection: nothing to race with
    EXPECT_EQ(classify(o), Outcome::dropped);
    o.reused_connection = true;
    o.response_bytes = 5;
    o.failure = Failure::eof_mid_response;
    EXPECT_EQ(classify(o), Outcome::dropped);
}

TEST(Classify, ACutByTheScenarioIsUnknownNeverDropped) {
    Observation o;
    o.failure = Failure::eof_mid_response;
    o.response_bytes = 10;
    o.target_killed_meanwhile = true;
    EXPECT_EQ(classify(o), Outcome::unknown);
    auto done = complete(200);
    done.target_killed_meanwhile = true;  // it completed anyway: that is a fact, not a guess
    EXPECT_EQ(classify(done), Outcome::ok);
}

} // namespace
} // namespace lastcall::harness

namespace lastcall::harness {
namespace {

// Issue 7 item 16: lastcall's own failure says nothing about the target, whatever else was seen.
TEST(Classify, AHarnessErrorIsUnknown) {
    auto o = complete(200);
    o.failure = Failure::harness_error;
    EXPECT_EQ(classify(o), Outcome::unknown);
    o.complete = false;
    o.reused_connection = true;
    o.response_bytes = 0;
    EXPECT_EQ(classify(o), Outcome::unknown);
}

TEST(Classify, SlowlorisCutByTheServerIsRejectedOtherwiseUnknown) {
    Observation o;
    o.is_slowloris = true;
    o.failure = Failure::eof_before_response;
    EXPECT_EQ(classify(o), Outcome::rejected);
    o.failure = Failure::reset;
    EXPECT_EQ(classify(o), Outcome::rejected);
    o.failure = Failure::timeout;  // the server held it as long as we cared to drip
    EXPECT_EQ(classify(o), Outcome::unknown);
}

} // namespace
} // namespace lastcall::harness

// Requests a SIGKILL of lastcall's to one worker may have cut are unknown, not dropped; nothing
// else changes class.
#include "process_kills.hpp"

#include <gtest/gtest.h>

#include <csignal>

namespace lastcall::harness {
namespace {

RequestRecord request(std::int64_t sent, std::int64_t done, Outcome outcome) {
    RequestRecord r;
    r.sent_us = sent;
    r.done_us = done;
    r.outcome = outcome;
    return r;
}

SignalSent kill_worker(std::int64_t at, int signal = SIGKILL, SignalTarget target = SignalTarget::worker, bool delivered = true) {
    SignalSent s{at, signal, "worker 1 (pid 42)", 1, delivered, "", false, at + 100};
    s.purpose = SignalPurpose::process;
    s.target = target;
    s.pids = {42};
    return s;
}

TEST(ProcessKills, FailuresInFlightAtTheKillBecomeUnknown) {
    std::vector<RequestRecord> history{
        request(900'000, 1'000'500, Outcome::dropped),          // in flight at the kill
        request(1'005'000, 1'006'000, Outcome::idle_close_race),  // crossed it on the wire
        request(1'200'000, 1'201'000, Outcome::dropped),        // long after: the server's
        request(800'000, 900'000, Outcome::dropped),            // before it
        request(900'000, 1'000'500, Outcome::ok),               // served: stays served
        request(900'000, 1'000'500, Outcome::rejected),         // a 503 is an answer
    };
    EXPECT_EQ(mark_cut_by_process_kills(history, {kill_worker(1'000'000)}), 2u);
    EXPECT_EQ(history[0].outcome, Outcome::unknown);
    EXPECT_EQ(history[1].outcome, Outcome::unknown);
    EXPECT_EQ(history[2].outcome, Outcome::dropped);
    EXPECT_EQ(history[3].outcome, Outcome::dropped);
    EXPECT_EQ(history[4].outcome, Outcome::ok);
    EXPECT_EQ(history[5].outcome, Outcome::rejected);
}

TEST(ProcessKills, OnlyADeliveredSigkillToAWorkerOrChildCounts) {
    const std::vector<RequestRecord> cut{request(900'000, 1'000'500, Outcome::dropped)};
    for (const auto& s : {kill_worker(1'000'000, SIGTERM), kill_worker(1'000'000, SIGKILL, SignalTarget::main),
                          kill_worker(1'000'000, SIGKILL, SignalTarget::worker, false)}) {
        auto history = cut;
        EXPECT_EQ(mark_cut_by_process_kills(history, {s}), 0u);
        EXPECT_EQ(history[0].outcome, Outcome::dropped);
    }
    for (const auto target : {SignalTarget::child, SignalTarget::workers}) {
        auto history = cut;
        EXPECT_EQ(mark_cut_by_process_kills(history, {kill_worker(1'000'000, SIGKILL, target)}), 1u);
    }
}

} // namespace
} // namespace lastcall::harness

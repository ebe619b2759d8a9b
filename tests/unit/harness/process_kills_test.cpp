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
    EXPECT_EQ(mark_cut_by_process_kills(history, {kill_worker(1'000'000)}, {}), 2u);
    EXPECT_EQ(history[0].outcome, Outcome::unknown);
    EXPECT_EQ(history[1].outcome, Outcome::unknown);
    EXPECT_EQ(history[2].outcome, Outcome::dropped);
    EXPECT_EQ(history[3].outcome, Outcome::dropped);
    EXPECT_EQ(history[4].outcome, Outcome::ok);
    EXPECT_EQ(history[5].outcome, Outcome::rejected);
}

ProcessLife life(pid_t pid, std::int64_t spawn, std::int64_t exit) {
    ProcessLife l;
    l.pid = pid;
    l.spawn_us = spawn;
    l.exit_us = exit;
    return l;
}

// Under load a SIGKILLed worker took 72 ms to die; until then its sockets stayed open and a request
// sent on one of them met the close only when it died. Its end counts, not kill()'s return.
TEST(ProcessKills, ASlowDeathExtendsTheCutToTheProcessEnd) {
    std::vector<RequestRecord> history{
        request(1'050'000, 1'072'500, Outcome::idle_close_race),  // sent while pid 42 was dying
        request(1'078'000, 1'079'000, Outcome::dropped),          // crossed its end on the wire
        request(1'200'000, 1'201'000, Outcome::dropped),          // long after its end: the server's
    };
    const std::vector<ProcessLife> lives{
        life(42, 0, 1'072'000),          // the killed worker: died 72 ms after the kill
        life(42, 2'000'000, 3'000'000),  // a later process with the pid reused: not the kill's
        life(43, 0, -1),                 // another worker, alive
    };
    EXPECT_EQ(mark_cut_by_process_kills(history, {kill_worker(1'000'000)}, lives), 2u);
    EXPECT_EQ(history[0].outcome, Outcome::unknown);
    EXPECT_EQ(history[1].outcome, Outcome::unknown);
    EXPECT_EQ(history[2].outcome, Outcome::dropped);
}

TEST(ProcessKills, OnlyADeliveredSigkillToAWorkerOrChildCounts) {
    const std::vector<RequestRecord> cut{request(900'000, 1'000'500, Outcome::dropped)};
    for (const auto& s : {kill_worker(1'000'000, SIGTERM), kill_worker(1'000'000, SIGKILL, SignalTarget::main),
                          kill_worker(1'000'000, SIGKILL, SignalTarget::worker, false)}) {
        auto history = cut;
        EXPECT_EQ(mark_cut_by_process_kills(history, {s}, {}), 0u);
        EXPECT_EQ(history[0].outcome, Outcome::dropped);
    }
    for (const auto target : {SignalTarget::child, SignalTarget::workers}) {
        auto history = cut;
        EXPECT_EQ(mark_cut_by_process_kills(history, {kill_worker(1'000'000, SIGKILL, target)}, {}), 1u);
    }
}

} // namespace
} // namespace lastcall::harness

// The live view's line (pure: a status, how long ago it was reported, how long its phase has
// lasted) and its two ways of being shown: redrawn on a terminal, plain lines in a log.
#include "live_view.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <string>

namespace lastcall::harness {
namespace {

LiveStatus status(RunPhase phase, std::int64_t elapsed_us, std::string detail = {}) {
    LiveStatus s;
    s.phase = phase;
    s.elapsed_us = elapsed_us;
    s.max_duration_us = 10'000'000;
    s.detail = std::move(detail);
    s.counts.in_flight = 3;
    s.counts.completed = 42;
    s.counts.by_outcome[static_cast<std::size_t>(Outcome::ok)] = 40;
    s.counts.by_outcome[static_cast<std::size_t>(Outcome::ended_by_shutdown)] = 2;
    return s;
}

const LiveLineStyle plain{0, false, false};

TEST(LiveLine, SaysThePhaseTheClockAgainstMaxDurationAndTheOutcomesInWords) {
    const auto line = live_line(status(RunPhase::draining, 2'500'000, "SIGTERM at 2.00s, not ready"), 0, 0, 120.0, {200, true, false});
    EXPECT_EQ(line, "  2.5s/10.0s [##--------]  draining: SIGTERM at 2.00s, not ready | 120 req/s, in flight 3, done 42 "
                    "(ok 40, ended by shutdown 2)");
    EXPECT_EQ(line.find("ebs"), std::string::npos);
}

// Once a shutdown signal (or a SIGKILL) went out, the verdict may move a failure to another class
// (a refusal held across the signal is dropped): the line says its counts are provisional, and
// only when it holds a failure that could move.
TEST(LiveLine, AfterTheSignalItsFailureCountsAreProvisional) {
    auto s = status(RunPhase::signal_sent, 2'500'000, "SIGTERM at 2.00s");
    s.provisional = true;
    EXPECT_NE(live_line(s, 0, 0, std::nullopt, plain).find("done 42 (ok 40, ended by shutdown 2)"), std::string::npos) << "no failure: final";
    s.counts.by_outcome[static_cast<std::size_t>(Outcome::rejected)] = 27;
    EXPECT_NE(live_line(s, 0, 0, std::nullopt, plain).find("done 42 (provisional: ok 40, ended by shutdown 2, rejected 27)"), std::string::npos)
        << live_line(s, 0, 0, std::nullopt, plain);
    s.provisional = false;  // before the signal a refusal is final
    EXPECT_NE(live_line(s, 0, 0, std::nullopt, plain).find("done 42 (ok 40, ended by shutdown 2, rejected 27)"), std::string::npos);
}

TEST(LiveLine, StartingTargetIsNotBlankAndItsClockRuns) {
    LiveStatus s;
    s.detail = "waiting for GET /ready on port 8080 to answer 2xx";
    EXPECT_EQ(live_line(s, 0, 1'400'000, std::nullopt, plain), "  1.4s  starting: waiting for GET /ready on port 8080 to answer 2xx");
}

// A restart blocks the conductor for as long as the next generation takes to be ready: the clock
// the view shows goes on from the last report, and says how long the restart has taken.
TEST(LiveLine, ClockGoesOnDuringARestart) {
    auto s = status(RunPhase::restarting, 1'000'000, "generation 1 exited, starting the next");
    const auto line = live_line(s, 2'000'000, 2'000'000, std::nullopt, plain);
    EXPECT_EQ(line.rfind("  3.0s/10.0s  restarting: generation 1 exited, starting the next, 2.0s | - req/s", 0), 0u) << line;
}

// The conductor reads its clock, then sends the signal: the status says "SIGTERM at 1.00s" with a
// clock of 0.94 s. The clock shown is never earlier than the event it names, rounding included.
TEST(LiveLine, ClockIsNeverEarlierThanTheEventItShows) {
    auto s = status(RunPhase::signal_sent, 940'000, "SIGTERM at 1.00s");
    s.event_us = 1'000'000;
    EXPECT_EQ(live_line(s, 0, 0, std::nullopt, plain).rfind("  1.0s/10.0s  signal sent: SIGTERM at 1.00s", 0), 0u) << live_line(s, 0, 0, std::nullopt, plain);
    s = status(RunPhase::exited, 1'040'000, "exit 0 at 1.05s");
    s.event_us = 1'049'000;
    EXPECT_EQ(live_line(s, 0, 0, std::nullopt, plain).rfind("  1.1s/10.0s  exited: exit 0 at 1.05s", 0), 0u) << "not 1.0s: "
        << live_line(s, 0, 0, std::nullopt, plain);
    s = status(RunPhase::finishing, 3'000'000, "stopping the load");
    s.event_us = 1'049'000;
    EXPECT_EQ(live_line(s, 0, 0, std::nullopt, plain).rfind("  3.0s/10.0s", 0), 0u) << "a later clock stays: " << live_line(s, 0, 0, std::nullopt, plain);
}

TEST(LiveLine, IsCutToTheTerminalAndColouredOnlyWhenAsked) {
    const auto s = status(RunPhase::ready, 1'000'000);
    EXPECT_EQ(live_line(s, 0, 0, 10.0, {40, true, false}), "  1.0s/10.0s  ready | in flight 3") << "what does not fit is left out";
    EXPECT_EQ(live_line(s, 0, 0, 10.0, {20, true, false}).size(), 19u) << "and the rest cut: a wrapped line cannot be redrawn";
    EXPECT_EQ(live_line(s, 0, 0, 10.0, {120, true, false}).find('\033'), std::string::npos);
    EXPECT_NE(live_line(s, 0, 0, 10.0, {120, true, true}).find("\033[32mready\033[0m"), std::string::npos);
}

// At 80 columns the line after the signal was cut at "draining: SIGTERM at 1.00s, not ready |
// 81322 req/s,": the in-flight and failure counts were lost. Parts go least useful first: the
// bar, the rate, ", not ready" (the phase says it), the ok counts, "done", the signal's time.
TEST(LiveLine, OnANarrowTerminalTheCountsThatMatterAfterTheSignalStay) {
    auto s = status(RunPhase::draining, 2'500'000, "SIGTERM at 1.00s, not ready");
    s.event_us = 1'000'000;
    s.provisional = true;
    s.counts.in_flight = 64;
    s.counts.completed = 81322;
    s.counts.by_outcome[static_cast<std::size_t>(Outcome::ok)] = 81262;
    s.counts.by_outcome[static_cast<std::size_t>(Outcome::ended_by_shutdown)] = 30;
    s.counts.by_outcome[static_cast<std::size_t>(Outcome::rejected)] = 27;
    s.counts.by_outcome[static_cast<std::size_t>(Outcome::dropped)] = 3;
    EXPECT_EQ(live_line(s, 0, 0, 81322.0, {80, true, false}), "  2.5s/10.0s  draining | in flight 64, provisional: rejected 27, dropped 3");
    EXPECT_EQ(live_line(s, 0, 0, 81322.0, {120, true, false}),
              "  2.5s/10.0s  draining: SIGTERM at 1.00s | in flight 64, done 81322 (provisional: rejected 27, dropped 3)");
    EXPECT_EQ(live_line(s, 0, 0, 81322.0, {200, true, false}),
              "  2.5s/10.0s [##--------]  draining: SIGTERM at 1.00s, not ready | 81322 req/s, in flight 64, done 81322 "
              "(provisional: ok 81262, ended by shutdown 30, rejected 27, dropped 3)")
        << "a wide terminal shows it all";
    for (std::size_t width = 64; width <= 200; ++width) {
        const auto line = live_line(s, 0, 0, 81322.0, {width, true, false});
        EXPECT_LE(line.size(), width - 1) << line;
        EXPECT_NE(line.find("in flight 64"), std::string::npos) << width << ": " << line;
        EXPECT_NE(line.find("provisional: "), std::string::npos) << width << ": " << line;
        EXPECT_NE(line.find("rejected 27"), std::string::npos) << width << ": " << line;
    }
}

TEST(RequestRate, CompletedPerSecondOverTheLastSecondOfTheRunsClock) {
    RequestRate rate;
    EXPECT_FALSE(rate.per_second());
    rate.add(0, 0);
    rate.add(500'000, 1000);
    EXPECT_DOUBLE_EQ(*rate.per_second(), 2000.0);
    rate.add(1'000'000, 1500);
    rate.add(2'000'000, 1600);  // the first two samples are out of the window
    EXPECT_DOUBLE_EQ(*rate.per_second(), 100.0);
    rate.add(2'000'000, 9999);  // not after the last: ignored
    EXPECT_DOUBLE_EQ(*rate.per_second(), 100.0);
}

std::string contents(std::FILE* file) {
    std::fflush(file);
    std::rewind(file);
    std::string text;
    for (int ch = std::fgetc(file); ch != EOF; ch = std::fgetc(file)) text += static_cast<char>(ch);
    return text;
}

// Not a terminal (a CI log): each change of phase is a plain line at once, no escape codes.
TEST(LiveView, InALogEveryPhaseIsAPlainLine) {
    std::FILE* log = std::tmpfile();
    ASSERT_NE(log, nullptr);
    {
        LiveView view(log, LiveMode::lines, true, std::chrono::hours(1));
        view.report(status(RunPhase::ready, 100'000));
        view.report(status(RunPhase::ready, 200'000));  // the same phase: the next line is due in an hour
        view.report(status(RunPhase::signal_sent, 300'000, "SIGTERM at 0.30s"));
        view.report(status(RunPhase::exited, 900'000, "exit 0 at 0.90s"));
    }
    const auto text = contents(log);
    std::fclose(log);
    EXPECT_EQ(text.find('\033'), std::string::npos) << text;
    EXPECT_EQ(text.find('\r'), std::string::npos) << text;
    ASSERT_EQ(std::count(text.begin(), text.end(), '\n'), 3) << text;
    EXPECT_NE(text.find("lastcall:   0.1s/10.0s  ready"), std::string::npos) << text;
    EXPECT_NE(text.find("signal sent: SIGTERM at 0.30s"), std::string::npos) << text;
    EXPECT_NE(text.find("exited: exit 0 at 0.90s"), std::string::npos) << text;
}

TEST(LiveView, QuietShowsNothing) {
    std::FILE* log = std::tmpfile();
    ASSERT_NE(log, nullptr);
    {
        LiveView view(log, LiveMode::off, false);
        view.report(status(RunPhase::ready, 100'000));
        view.end_run();
    }
    EXPECT_EQ(contents(log), "");
    std::fclose(log);
}

TEST(LiveView, OnATerminalTheLineIsRedrawnAndClearedAtTheEnd) {
    std::FILE* screen = std::tmpfile();
    ASSERT_NE(screen, nullptr);
    {
        LiveView view(screen, LiveMode::redraw, false);
        view.report(status(RunPhase::ready, 100'000));
        view.end_run();
    }
    const auto text = contents(screen);
    std::fclose(screen);
    EXPECT_EQ(text.rfind("\r\033[K", 0), 0u) << text;
    EXPECT_NE(text.find("ready"), std::string::npos);
    EXPECT_EQ(text.substr(text.size() - 4), "\r\033[K") << "the line is gone before the run's report";
    EXPECT_EQ(text.find('\n'), std::string::npos);
}

} // namespace
} // namespace lastcall::harness

// The fold from what the /proc scans remembered (FamilyMember) to each process's life in run time.
#include "process_life.hpp"
#include "proc_reader.hpp"

#include <gtest/gtest.h>

#include <unistd.h>

namespace lastcall::harness {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

TEST(ProcessLife, ThisProcessStartedBeforeNowAndAfterBoot) {
    const auto stat = read_proc_stat(::getpid());
    ASSERT_TRUE(stat);
    const auto started = steady_start_time(stat->start_ticks);
    EXPECT_LE(started, Clock::now());
    EXPECT_GT(started, Clock::now() - 24h) << "a test process that started a day ago?";
}

TEST(ProcessLife, TimesAreRunTimesAndAnEndIsBracketedByTwoScans) {
    const auto run_start = Clock::now();
    const auto stat = read_proc_stat(::getpid());
    ASSERT_TRUE(stat);
    FamilyMember alive;
    alive.pid = 10;
    alive.first_parent = 5;
    alive.generation = 1;
    alive.command = "worker";
    alive.start_ticks = stat->start_ticks;
    alive.first_seen = run_start + 1s;
    alive.last_seen_alive = run_start + 3s;
    FamilyMember gone = alive;
    gone.pid = 11;
    gone.last_seen_alive = run_start + 2s;
    gone.gone_seen = run_start + 2050ms;
    const auto lives = process_lives({alive, gone}, run_start);
    ASSERT_EQ(lives.size(), 2u);
    const auto& a = lives[0].pid == 10 ? lives[0] : lives[1];
    const auto& g = lives[0].pid == 11 ? lives[0] : lives[1];
    EXPECT_EQ(a.parent, 5);
    EXPECT_EQ(a.first_seen_us, 1'000'000);
    EXPECT_LE(a.spawn_us, 0) << "this test process was born before the run started";
    EXPECT_EQ(a.gone_us, -1);
    EXPECT_EQ(g.last_seen_us, 2'000'000);
    EXPECT_EQ(g.gone_us, 2'050'000);
}

TEST(ProcessLife, ABirthIsNeverAfterTheFirstSighting) {
    const auto run_start = Clock::now() - 10s;
    FamilyMember m;
    m.pid = 12;
    m.start_ticks = ~0ull / 2;  // a start time in the far future: bad data, not a reason to place it after it was seen
    m.first_seen = run_start + 1s;
    m.last_seen_alive = m.first_seen;
    const auto lives = process_lives({m}, run_start);
    ASSERT_EQ(lives.size(), 1u);
    EXPECT_EQ(lives[0].spawn_us, 1'000'000);
}

} // namespace
} // namespace lastcall::harness

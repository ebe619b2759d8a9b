// When `lastcall bench` must not run or must stop before -d (bench_guard.hpp), as pure judgements:
// the descriptors -c needs against the limit, and the live counts that end a run early.
#include "bench_guard.hpp"

#include <gtest/gtest.h>

#include <sys/resource.h>

#include <cerrno>

namespace lastcall::harness {
namespace {

using namespace std::chrono_literals;

TEST(BenchGuard, ConnectionsPastTheSoftLimitSayTheLimitAndHowToRaiseIt) {
    // 100 connections + 10 open + 8 for the thread + 16 = 134.
    EXPECT_FALSE(descriptor_shortage(100, 1, 10, 134, 134));
    const auto raise = descriptor_shortage(100, 1, 10, 64, 4096);
    ASSERT_TRUE(raise);
    EXPECT_EQ(*raise, "-c 100 needs about 134 file descriptors (100 connections, 34 for lastcall), and this process may open 64 "
                      "(`ulimit -n`, Too many open files past it): raise it with `ulimit -n 134` (up to the hard limit, `ulimit -Hn`: "
                      "4096), or use -c 30 or fewer");
    const auto hard = descriptor_shortage(100, 1, 10, 64, 64);
    ASSERT_TRUE(hard);
    EXPECT_NE(hard->find("the hard limit (`ulimit -Hn`) is 64 too: root raises it"), std::string::npos) << *hard;
    EXPECT_FALSE(descriptor_shortage(1'000'000, 2, 10, RLIM_INFINITY, RLIM_INFINITY));
}

TEST(BenchGuard, StopsOnDescriptorsOrOnASecondOfRefusalsWithNothingServed) {
    LiveCounts live;
    const auto rejected = static_cast<std::size_t>(Outcome::rejected);
    live.completed = live.by_outcome[rejected] = 50;
    EXPECT_EQ(early_stop(live, 999ms, "http://x/"), "") << "not a second yet";
    EXPECT_NE(early_stop(live, 1s, "http://x/").find("every connect to http://x/ was refused for 1.0s"), std::string::npos);
    live.completed += 1;
    live.by_outcome[static_cast<std::size_t>(Outcome::ok)] = 1;
    EXPECT_EQ(early_stop(live, 5s, "http://x/"), "") << "something was served: a server that died mid-run runs its -d";
    live.connect_errno = EMFILE;
    EXPECT_NE(early_stop(live, 10ms, "http://x/").find("a connection could not be opened: Too many open files"), std::string::npos);
    live.connect_errno = ECONNRESET;
    EXPECT_EQ(early_stop(live, 10ms, "http://x/"), "") << "another connect failure is counted, not a stop";
}

} // namespace
} // namespace lastcall::harness

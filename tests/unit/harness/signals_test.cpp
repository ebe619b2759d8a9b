// Signal names as scenarios, the CLI and reports write them: every signal the kernel knows.
#include "signals.hpp"

#include <gtest/gtest.h>

#include <csignal>

namespace lastcall::harness {
namespace {

TEST(Signals, NamesWithOrWithoutPrefixAnyCase) {
    EXPECT_EQ(parse_signal("TERM"), SIGTERM);
    EXPECT_EQ(parse_signal("SIGKILL"), SIGKILL);
    EXPECT_EQ(parse_signal("quit"), SIGQUIT);
    EXPECT_EQ(parse_signal("WINCH"), SIGWINCH);  // Apache httpd's graceful stop
    EXPECT_EQ(parse_signal("SIGPWR"), SIGPWR);
    EXPECT_EQ(parse_signal("IOT"), SIGABRT);
}

TEST(Signals, Numbers) {
    EXPECT_EQ(parse_signal("15"), SIGTERM);
    EXPECT_EQ(parse_signal("9"), SIGKILL);
    EXPECT_FALSE(parse_signal("0"));
    EXPECT_FALSE(parse_signal("65"));
    EXPECT_FALSE(parse_signal("15x"));
    EXPECT_FALSE(parse_signal("99999999999999999999"));
}

TEST(Signals, RealTime) {
    EXPECT_EQ(parse_signal("RTMIN"), SIGRTMIN);
    EXPECT_EQ(parse_signal("SIGRTMIN+3"), SIGRTMIN + 3);
    EXPECT_EQ(parse_signal("RTMAX-1"), SIGRTMAX - 1);
    EXPECT_FALSE(parse_signal("RTMIN-1"));
    EXPECT_FALSE(parse_signal("RTMIN+999"));
    EXPECT_FALSE(parse_signal("RTMIN+"));
    EXPECT_EQ(signal_name(SIGRTMIN + 3), "SIGRTMIN+3");
    EXPECT_EQ(parse_signal(signal_name(SIGRTMAX)), SIGRTMAX);
}

TEST(Signals, UnknownNames) {
    EXPECT_FALSE(parse_signal("SIGFOO"));
    EXPECT_FALSE(parse_signal(""));
    EXPECT_FALSE(parse_signal("SIG"));
    EXPECT_FALSE(parse_signal("TERMTERMTERMTERMTERM"));
}

TEST(Signals, NamesRoundTrip) {
    EXPECT_EQ(signal_name(SIGQUIT), "SIGQUIT");
    for (int s = 1; s <= SIGRTMAX; ++s) {
        const auto name = signal_name(s);
        if (name == std::to_string(s)) continue;  // glibc has no name for it
        EXPECT_EQ(parse_signal(name), s) << name;
    }
    EXPECT_EQ(signal_name(0), "0");
    EXPECT_EQ(signal_name(1000), "1000");
}

} // namespace
} // namespace lastcall::harness

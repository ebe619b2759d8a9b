#include "config.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <initializer_list>
#include <utility>
#include <vector>

namespace lastcall::server {
namespace {

using namespace std::chrono_literals;

ServerConfig parse(std::vector<const char*> args) {
    args.insert(args.begin(), "lastcall-server");
    return parse_config(static_cast<int>(args.size()), args.data());
}

TEST(ServerConfig, DurationsTakeUnits) {
    EXPECT_EQ(parse_duration("250ms", "x"), 250ms);
    EXPECT_EQ(parse_duration("3s", "x"), 3s);
    EXPECT_EQ(parse_duration("1m", "x"), 60s);
    EXPECT_EQ(parse_duration("0", "x"), 0s);
    for (const char* bad : {"", "5", "s", "-1s", "1.5s", "3 s", "10parsecs"}) {
        EXPECT_THROW(parse_duration(bad, "--drain-budget"), UsageError) << bad;
    }
}

TEST(ServerConfig, FlagsSetBudgetsFaultsAndSignals) {
    const auto config = parse({"--port", "0", "--drain-budget=2s", "--drain-delay", "150ms", "--fault",
                               "no-drain,leak-fd", "--graceful-signals", "QUIT", "--fast-signals", "SIGTERM,INT"});
    EXPECT_EQ(config.port, 0);
    EXPECT_EQ(config.budgets.drain, 2s);
    EXPECT_EQ(config.budgets.drain_delay, 150ms);
    EXPECT_TRUE(config.faults.has(Fault::no_drain));
    EXPECT_TRUE(config.faults.has(Fault::leak_fd));
    EXPECT_FALSE(config.faults.has(Fault::keep_idle));
    EXPECT_EQ(config.signals.graceful, std::vector<int>{SIGQUIT});
    EXPECT_EQ(config.signals.fast, (std::vector<int>{SIGTERM, SIGINT}));
}

TEST(ServerConfig, BadInputNamesTheFlagAndWhatWasExpected) {
    const auto message_of = [](std::vector<const char*> args) -> std::string {
        try {
            parse(std::move(args));
        } catch (const UsageError& e) {
            return e.what();
        }
        return "accepted";
    };
    EXPECT_EQ(message_of({"--bogus"}), "unknown option '--bogus'");
    EXPECT_EQ(message_of({"--port", "70000"}), "bad value for --port: '70000' (expected a whole number from 0 to 65535)");
    EXPECT_EQ(message_of({"--drain-budget", "5"}), "bad value for --drain-budget: '5' (expected a duration like 250ms, 3s, 1m)");
    EXPECT_NE(message_of({"--fault", "nope"}).find("unknown fault 'nope' (known: no-drain"), std::string::npos);
    EXPECT_NE(message_of({"--graceful-signals", "TERMINATE"}).find("unknown signal 'TERMINATE'"), std::string::npos);
    EXPECT_EQ(message_of({"--threads"}), "--threads needs a value");
}

// Sets environment variables for one test and removes them after it, whatever it asserts.
class Environment {
public:
    Environment(std::initializer_list<std::pair<const char*, const char*>> variables) : variables_(variables) {
        for (const auto& [name, value] : variables_) ::setenv(name, value, 1);
    }
    ~Environment() {
        for (const auto& [name, value] : variables_) ::unsetenv(name);
    }
    Environment(const Environment&) = delete;
    Environment& operator=(const Environment&) = delete;

private:
    std::vector<std::pair<const char*, const char*>> variables_;
};

TEST(ServerConfig, EnvironmentIsReadAndFlagsWin) {
    const Environment environment({{"LASTCALL_SERVER_DRAIN_BUDGET", "7s"}, {"LASTCALL_SERVER_THREADS", "3"},
                                   {"LASTCALL_SERVER_FAULT", "leak-fd"}, {"LASTCALL_SERVER_CHECKPOINT_FALLBACK", "1"}});
    const auto config = parse({"--threads", "5"});
    EXPECT_EQ(config.budgets.drain, 7s);
    EXPECT_EQ(config.threads, 5u);
    EXPECT_TRUE(config.faults.has(Fault::leak_fd));
    EXPECT_TRUE(config.checkpoint_fallback);
}

TEST(ServerConfig, BadEnvironmentValueNamesTheVariable) {
    const Environment environment({{"LASTCALL_SERVER_PORT", "eighty"}});
    try {
        parse({});
        FAIL() << "accepted";
    } catch (const UsageError& e) {
        EXPECT_STREQ(e.what(), "bad value for LASTCALL_SERVER_PORT: 'eighty' (expected a whole number from 0 to 65535)");
    }
    EXPECT_EQ(parse({"--port", "81"}).port, 81);  // the flag wins, the variable is not read
}

TEST(ServerConfig, OldEnvironmentNamesAreRefusedNotIgnored) {
    const Environment environment({{"LASTCALL_DRAIN_BUDGET", "7s"}});
    try {
        parse({});
        FAIL() << "accepted";
    } catch (const UsageError& e) {
        EXPECT_STREQ(e.what(), "LASTCALL_DRAIN_BUDGET is now called LASTCALL_SERVER_DRAIN_BUDGET (lastcall-server's environment variables start with LASTCALL_SERVER_)");
    }
}

TEST(ServerConfig, RepeatedFlagsLastWinsFaultsAdd) {
    const auto config = parse({"--port", "1", "--port=2", "--fault", "leak-fd", "--fault=no-drain"});
    EXPECT_EQ(config.port, 2);
    EXPECT_TRUE(config.faults.has(Fault::leak_fd));
    EXPECT_TRUE(config.faults.has(Fault::no_drain));
    EXPECT_TRUE(parse({"--help"}).show_help);
    EXPECT_TRUE(parse({"--version"}).show_version);
}

TEST(ServerConfig, HelpGroupsTheFlagsAndNamesTheirVariables) {
    const auto help = usage_text();
    for (const char* part : {"Shutdown budgets:", "Signals:", "--drain-budget DURATION", "(Env:LASTCALL_SERVER_DRAIN_BUDGET)",
                             "Set by a prefork master", "--checkpoint-fallback"}) {
        EXPECT_NE(help.find(part), std::string::npos) << part << " not in\n" << help;
    }
    EXPECT_EQ(help.find("LASTCALL_SERVER_CONTROL_FD"), std::string::npos);  // a master's word to its workers only
}

TEST(ServerConfig, CloseLingerAndJournalCompaction) {
    const auto config = parse({"--close-linger", "50ms", "--journal-compact-bytes", "0"});
    EXPECT_EQ(config.budgets.close_linger, 50ms);
    EXPECT_EQ(config.journal_compact_bytes, 0u);
    EXPECT_EQ(parse({}).budgets.close_linger, 200ms);
    EXPECT_TRUE(parse({"--fault", "ack-before-durable"}).faults.has(Fault::ack_before_durable));
}

} // namespace
} // namespace lastcall::server

// The counter of lastcall-server --workers 2 on real processes and a real SQLite file: a SIGKILL of
// the whole process group (master and workers) under increment load, then a restart. Every value an
// increment returned must be covered by the counter after the restart, and no value may be handed
// out twice, by either worker, before or after. The ack-before-durable fault must fail exactly
// that. A state dir of the other layout, and a fault with no meaning for workers, are refused at start.
#include "increment_load.hpp"
#include "raw_http.hpp"
#include "reference_server.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <sqlite3.h>

#include <algorithm>
#include <csignal>
#include <fstream>
#include <iterator>
#include <numeric>
#include <set>
#include <thread>

namespace lastcall::testing {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

const std::vector<std::string> prefork{"--workers", "2", "--threads", "1"};

std::vector<std::string> with(std::vector<std::string> args, const std::vector<std::string>& more) {
    args.insert(args.end(), more.begin(), more.end());
    return args;
}

// SIGKILL to the process group: the master and both workers die at once, no shutdown anywhere.
KillObservation kill_group_under_load(const std::vector<std::string>& args) {
    const auto state = fresh_test_dir() / "state";
    KillObservation seen;
    {
        ReferenceServer server(state, args);
        IncrementLoad load(server.port(), 8);
        EXPECT_TRUE(load.wait_for_acks(600, 20s)) << "the load never got going";
        ::kill(-server.process().pid(), SIGKILL);
        EXPECT_TRUE(server.process().wait(5s));
        load.stop();
        seen.acked_before = load.values();
    }
    observe_restart(state, args, seen);
    return seen;
}

std::size_t lost(const KillObservation& seen) {
    return static_cast<std::size_t>(std::count_if(seen.acked_before.begin(), seen.acked_before.end(),
                                                  [&](long v) { return v > seen.after_restart; }));
}

TEST(PreforkDurability, GroupSigkillUnderLoadLosesNoAcknowledgedIncrementAndNeverRepeatsAValue) {
    const auto seen = kill_group_under_load(prefork);
    ASSERT_GE(seen.acked_before.size(), 600u);
    ASSERT_FALSE(seen.acked_after.empty());
    EXPECT_EQ(lost(seen), 0u) << "acknowledged increments lost; counter after restart " << seen.after_restart
                              << ", highest acknowledged " << *std::max_element(seen.acked_before.begin(), seen.acked_before.end());
    auto all = seen.acked_before;
    all.insert(all.end(), seen.acked_after.begin(), seen.acked_after.end());
    EXPECT_EQ(repeated_values(all), 0u) << "a value handed out twice (by two workers, or again after the restart)";
    EXPECT_GT(*std::min_element(seen.acked_after.begin(), seen.acked_after.end()), seen.after_restart);
}

TEST(PreforkDurability, AckBeforeDurableLosesAcknowledgedIncrementsToAGroupSigkill) {
    const auto seen = kill_group_under_load(with(prefork, {"--fault", "ack-before-durable"}));
    ASSERT_GE(seen.acked_before.size(), 600u);
    EXPECT_GT(lost(seen), 0u) << "the fault commits every 100 ms: what was acknowledged since is lost";
}

// Both workers add to one set: its elements are 1..N with none twice, and a graceful stop and a
// restart keep it.
TEST(PreforkDurability, TheSetIsOneForTheServiceAcrossWorkersAndARestart) {
    const auto state = fresh_test_dir() / "state";
    std::vector<long> elements;
    {
        ReferenceServer server(state, prefork);
        for (int i = 0; i < 40; ++i) {
            const auto response = http_post(server.port(), "/set/add");  // a connection each, from the one queue
            ASSERT_EQ(response.status, 200) << response.body;
            elements.push_back(nlohmann::json::parse(response.body).at("element").get<long>());
        }
        server.process().signal(SIGTERM);
        const auto status = server.process().wait(10s);
        ASSERT_TRUE(status);
        EXPECT_EQ(status->code, 0);
    }
    std::sort(elements.begin(), elements.end());
    std::vector<long> expected(40);
    std::iota(expected.begin(), expected.end(), 1);
    EXPECT_EQ(elements, expected);
    ReferenceServer restarted(state, prefork);
    const auto listed = http_get(restarted.port(), "/set");
    ASSERT_EQ(listed.status, 200);
    EXPECT_EQ(nlohmann::json::parse(listed.body).at("elements").get<std::vector<long>>(), expected);
}

std::set<pid_t> children_of(pid_t pid) {
    std::set<pid_t> out;
    std::error_code ec;
    for (fs::directory_iterator it(fs::path("/proc") / std::to_string(pid) / "task", ec), end; !ec && it != end; it.increment(ec)) {
        std::ifstream in(it->path() / "children");
        for (pid_t child; in >> child;) out.insert(child);
    }
    return out;
}

// A reload hands the counter from one generation of processes to the next while both commit to
// it: no value twice, none acknowledged and then missing.
TEST(PreforkDurability, AReloadUnderIncrementsHandsOutNoValueTwice) {
    ReferenceServer server(fresh_test_dir() / "state", prefork);
    const auto old_workers = children_of(server.process().pid());
    std::vector<long> acked;
    {
        IncrementLoad before(server.port(), 4);
        ASSERT_TRUE(before.wait_for_acks(200, 20s));
        server.process().signal(SIGHUP);
        // New connections during and after the reload; the old workers close theirs as they retire.
        IncrementLoad during(server.port(), 4);
        bool replaced = false;
        for (int i = 0; i < 250 && !replaced; ++i) {
            std::this_thread::sleep_for(20ms);
            const auto now = children_of(server.process().pid());
            replaced = now.size() == 2;
            for (auto pid : old_workers) replaced = replaced && now.count(pid) == 0;
        }
        EXPECT_TRUE(replaced) << "the old generation never left";
        IncrementLoad after(server.port(), 4);
        EXPECT_TRUE(after.wait_for_acks(100, 20s)) << "the new generation does not count";
        for (auto* load : {&before, &during, &after}) {
            load->stop();
            const auto values = load->values();
            acked.insert(acked.end(), values.begin(), values.end());
        }
    }
    EXPECT_EQ(repeated_values(acked), 0u);
    const auto counter = read_counter(server.port());
    EXPECT_GE(counter, *std::max_element(acked.begin(), acked.end()));
    server.process().signal(SIGTERM);
    const auto status = server.process().wait(10s);
    ASSERT_TRUE(status);
    EXPECT_EQ(status->code, 0);
}

struct Refusal {
    int code = -1;
    std::string stderr_text;
};

Refusal start_refused(const fs::path& state, const std::vector<std::string>& args) {
    const auto stderr_file = state.string() + ".refused";
    std::vector<std::string> argv{server_binary(), "--port", "0", "--state-dir", state.string()};
    argv.insert(argv.end(), args.begin(), args.end());
    ChildProcess process(argv, stderr_file);
    Refusal out;
    if (const auto status = process.wait(10s); status && status->exited) out.code = status->code;
    std::ifstream in(stderr_file);
    out.stderr_text.assign(std::istreambuf_iterator<char>(in), {});
    return out;
}

TEST(PreforkDurability, AStateDirOfTheOtherLayoutIsRefusedEitherWay) {
    const auto single = fresh_test_dir("single") / "state";
    {
        ReferenceServer server(single, {});
        ASSERT_EQ(http_post(server.port(), "/counter/incr?by=3").status, 200);
        server.process().signal(SIGTERM);
        server.process().wait(10s);
    }
    const auto refused_workers = start_refused(single, prefork);
    EXPECT_EQ(refused_workers.code, 3);
    EXPECT_NE(refused_workers.stderr_text.find("counter.journal"), std::string::npos) << refused_workers.stderr_text;

    const auto shared = fresh_test_dir("shared") / "state";
    {
        ReferenceServer server(shared, prefork);
        ASSERT_EQ(http_post(server.port(), "/counter/incr?by=3").status, 200);
        server.process().signal(SIGTERM);
        server.process().wait(10s);
    }
    const auto refused_single = start_refused(shared, {});
    EXPECT_EQ(refused_single.code, 3);
    EXPECT_NE(refused_single.stderr_text.find("counter.db"), std::string::npos) << refused_single.stderr_text;
}

// A commit that fails is never retried: that worker answers 500 and stops with exit 6, and the
// master stops the whole service (a fresh worker on the same database would be a retry) with exit 6.
// A database left without its counter is then refused at start, never read as 0.
TEST(PreforkDurability, AFailedCommitStopsTheServiceWithExit6AndTheDamageIsRefusedAtRestart) {
    const auto state = fresh_test_dir() / "state";
    {
        ReferenceServer server(state, prefork);
        ASSERT_EQ(http_post(server.port(), "/counter/incr?by=2").status, 200);
        sqlite3* db = nullptr;
        ASSERT_EQ(sqlite3_open((state / "counter.db").c_str(), &db), SQLITE_OK);
        sqlite3_busy_timeout(db, 5000);
        EXPECT_EQ(sqlite3_exec(db, "DROP TABLE counter", nullptr, nullptr, nullptr), SQLITE_OK) << sqlite3_errmsg(db);
        sqlite3_close(db);
        const auto failed = http_post(server.port(), "/counter/incr?by=1");
        EXPECT_EQ(failed.status, 500) << failed.body;
        const auto status = server.process().wait(10s);
        ASSERT_TRUE(status) << "the service went on after a worker lost durability";
        EXPECT_EQ(status->code, 6) << describe(*status);
    }
    const auto refused = start_refused(state, prefork);
    EXPECT_EQ(refused.code, 3);
    EXPECT_NE(refused.stderr_text.find("holds no counter"), std::string::npos) << refused.stderr_text;
}

TEST(PreforkDurability, FaultsWithoutMeaningForWorkersAreRefusedNotIgnored) {
    for (const std::string fault : {"checkpoint-early", "skip-checkpoint", "forget-stream-positions"}) {
        const auto refused = start_refused(fresh_test_dir(fault) / "state", with(prefork, {"--fault", fault}));
        EXPECT_EQ(refused.code, 2) << fault;
        EXPECT_NE(refused.stderr_text.find(fault + " cannot be used with --workers"), std::string::npos) << refused.stderr_text;
    }
}

} // namespace
} // namespace lastcall::testing

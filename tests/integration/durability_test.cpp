// Acknowledged means durable: lastcall-server under increment load is SIGKILLed (no shutdown, no
// checkpoint) and restarted. Every value an increment returned must be covered by the counter
// after the restart, and no value may be handed out twice - before the kill, or after it. The
// ack-before-durable fault (today's old behaviour) must fail exactly that.
#include "increment_load.hpp"
#include "raw_http.hpp"
#include "reference_server.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <csignal>
#include <fstream>
#include <iterator>
#include <thread>

namespace lastcall::testing {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

KillObservation kill_under_load(const std::vector<std::string>& args, int kills) {
    const auto state = fresh_test_dir() / "state";
    KillObservation seen;
    for (int round = 0; round < kills; ++round) {
        ReferenceServer server(state, args);
        IncrementLoad load(server.port(), 8);
        EXPECT_TRUE(load.wait_for_acks(200 * static_cast<std::size_t>(round + 1), 20s)) << "the load never got going";
        server.process().signal(SIGKILL);
        EXPECT_TRUE(server.process().wait(5s));
        load.stop();
        const auto values = load.values();
        seen.acked_before.insert(seen.acked_before.end(), values.begin(), values.end());
    }
    observe_restart(state, args, seen);
    return seen;
}

std::size_t lost(const KillObservation& seen) {
    return static_cast<std::size_t>(std::count_if(seen.acked_before.begin(), seen.acked_before.end(),
                                                  [&](long v) { return v > seen.after_restart; }));
}

std::size_t handed_out_twice(const KillObservation& seen) {
    std::vector<long> all = seen.acked_before;
    all.insert(all.end(), seen.acked_after.begin(), seen.acked_after.end());
    return repeated_values(std::move(all));
}

TEST(Durability, SigkillUnderLoadLosesNoAcknowledgedIncrementAndNeverRepeatsAValue) {
    const auto seen = kill_under_load({}, 3);
    ASSERT_GE(seen.acked_before.size(), 600u);
    ASSERT_FALSE(seen.acked_after.empty());
    EXPECT_EQ(lost(seen), 0u) << "acknowledged increments lost; counter after restart " << seen.after_restart
                              << ", highest acknowledged " << *std::max_element(seen.acked_before.begin(), seen.acked_before.end());
    EXPECT_EQ(handed_out_twice(seen), 0u);
    // Increments by one: every value the restarted server hands out is above what it recovered.
    EXPECT_GT(*std::min_element(seen.acked_after.begin(), seen.acked_after.end()), seen.after_restart);
}

TEST(Durability, AckBeforeDurableLosesAcknowledgedIncrementsAndRepeatsValues) {
    const auto seen = kill_under_load({"--fault", "ack-before-durable"}, 1);
    ASSERT_GE(seen.acked_before.size(), 200u);
    EXPECT_GT(lost(seen), 0u);
    EXPECT_GT(handed_out_twice(seen), 0u);
}

TEST(Durability, CorruptJournalIsRefusedNamingTheFileAndKept) {
    const auto state = fresh_test_dir() / "state";
    {
        ReferenceServer server(state, {});
        ASSERT_EQ(http_post(server.port(), "/counter/incr?by=5").status, 200);
        server.process().signal(SIGKILL);
        server.process().wait(5s);
    }
    const auto journal = state / "counter.journal";
    std::string bytes;
    {
        std::ifstream in(journal, std::ios::binary);
        bytes.assign(std::istreambuf_iterator<char>(in), {});
    }
    ASSERT_GT(bytes.size(), 20u);
    bytes.back() ^= 0x40;  // a flipped bit in the record's payload
    std::ofstream(journal, std::ios::binary | std::ios::trunc) << bytes;
    const auto stderr_file = state.string() + ".refused";
    ChildProcess process({server_binary(), "--port", "0", "--state-dir", state.string()}, stderr_file);
    const auto status = process.wait(10s);
    ASSERT_TRUE(status);
    EXPECT_EQ(status->code, 3);
    std::ifstream in(stderr_file);
    const std::string text{std::istreambuf_iterator<char>(in), {}};
    EXPECT_NE(text.find(journal.string()), std::string::npos) << text;
    EXPECT_NE(text.find("is corrupt"), std::string::npos) << text;
    std::ifstream after(journal, std::ios::binary);
    EXPECT_EQ(std::string(std::istreambuf_iterator<char>(after), {}), bytes) << "never replaced by an empty state";
}

TEST(Durability, TornJournalTailIsCutAndEveryWholeRecordKept) {
    const auto state = fresh_test_dir() / "state";
    {
        ReferenceServer server(state, {});
        for (int i = 0; i < 3; ++i) ASSERT_EQ(http_post(server.port(), "/counter/incr?by=2").status, 200);
        server.process().signal(SIGKILL);
        server.process().wait(5s);
    }
    std::ofstream(state / "counter.journal", std::ios::binary | std::ios::app) << std::string("\x10\x00\x00", 3);
    ReferenceServer restarted(state, {});
    EXPECT_EQ(read_counter(restarted.port()), 6);
    EXPECT_NE(restarted.stderr_text().find(R"("journal_torn_bytes_cut":3)"), std::string::npos) << restarted.stderr_text();
}

} // namespace
} // namespace lastcall::testing

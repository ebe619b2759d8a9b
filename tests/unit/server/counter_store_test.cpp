// The counter store on real files: acknowledged means durable, a checkpoint compacts the journal
// but keeps what the previous generation needs, and the ack-before-durable fault loses what a
// crash takes. A "crash" here is a store abandoned without its shutdown steps: what is on disk is
// exactly what a SIGKILL would leave (every acknowledged record was fsynced before its ack).
#include "counter_store.hpp"

#include "test_dir.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <future>
#include <limits>

namespace lastcall::server {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

class CounterStoreTest : public ::testing::Test {
protected:
    void SetUp() override { dir_ = testing::fresh_test_dir(); }
    CounterStore::Options options() const {
        CounterStore::Options o;
        o.state_dir = dir_;
        return o;
    }
    static CounterStore::Result increment(CounterStore& store, std::int64_t by) {
        std::promise<CounterStore::Result> done;
        store.increment(by, [&](const CounterStore::Result& r) { done.set_value(r); });
        auto f = done.get_future();
        EXPECT_EQ(f.wait_for(10s), std::future_status::ready);
        return f.get();
    }
    // The coordinator's persisting phase, as the server wires it.
    static void checkpoint(CounterStore& store) {
        store.checkpointer().write(store.snapshot());
        store.checkpointed();
    }
    fs::path dir_;
};

TEST_F(CounterStoreTest, AcknowledgedIncrementsSurviveACrash) {
    {
        CounterStore store(options());
        store.recover();
        store.start({});
        EXPECT_EQ(increment(store, 5).value, 5);
        EXPECT_EQ(increment(store, 2).value, 7);
        EXPECT_EQ(store.durable_value(), 7);
        // No close, no checkpoint: the store is just dropped.
    }
    CounterStore restarted(options());
    const auto recovered = restarted.recover();
    EXPECT_EQ(recovered.state, (CounterState{7, 2}));
    EXPECT_EQ(recovered.replayed, 2u);
    restarted.start({});
    EXPECT_EQ(increment(restarted, 1).value, 8) << "never hand out a value twice";
}

TEST_F(CounterStoreTest, AckBeforeDurableLosesWhatACrashTakes) {
    auto faulty = options();
    faulty.ack_before_durable = true;
    {
        CounterStore store(faulty);
        store.recover();
        store.start({});
        EXPECT_EQ(increment(store, 5).value, 5);
    }
    CounterStore restarted(faulty);
    EXPECT_EQ(restarted.recover().state.value, 0);
}

TEST_F(CounterStoreTest, CheckpointCompactsButKeepsWhatThePreviousGenerationNeeds) {
    {
        CounterStore store(options());
        store.recover();
        store.start({});
        for (int i = 0; i < 3; ++i) increment(store, 1);
        checkpoint(store);  // generation 1 covers records 1..3
    }
    {
        CounterStore store(options());
        EXPECT_EQ(store.recover().state, (CounterState{3, 3}));
        store.start({});
        increment(store, 10);
        increment(store, 10);
        checkpoint(store);  // generation 2 covers 1..5; the journal keeps 4..5 for generation 1
        EXPECT_EQ(coordinator::Journal(dir_ / "counter.journal").open().records.size(), 2u);
    }
    // Generation 2 damaged: the operator falls back to generation 1, and the journal replays to
    // the full state - nothing acknowledged is lost, no value is handed out again.
    {
        std::fstream current(dir_ / "checkpoint.dat", std::ios::in | std::ios::out | std::ios::binary);
        current.seekp(-2, std::ios::end);
        current.put('9');
    }
    auto fallback = options();
    fallback.checkpoint_fallback = true;
    CounterStore store(fallback);
    const auto recovered = store.recover();
    EXPECT_EQ(recovered.state, (CounterState{23, 5}));
    EXPECT_FALSE(recovered.checkpoint->refused.empty());
    store.start({});
    EXPECT_EQ(increment(store, 1).value, 24);
}

TEST_F(CounterStoreTest, OverflowIsRefusedAndChangesNothing) {
    const auto near_max = std::numeric_limits<std::int64_t>::max() - 10;
    coordinator::Checkpointer(dir_ / "checkpoint.dat").write(encode_checkpoint({near_max, 0}));
    CounterStore store(options());
    EXPECT_EQ(store.recover().state.value, near_max);
    store.start({});
    EXPECT_EQ(increment(store, 11).failure, CounterStore::Failure::overflow);
    EXPECT_EQ(increment(store, 10).value, std::numeric_limits<std::int64_t>::max());
}

} // namespace
} // namespace lastcall::server

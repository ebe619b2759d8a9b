// The prefork workers' shared counter on a real SQLite file: two SharedCounter instances, each with
// its own connection and thread (SQLite locks them against each other as it locks two processes),
// committing at once hand out unique values with no gap; one sees what the other committed; a
// failed commit fails loudly and is never retried. The ack-before-durable fault hands values out
// twice, which is what the unique-values assertion would catch.
#include "shared_counter.hpp"

#include "test_dir.hpp"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <algorithm>
#include <atomic>
#include <future>
#include <limits>
#include <mutex>
#include <numeric>
#include <thread>
#include <vector>

namespace lastcall::server {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

class SharedCounterTest : public ::testing::Test {
protected:
    void SetUp() override {
        file_ = testing::fresh_test_dir() / "counter.db";
        SharedCounter::prepare(file_);
    }
    SharedCounter::Options options() const {
        SharedCounter::Options o;
        o.file = file_;
        return o;
    }
    static Counter::Result wait(std::function<void(Counter::Done)> call) {
        auto done = std::make_shared<std::promise<Counter::Result>>();
        auto future = done->get_future();
        call([done](const Counter::Result& r) { done->set_value(r); });
        EXPECT_EQ(future.wait_for(10s), std::future_status::ready);
        return future.get();
    }
    static Counter::Result increment(Counter& counter, std::int64_t by) {
        return wait([&](Counter::Done done) { counter.increment(by, std::move(done)); });
    }
    static Counter::Result read(Counter& counter) {
        return wait([&](Counter::Done done) { counter.read(std::move(done)); });
    }
    // Another connection to the same file, as a third process would have.
    void run_sql(const char* sql) const {
        sqlite3* db = nullptr;
        ASSERT_EQ(sqlite3_open(file_.c_str(), &db), SQLITE_OK);
        sqlite3_busy_timeout(db, 5000);
        EXPECT_EQ(sqlite3_exec(db, sql, nullptr, nullptr, nullptr), SQLITE_OK) << sqlite3_errmsg(db);
        sqlite3_close(db);
    }
    fs::path file_;
};

// `clients` threads per counter, each incrementing by one and waiting for its acknowledgement, so
// both counters' group commits interleave on the file's write lock.
std::vector<std::int64_t> increment_from_both(Counter& a, Counter& b, int clients, int each) {
    std::mutex mutex;
    std::vector<std::int64_t> values;
    std::vector<std::thread> threads;
    for (Counter* counter : {&a, &b}) {
        for (int c = 0; c < clients; ++c) {
            threads.emplace_back([&, counter] {
                for (int i = 0; i < each; ++i) {
                    std::promise<Counter::Result> done;
                    counter->increment(1, [&done](const Counter::Result& r) { done.set_value(r); });
                    auto future = done.get_future();
                    if (future.wait_for(10s) != std::future_status::ready) return;
                    const auto result = future.get();
                    if (result.failure != Counter::Failure::none) return;
                    std::lock_guard lock(mutex);
                    values.push_back(result.value);
                }
            });
        }
    }
    for (auto& t : threads) t.join();
    std::sort(values.begin(), values.end());
    return values;
}

TEST_F(SharedCounterTest, TwoWritersCommittingAtOnceHandOutUniqueGapFreeValues) {
    SharedCounter a(options());
    SharedCounter b(options());
    a.start({});
    b.start({});
    const auto values = increment_from_both(a, b, 4, 60);
    std::vector<std::int64_t> expected(480);
    std::iota(expected.begin(), expected.end(), 1);
    EXPECT_EQ(values, expected) << "every value 1..480 exactly once";
    EXPECT_EQ(read(a).value, 480);
    EXPECT_EQ(read(b).value, 480);
    // Both committed, and in groups: fewer commits than increments would show batching, but only
    // that each wrote is asserted (timing decides the batch sizes).
    EXPECT_GT(a.stats().commits, 0u);
    EXPECT_GT(b.stats().commits, 0u);
    EXPECT_EQ(a.stats().records + b.stats().records, 480u);
}

TEST_F(SharedCounterTest, AckBeforeDurableHandsTheSameValuesOutTwice) {
    auto faulty = options();
    faulty.ack_before_durable = true;
    SharedCounter a(faulty);
    SharedCounter b(faulty);
    a.start({});
    b.start({});
    // Each acknowledges from what it last saw itself: both start from 0.
    for (int i = 1; i <= 5; ++i) EXPECT_EQ(increment(a, 1).value, i);
    for (int i = 1; i <= 5; ++i) EXPECT_EQ(increment(b, 1).value, i);
    a.close();
    b.close();
    SharedCounter after(options());
    after.start({});
    EXPECT_EQ(read(after).value, 10) << "ten increments committed, but only five values were handed out";
}

TEST_F(SharedCounterTest, AReadSeesWhatAnotherWriterCommittedAndContinuesFromIt) {
    SharedCounter a(options());
    SharedCounter b(options());
    a.start({});
    b.start({});
    EXPECT_EQ(increment(a, 3).value, 3);
    EXPECT_EQ(read(b).value, 3);
    EXPECT_EQ(increment(b, 2).value, 5);
    a.close();
    b.close();
    SharedCounter reopened(options());
    reopened.start({});
    EXPECT_EQ(read(reopened).value, 5) << "acknowledged means committed: a new process finds it";
}

TEST_F(SharedCounterTest, OverflowIsRefusedAloneAndChangesNothing) {
    SharedCounter counter(options());
    counter.start({});
    const auto max = std::numeric_limits<std::int64_t>::max();
    EXPECT_EQ(increment(counter, max - 1).value, max - 1);
    EXPECT_EQ(increment(counter, 2).failure, Counter::Failure::overflow);
    EXPECT_EQ(increment(counter, 1).value, max);
    EXPECT_EQ(read(counter).value, max);
}

// Fsyncgate: after a failed commit nothing says what the file holds, so the counter stays failed
// even once the database would work again, and the server is told once (it stops with exit 6).
TEST_F(SharedCounterTest, AFailedCommitFailsLoudlyOnceAndIsNeverRetried) {
    SharedCounter counter(options());
    std::atomic<int> failures{0};
    counter.start([&failures](const std::string&) { ++failures; });
    EXPECT_EQ(increment(counter, 1).value, 1);
    run_sql("DROP TABLE counter");
    const auto failed = increment(counter, 1);
    EXPECT_EQ(failed.failure, Counter::Failure::not_durable);
    EXPECT_NE(failed.error.find("commit failed"), std::string::npos) << failed.error;
    run_sql("CREATE TABLE counter (id INTEGER PRIMARY KEY, value INTEGER NOT NULL); INSERT INTO counter VALUES (1, 1);");
    EXPECT_EQ(increment(counter, 1).failure, Counter::Failure::not_durable) << "retried after a failed commit";
    EXPECT_EQ(failures.load(), 1);
}

// Another process holding the write lock past the busy timeout (a stalled disk) is no failure:
// nothing was written, so the transaction is begun again and the increment is acknowledged after.
TEST_F(SharedCounterTest, ALockHeldPastTheBusyTimeoutIsWaitedOutNotAFailure) {
    auto quick = options();
    quick.busy_timeout = std::chrono::milliseconds(20);
    SharedCounter counter(quick);
    std::atomic<int> failures{0};
    counter.start([&failures](const std::string&) { ++failures; });
    sqlite3* holder = nullptr;
    ASSERT_EQ(sqlite3_open(file_.c_str(), &holder), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(holder, "BEGIN IMMEDIATE; UPDATE counter SET value = value + 10", nullptr, nullptr, nullptr), SQLITE_OK);
    std::promise<Counter::Result> acked;
    auto ack = acked.get_future();
    counter.increment(1, [&acked](const Counter::Result& r) { acked.set_value(r); });
    // Several busy timeouts pass while the lock is held; the increment waits, it does not fail.
    EXPECT_EQ(ack.wait_for(200ms), std::future_status::timeout);
    ASSERT_EQ(sqlite3_exec(holder, "COMMIT", nullptr, nullptr, nullptr), SQLITE_OK);
    sqlite3_close(holder);
    ASSERT_EQ(ack.wait_for(10s), std::future_status::ready);
    const auto result = ack.get();
    EXPECT_EQ(result.failure, Counter::Failure::none) << result.error;
    EXPECT_EQ(result.value, 11) << "counted on top of the holder's commit";
    EXPECT_EQ(failures.load(), 0);
}

TEST_F(SharedCounterTest, AfterCloseNothingIsAcknowledged) {
    SharedCounter counter(options());
    counter.start({});
    EXPECT_EQ(increment(counter, 1).value, 1);
    counter.close();
    EXPECT_EQ(increment(counter, 1).failure, Counter::Failure::not_durable);
    EXPECT_EQ(read(counter).failure, Counter::Failure::not_durable);
}

} // namespace
} // namespace lastcall::server

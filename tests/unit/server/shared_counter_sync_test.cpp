// "A reader never sees a commit before its fsync", shown rather than assumed: a VFS shim over the
// real one holds every fsync of a WAL file at a gate. While one SharedCounter's commit waits there,
// its increment is not acknowledged and another SharedCounter reading the same file still gets the
// old value; once the fsync returns, both see it. (SQLite syncs the WAL before it publishes the
// commit in the wal-index: sqlite3WalFrames.)
#include "shared_counter.hpp"

#include "test_dir.hpp"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <condition_variable>
#include <future>
#include <mutex>

namespace lastcall::server {
namespace {

using namespace std::chrono_literals;

// Holds fsyncs of WAL files while closed; counts those waiting so a test waits for that state.
struct SyncGate {
    std::mutex mutex;
    std::condition_variable changed;
    bool closed = false;
    int waiting = 0;

    void pass() {
        std::unique_lock lock(mutex);
        ++waiting;
        changed.notify_all();
        changed.wait(lock, [this] { return !closed; });
        --waiting;
    }
    void set_closed(bool value) {
        std::lock_guard lock(mutex);
        closed = value;
        changed.notify_all();
    }
    bool wait_for_waiting(std::chrono::milliseconds limit) {
        std::unique_lock lock(mutex);
        return changed.wait_for(lock, limit, [this] { return waiting > 0; });
    }
};

SyncGate gate;
sqlite3_vfs* real_vfs = nullptr;

struct ShimFile {
    sqlite3_file base;
    sqlite3_file* real;
    bool wal;
};

sqlite3_file* real_of(sqlite3_file* f) { return reinterpret_cast<ShimFile*>(f)->real; }

// Every method forwards to the real file; xSync of a WAL file passes the gate first.
const sqlite3_io_methods shim_methods = {
    3,
    [](sqlite3_file* f) { return real_of(f)->pMethods->xClose(real_of(f)); },
    [](sqlite3_file* f, void* p, int n, sqlite3_int64 o) { return real_of(f)->pMethods->xRead(real_of(f), p, n, o); },
    [](sqlite3_file* f, const void* p, int n, sqlite3_int64 o) { return real_of(f)->pMethods->xWrite(real_of(f), p, n, o); },
    [](sqlite3_file* f, sqlite3_int64 size) { return real_of(f)->pMethods->xTruncate(real_of(f), size); },
    [](sqlite3_file* f, int flags) {
        if (reinterpret_cast<ShimFile*>(f)->wal) gate.pass();
        return real_of(f)->pMethods->xSync(real_of(f), flags);
    },
    [](sqlite3_file* f, sqlite3_int64* size) { return real_of(f)->pMethods->xFileSize(real_of(f), size); },
    [](sqlite3_file* f, int lock) { return real_of(f)->pMethods->xLock(real_of(f), lock); },
    [](sqlite3_file* f, int lock) { return real_of(f)->pMethods->xUnlock(real_of(f), lock); },
    [](sqlite3_file* f, int* out) { return real_of(f)->pMethods->xCheckReservedLock(real_of(f), out); },
    [](sqlite3_file* f, int op, void* arg) { return real_of(f)->pMethods->xFileControl(real_of(f), op, arg); },
    [](sqlite3_file* f) { return real_of(f)->pMethods->xSectorSize(real_of(f)); },
    [](sqlite3_file* f) { return real_of(f)->pMethods->xDeviceCharacteristics(real_of(f)); },
    [](sqlite3_file* f, int page, int size, int extend, void volatile** out) {
        return real_of(f)->pMethods->xShmMap(real_of(f), page, size, extend, out);
    },
    [](sqlite3_file* f, int offset, int n, int flags) { return real_of(f)->pMethods->xShmLock(real_of(f), offset, n, flags); },
    [](sqlite3_file* f) { real_of(f)->pMethods->xShmBarrier(real_of(f)); },
    [](sqlite3_file* f, int remove) { return real_of(f)->pMethods->xShmUnmap(real_of(f), remove); },
    [](sqlite3_file* f, sqlite3_int64 o, int n, void** out) { return real_of(f)->pMethods->xFetch(real_of(f), o, n, out); },
    [](sqlite3_file* f, sqlite3_int64 o, void* p) { return real_of(f)->pMethods->xUnfetch(real_of(f), o, p); },
};

int shim_open(sqlite3_vfs*, sqlite3_filename name, sqlite3_file* file, int flags, int* out_flags) {
    auto* shim = reinterpret_cast<ShimFile*>(file);
    shim->real = reinterpret_cast<sqlite3_file*>(shim + 1);
    shim->wal = (flags & SQLITE_OPEN_WAL) != 0;
    const int rc = real_vfs->xOpen(real_vfs, name, shim->real, flags, out_flags);
    shim->base.pMethods = rc == SQLITE_OK && shim->real->pMethods ? &shim_methods : nullptr;
    return rc;
}

// The real VFS with its xOpen wrapped; registered as the default for one test.
sqlite3_vfs make_shim() {
    real_vfs = sqlite3_vfs_find(nullptr);
    sqlite3_vfs shim = *real_vfs;
    shim.zName = "lastcall-sync-gate";
    shim.szOsFile = static_cast<int>(sizeof(ShimFile)) + real_vfs->szOsFile;
    shim.xOpen = shim_open;
    shim.pNext = nullptr;
    return shim;
}

Counter::Result wait_for(std::future<Counter::Result>& future) {
    EXPECT_EQ(future.wait_for(10s), std::future_status::ready);
    return future.get();
}

std::future<Counter::Result> read_async(Counter& counter) {
    auto done = std::make_shared<std::promise<Counter::Result>>();
    auto future = done->get_future();
    counter.read([done](const Counter::Result& r) { done->set_value(r); });
    return future;
}

TEST(SharedCounterSync, NoAcknowledgementAndNoReaderSeesACommitBeforeItsFsync) {
    static sqlite3_vfs shim = make_shim();
    ASSERT_EQ(sqlite3_vfs_register(&shim, 1), SQLITE_OK);
    struct Unregister {
        ~Unregister() {
            gate.set_closed(false);
            sqlite3_vfs_unregister(&shim);
            sqlite3_vfs_register(real_vfs, 1);
        }
    } unregister;

    SharedCounter::Options options;
    options.file = testing::fresh_test_dir() / "counter.db";
    SharedCounter::prepare(options.file);
    SharedCounter writer(options);
    SharedCounter reader(options);
    writer.start({});
    reader.start({});
    struct OpenGateFirst {  // before the counters close: a failed assertion must not leave one stuck
        ~OpenGateFirst() { gate.set_closed(false); }
    } open_gate_first;

    gate.set_closed(true);
    std::promise<Counter::Result> acked;
    auto ack = acked.get_future();
    writer.increment(5, [&acked](const Counter::Result& r) { acked.set_value(r); });
    ASSERT_TRUE(gate.wait_for_waiting(10s)) << "the commit never reached its fsync";
    auto during = read_async(reader);
    EXPECT_EQ(wait_for(during).value, 0) << "a reader saw a commit whose fsync has not returned";
    EXPECT_EQ(ack.wait_for(0s), std::future_status::timeout) << "acknowledged before the fsync";

    gate.set_closed(false);
    EXPECT_EQ(wait_for(ack).value, 5);
    auto after = read_async(reader);
    EXPECT_EQ(wait_for(after).value, 5);
}

} // namespace
} // namespace lastcall::server

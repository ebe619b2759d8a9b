// The journal on real files with real fdatasync. The sync call is replaced only to hold a group
// commit open (proving that appends made meanwhile share the next fsync) or to make it fail.
#include "lastcall/coordinator/journal.hpp"

#include "test_dir.hpp"

#include <gtest/gtest.h>

#include <cerrno>
#include <condition_variable>
#include <fstream>
#include <future>
#include <iterator>
#include <mutex>
#include <sys/stat.h>
#include <unistd.h>

namespace lastcall::coordinator {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

class JournalTest : public ::testing::Test {
protected:
    void SetUp() override { dir_ = testing::fresh_test_dir(); }
    fs::path file() const { return dir_ / "counter.journal"; }
    std::string read() const {
        std::ifstream in(file(), std::ios::binary);
        return {std::istreambuf_iterator<char>(in), {}};
    }
    void write_raw(const std::string& bytes) const { std::ofstream(file(), std::ios::binary | std::ios::trunc) << bytes; }

    // Appends `payloads` and waits (bounded) until each is durable; returns the errors seen.
    static std::vector<std::string> append_all(Journal& journal, const std::vector<std::string>& payloads) {
        std::vector<std::promise<std::string>> done(payloads.size());
        for (std::size_t i = 0; i < payloads.size(); ++i) {
            journal.append(payloads[i], [&done, i](std::uint64_t, const std::string& error) { done[i].set_value(error); });
        }
        std::vector<std::string> errors;
        for (auto& d : done) {
            auto f = d.get_future();
            EXPECT_EQ(f.wait_for(10s), std::future_status::ready);
            errors.push_back(f.get());
        }
        return errors;
    }
    fs::path dir_;
};

TEST_F(JournalTest, RecordsSurviveAReopenInOrder) {
    {
        Journal journal(file());
        EXPECT_TRUE(journal.open().records.empty());
        journal.start(0);
        for (const auto& error : append_all(journal, {"a", "bb", "ccc"})) EXPECT_EQ(error, "");
    }
    Journal reopened(file());
    const auto recovery = reopened.open();
    ASSERT_EQ(recovery.records.size(), 3u);
    EXPECT_EQ(recovery.records[0].seq, 1u);
    EXPECT_EQ(recovery.records[2].seq, 3u);
    EXPECT_EQ(recovery.records[2].payload, "ccc");
    EXPECT_EQ(recovery.torn_bytes, 0u);
}

TEST_F(JournalTest, SequenceNumbersContinueFromStart) {
    Journal journal(file());
    journal.open();
    journal.start(41);
    std::promise<std::uint64_t> seq;
    EXPECT_EQ(journal.append("x", [&](std::uint64_t s, const std::string&) { seq.set_value(s); }), 42u);
    EXPECT_EQ(seq.get_future().get(), 42u);
}

// The reply waits for the fsync that covers it, and everything appended while one fsync runs
// shares the next: 100 appends, 2 fsyncs.
TEST_F(JournalTest, AppendsMadeDuringAnFsyncShareTheNextOne) {
    Journal journal(file());
    journal.open();
    std::mutex mutex;
    std::condition_variable changed;
    bool first_sync_entered = false, release_first = false;
    int syncs = 0;
    journal.set_sync([&](int fd) {
        std::unique_lock lock(mutex);
        if (++syncs == 1) {
            first_sync_entered = true;
            changed.notify_all();
            changed.wait_for(lock, 10s, [&] { return release_first; });
        }
        return ::fdatasync(fd);
    });
    journal.start(0);
    std::vector<std::promise<std::string>> done(100);
    std::atomic<int> durable{0};
    const auto append = [&](std::size_t i) {
        journal.append("r", [&, i](std::uint64_t, const std::string& error) {
            ++durable;
            done[i].set_value(error);
        });
    };
    append(0);
    {
        std::unique_lock lock(mutex);
        ASSERT_TRUE(changed.wait_for(lock, 10s, [&] { return first_sync_entered; }));
    }
    EXPECT_EQ(durable.load(), 0) << "acknowledged before its fsync returned";
    for (std::size_t i = 1; i < done.size(); ++i) append(i);
    {
        std::lock_guard lock(mutex);
        release_first = true;
    }
    changed.notify_all();
    for (auto& d : done) EXPECT_EQ(d.get_future().get(), "");
    journal.close();
    EXPECT_EQ(syncs, 2);
    EXPECT_EQ(journal.syncs(), 2u);
    EXPECT_EQ(journal.records_synced(), 100u);
}

// fsyncgate: after a failed fsync the kernel may have dropped the pages, so a retry could report
// success for data that is gone. The journal never retries: it fails, loudly, once and for good.
TEST_F(JournalTest, AFailedFsyncIsNeverRetriedAndEveryLaterAppendFails) {
    Journal journal(file());
    journal.open();
    int syncs = 0;
    journal.set_sync([&](int) {
        ++syncs;
        errno = EIO;
        return -1;
    });
    std::vector<std::string> failures;
    journal.on_failure([&](const std::string& error) { failures.push_back(error); });
    journal.start(0);
    const auto first = append_all(journal, {"a"});
    EXPECT_NE(first[0].find("not retried"), std::string::npos) << first[0];
    EXPECT_NE(first[0].find("Input/output error"), std::string::npos) << first[0];
    const auto later = append_all(journal, {"b", "c"});
    EXPECT_EQ(later[0], first[0]);
    EXPECT_EQ(later[1], first[0]);
    journal.close();
    EXPECT_EQ(syncs, 1);
    EXPECT_EQ(failures.size(), 1u);
    EXPECT_TRUE(journal.failed());
}

TEST_F(JournalTest, AppendAfterCloseFailsAtOnce) {
    Journal journal(file());
    journal.open();
    journal.start(0);
    journal.close();
    journal.close();
    std::string error;
    EXPECT_EQ(journal.append("x", [&](std::uint64_t, const std::string& e) { error = e; }), 0u);
    EXPECT_NE(error.find("closed"), std::string::npos);
}

// A record cut short (a kill in the middle of write()) was never acknowledged: its fsync never
// returned. It is cut off, and appends continue after the last whole record.
TEST_F(JournalTest, TornTailIsCutAndAppendsContinueAfterIt) {
    const std::string whole = std::string(Journal::header) + Journal::encode(1, "one") + Journal::encode(2, "two");
    for (const auto& tail : {Journal::encode(3, "three").substr(0, 9), Journal::encode(3, "three").substr(0, 17),
                             std::string(40, '\0')}) {
        write_raw(whole + tail);
        Journal journal(file());
        const auto recovery = journal.open();
        EXPECT_EQ(recovery.records.size(), 2u);
        EXPECT_EQ(recovery.torn_bytes, tail.size());
        EXPECT_EQ(read(), whole);
        journal.start(2);
        EXPECT_EQ(append_all(journal, {"three"})[0], "");
        journal.close();
        EXPECT_EQ(read(), whole + Journal::encode(3, "three"));
    }
}

TEST_F(JournalTest, ACreationCutShortStartsEmpty) {
    write_raw(std::string(Journal::header.substr(0, 5)));
    Journal journal(file());
    EXPECT_TRUE(journal.open().records.empty());
    EXPECT_EQ(read(), Journal::header);
}

TEST_F(JournalTest, CorruptionIsRefusedNamingTheFileAndOffset) {
    const std::string header(Journal::header);
    const auto one = Journal::encode(1, "one");
    auto flipped = one;
    flipped.back() = 'X';
    const std::vector<std::pair<std::string, std::string>> cases{
        {header + flipped + Journal::encode(2, "two"), "crc32"},
        {header + one + Journal::encode(3, "three"), "sequence number 3 follows 1"},
        {"NOT A JOURNAL\n", "not a lastcall journal"},
    };
    for (const auto& [bytes, why] : cases) {
        write_raw(bytes);
        try {
            Journal(file()).open();
            ADD_FAILURE() << "accepted: " << why;
        } catch (const JournalError& e) {
            const std::string message = e.what();
            EXPECT_NE(message.find(file().string()), std::string::npos) << message;
            EXPECT_NE(message.find(why), std::string::npos) << message;
        }
        EXPECT_EQ(read(), bytes) << "a refused journal is left exactly as it was";
    }
}

TEST_F(JournalTest, DirectoryInPlaceOfTheJournalIsRefused) {
    fs::create_directories(file());
    EXPECT_THROW(Journal(file()).open(), JournalError);
}

TEST_F(JournalTest, CompactionKeepsTheRecordsAfterAPointAndAppendsFollow) {
    Journal journal(file());
    journal.open();
    journal.start(0);
    append_all(journal, {"1", "2", "3", "4"});
    journal.close();
    journal.compact(2);
    EXPECT_EQ(read(), std::string(Journal::header) + Journal::encode(3, "3") + Journal::encode(4, "4"));
    Journal reopened(file());
    const auto recovery = reopened.open();
    ASSERT_EQ(recovery.records.size(), 2u);
    EXPECT_EQ(recovery.records.front().seq, 3u);
}

TEST_F(JournalTest, ACompactionThatDropsNothingLeavesTheFileAsItIs) {
    const auto inode = [this] {
        struct stat info {};
        EXPECT_EQ(::stat(file().c_str(), &info), 0);
        return info.st_ino;
    };
    Journal journal(file());
    journal.open();
    journal.start(0);
    append_all(journal, {"1", "2"});
    journal.close();
    const auto before = inode();
    journal.compact(0);  // keeps both records: already what the file holds
    EXPECT_EQ(inode(), before);
    journal.compact(1);  // drops one: a new file, renamed over the old one
    EXPECT_NE(inode(), before);
    EXPECT_EQ(read(), std::string(Journal::header) + Journal::encode(2, "2"));
}

TEST_F(JournalTest, GrowthHookRunsOnTheWriterBetweenCommits) {
    Journal journal(file());
    journal.open();
    std::atomic<int> grown{0};
    journal.on_grown(Journal::encode(1, "x").size() * 3, [&] {
        ++grown;
        journal.compact(~std::uint64_t{0});  // what a checkpoint would allow
    });
    journal.start(0);
    for (int i = 0; i < 10; ++i) append_all(journal, {"x"});
    journal.close();
    EXPECT_EQ(grown.load(), 3);
    EXPECT_EQ(Journal(file()).open().records.size(), 1u);
}

} // namespace
} // namespace lastcall::coordinator

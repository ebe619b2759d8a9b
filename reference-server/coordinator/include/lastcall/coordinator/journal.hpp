#pragma once
// A write-ahead journal with group commit. append() queues a record for a writer thread, which
// writes every record waiting, fdatasyncs once, and only then calls each record's `durable`
// callback: an acknowledgement that waits for that callback means "on disk", and one fsync covers
// every append that arrived while the previous one ran (PostgreSQL's and etcd's group commit).
// A failed write or fsync is never retried ("fsyncgate": the kernel may have dropped the pages):
// the journal turns failed, every pending and later append completes with the error, and the
// failure hook is told once.
//
// File: "LASTCALL-JOURNAL 1\n", then records: u32 payload length, u32 crc32 (of the sequence
// number's 8 bytes and the payload), u64 sequence number, payload; integers little-endian.
// Sequence numbers are consecutive. Recovery cuts a torn tail (an incomplete last record, or zeros
// where a record would start: never acknowledged, since the fsync covering it never returned) and
// refuses, naming the file and offset, anything else that does not check out.
#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace lastcall::coordinator {

class JournalError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

class Journal {
public:
    struct Record {
        std::uint64_t seq = 0;
        std::string payload;
    };
    struct Recovery {
        std::vector<Record> records;  // in file order
        std::uint64_t torn_bytes = 0; // cut from the tail
    };
    // Runs on the writer thread (or at once, on the caller's, after close() or a failure), in
    // sequence order. An empty error means record `seq` is durable (seq is 0 if never queued).
    using Durable = std::function<void(std::uint64_t seq, const std::string& error)>;
    // The sync call, fdatasync(2) by default. A seam for tests that make it fail.
    using Sync = std::function<int(int fd)>;

    static constexpr std::size_t max_payload = 1024 * 1024;

    explicit Journal(std::filesystem::path file);
    ~Journal();
    Journal(const Journal&) = delete;
    Journal& operator=(const Journal&) = delete;

    // Creates the file or reads it back. Throws JournalError naming the file.
    Recovery open();
    // Starts the writer; the next append gets sequence number `last_seq + 1`.
    void start(std::uint64_t last_seq);
    // Queues a record under the next sequence number and returns that number.
    std::uint64_t append(std::string payload, Durable durable);
    // Writes and syncs what is pending, then stops the writer. Idempotent.
    void close();
    // Rewrites the file with only the records after `keep_after`, durably (temp, fsync, rename,
    // fsync directory). Call it while the writer is stopped, or from a hook on the writer thread.
    // Throws JournalError; does nothing on a failed journal (its file is not trusted any more).
    void compact(std::uint64_t keep_after);

    // After a batch has grown the file by `threshold_bytes` since the last compaction, `hook` runs on
    // the writer thread (appends wait meanwhile): the place to checkpoint and compact.
    void on_grown(std::uint64_t threshold_bytes, std::function<void()> hook);
    void on_failure(std::function<void(const std::string& error)> hook);
    void set_sync(Sync sync);

    const std::filesystem::path& file() const { return file_; }
    bool failed() const;
    std::uint64_t size_bytes() const;
    std::uint64_t syncs() const;
    std::uint64_t records_synced() const;

    static std::string encode(std::uint64_t seq, std::string_view payload);
    static constexpr std::string_view header = "LASTCALL-JOURNAL 1\n";

private:
    struct Pending {
        std::uint64_t seq;
        std::string payload;
        Durable durable;
    };
    void run();
    std::string commit(const std::vector<Pending>& batch);
    void fail(const std::string& error);
    void open_for_append();
    std::filesystem::path temp_file() const { return file_.string() + ".tmp"; }

    std::filesystem::path file_;
    int fd_ = -1;
    Sync sync_;
    std::uint64_t grown_threshold_ = 0;
    std::function<void()> on_grown_;
    std::function<void(const std::string&)> on_failure_;

    mutable std::mutex mutex_;
    std::condition_variable wake_;
    std::vector<Pending> pending_;
    std::uint64_t last_seq_ = 0;
    bool started_ = false;
    bool stopping_ = false;
    std::string failure_;
    std::uint64_t size_ = 0;
    std::uint64_t size_at_compaction_ = 0;
    std::uint64_t syncs_ = 0;
    std::uint64_t records_synced_ = 0;
    std::thread writer_;
};

} // namespace lastcall::coordinator

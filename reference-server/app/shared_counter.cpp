#include "shared_counter.hpp"

#include "log.hpp"

#include <fmt/format.h>
#include <sqlite3.h>

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <optional>
#include <stdexcept>
#include <sys/file.h>
#include <unistd.h>

namespace lastcall::server {

namespace {

using Clock = std::chrono::steady_clock;

std::string error_of(sqlite3* db, int rc) {
    return fmt::format("{} ({})", db ? sqlite3_errmsg(db) : sqlite3_errstr(rc), sqlite3_errstr(rc));
}

int execute(sqlite3* db, const char* sql) { return sqlite3_exec(db, sql, nullptr, nullptr, nullptr); }

// The counter's one row; SQLITE_ROW with `value` set, or the error code.
int select_value(sqlite3* db, std::int64_t& value) {
    sqlite3_stmt* statement = nullptr;
    int rc = sqlite3_prepare_v2(db, "SELECT value FROM counter WHERE id = 1", -1, &statement, nullptr);
    if (rc != SQLITE_OK) return rc;
    rc = sqlite3_step(statement);
    if (rc == SQLITE_ROW) value = sqlite3_column_int64(statement, 0);
    else if (rc == SQLITE_DONE) rc = SQLITE_CORRUPT;  // the row is created with the table: never missing
    sqlite3_finalize(statement);
    return rc;
}

int add_to_value(sqlite3* db, std::int64_t sum) {
    sqlite3_stmt* statement = nullptr;
    int rc = sqlite3_prepare_v2(db, "UPDATE counter SET value = value + ?1 WHERE id = 1", -1, &statement, nullptr);
    if (rc != SQLITE_OK) return rc;
    sqlite3_bind_int64(statement, 1, sum);
    rc = sqlite3_step(statement);
    sqlite3_finalize(statement);
    return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

// Opens `file` in WAL mode with synchronous=FULL: every commit is fsynced in the WAL before it
// returns, and before any other connection can see it. `create`: a missing file is created.
sqlite3* open_database(const std::filesystem::path& file, std::chrono::milliseconds busy_timeout, bool create) {
    sqlite3* db = nullptr;
    const auto refuse = [&](const std::string& why) {
        sqlite3_close(db);
        return std::runtime_error(fmt::format("shared counter database {}: {}", file.string(), why));
    };
    const int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | (create ? SQLITE_OPEN_CREATE : 0);
    int rc = sqlite3_open_v2(file.c_str(), &db, flags, nullptr);
    if (rc != SQLITE_OK) throw refuse(error_of(db, rc));
    sqlite3_busy_timeout(db, static_cast<int>(busy_timeout.count()));
    // Every commit is durable in the WAL already; the checkpoint a last close would run costs fsyncs
    // inside the cleanup budget (the jobs database's lesson on a busy disk). The next open replays the WAL.
    sqlite3_db_config(db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, nullptr);
    sqlite3_stmt* statement = nullptr;
    rc = sqlite3_prepare_v2(db, "PRAGMA journal_mode=WAL", -1, &statement, nullptr);
    std::string mode;
    if (rc == SQLITE_OK && (rc = sqlite3_step(statement)) == SQLITE_ROW) {
        mode = reinterpret_cast<const char*>(sqlite3_column_text(statement, 0));
    }
    sqlite3_finalize(statement);
    if (rc != SQLITE_ROW) throw refuse(error_of(db, rc));
    if (mode != "wal") throw refuse(fmt::format("journal mode is '{}', not 'wal' (the file system cannot share memory?)", mode));
    rc = execute(db, "PRAGMA synchronous=FULL");
    if (rc != SQLITE_OK) throw refuse(error_of(db, rc));
    return db;
}

// Nothing in it yet: a file just created, or left by a crash before its first commit. The
// counter's creation also sets user_version, so a database whose counter was lost later is told
// apart from a new one (a dropped table leaves user_version behind).
bool is_new(sqlite3* db) {
    std::int64_t version = -1;
    sqlite3_stmt* statement = nullptr;
    if (sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &statement, nullptr) == SQLITE_OK &&
        sqlite3_step(statement) == SQLITE_ROW) {
        version = sqlite3_column_int64(statement, 0);
    }
    sqlite3_finalize(statement);
    return version == 0;
}

// Holds the flock on the turn file for one transaction; fd -1: none.
class TurnGuard {
public:
    explicit TurnGuard(int fd) : fd_(fd) {
        while (fd_ >= 0 && ::flock(fd_, LOCK_EX) != 0) {
            if (errno != EINTR) {
                fd_ = -1;  // no turn: SQLite's lock alone serialises, only more slowly
                break;
            }
        }
    }
    ~TurnGuard() {
        if (fd_ >= 0) ::flock(fd_, LOCK_UN);
    }
    TurnGuard(const TurnGuard&) = delete;
    TurnGuard& operator=(const TurnGuard&) = delete;

private:
    int fd_;
};

} // namespace

void SharedCounter::prepare(const std::filesystem::path& file) {
    sqlite3* db = open_database(file, std::chrono::milliseconds(5000), true);
    const auto close_and_refuse = [&](const std::string& why) {
        sqlite3_close(db);
        return std::runtime_error(fmt::format("shared counter database {}: {}", file.string(), why));
    };
    // Only a new database gets a counter of 0. One that had a counter and lost it is refused:
    // starting from 0 would hand out again every value it acknowledged.
    if (is_new(db)) {
        const int rc = execute(db,
                               "BEGIN IMMEDIATE;"
                               "CREATE TABLE IF NOT EXISTS counter (id INTEGER PRIMARY KEY CHECK (id = 1), value INTEGER NOT NULL);"
                               "INSERT OR IGNORE INTO counter (id, value) VALUES (1, 0);"
                               "PRAGMA user_version = 1;"
                               "COMMIT;");
        if (rc != SQLITE_OK) throw close_and_refuse(error_of(db, rc));
    }
    std::int64_t value = 0;
    if (const int rc = select_value(db, value); rc != SQLITE_ROW) {
        throw close_and_refuse(fmt::format("holds no counter ({}); refusing to start from 0", error_of(db, rc)));
    }
    sqlite3_close(db);
}

SharedCounter::SharedCounter(Options options) : options_(std::move(options)) {
    const auto turn_file = options_.file.string() + ".lock";
    turn_fd_ = ::open(turn_file.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (turn_fd_ < 0) throw std::runtime_error(fmt::format("shared counter: cannot open {}: {}", turn_file, std::strerror(errno)));
    try {
        db_ = open_database(options_.file, options_.busy_timeout, false);
    } catch (...) {
        ::close(turn_fd_);
        throw;
    }
    std::int64_t value = 0;
    if (const int rc = select_value(db_, value); rc != SQLITE_ROW) {
        const auto error = error_of(db_, rc);
        sqlite3_close(db_);
        ::close(turn_fd_);
        throw std::runtime_error(fmt::format("shared counter database {}: cannot read the value: {}", options_.file.string(), error));
    }
    last_value_ = value;
}

SharedCounter::~SharedCounter() { close(); }

void SharedCounter::start(std::function<void(const std::string&)> on_failure) {
    std::lock_guard lock(mutex_);
    if (started_ || stopping_) return;
    on_failure_ = std::move(on_failure);
    started_ = true;
    thread_ = std::thread([this] { run(); });
}

void SharedCounter::increment(std::int64_t by, Done done) {
    std::unique_lock lock(mutex_);
    if (stopping_) {
        lock.unlock();
        done(Result{Failure::not_durable, 0, "the counter is closed"});
        return;
    }
    if (!failure_.empty()) {
        const auto error = failure_;
        lock.unlock();
        done(Result{Failure::not_durable, 0, error});
        return;
    }
    if (!options_.ack_before_durable) {
        increments_.push_back(Waiting{by, std::move(done)});
        lock.unlock();
        wake_.notify_one();
        return;
    }
    // The fault: the value is made up from what this process knows, and acknowledged at once.
    std::int64_t known = 0;
    std::int64_t next = 0;
    if (__builtin_add_overflow(last_value_.load(), queued_sum_, &known) || __builtin_add_overflow(known, by, &next)) {
        lock.unlock();
        done(Result{Failure::overflow, known, "the counter would overflow"});
        return;
    }
    queued_sum_ += by;
    increments_.push_back(Waiting{by, {}});
    lock.unlock();
    done(Result{Failure::none, next, {}});
}

void SharedCounter::read(Done done) {
    std::unique_lock lock(mutex_);
    if (stopping_) {
        lock.unlock();
        done(Result{Failure::not_durable, 0, "the counter is closed"});
        return;
    }
    reads_.push_back(std::move(done));
    lock.unlock();
    wake_.notify_one();
}

Counter::Stats SharedCounter::stats() const {
    std::error_code ec;
    auto bytes = std::filesystem::file_size(options_.file, ec);
    if (ec) bytes = 0;
    const auto wal = std::filesystem::file_size(options_.file.string() + "-wal", ec);
    if (!ec) bytes += wal;
    return Stats{commits_.load(), records_.load(), bytes};
}

void SharedCounter::close() {
    std::vector<Waiting> never_started;
    std::vector<Done> reads;
    {
        std::lock_guard lock(mutex_);
        if (stopping_) return;
        stopping_ = true;
        if (!started_) {
            never_started.swap(increments_);
            reads.swap(reads_);
        }
    }
    wake_.notify_one();
    if (thread_.joinable()) thread_.join();
    for (auto& waiting : never_started) {
        if (waiting.done) waiting.done(Result{Failure::not_durable, 0, "the counter closed before it started"});
    }
    for (auto& done : reads) done(Result{Failure::not_durable, 0, "the counter closed before it started"});
    sqlite3_close(db_);
    db_ = nullptr;
    ::close(turn_fd_);
    turn_fd_ = -1;
}

void SharedCounter::run() {
    const bool lazy = options_.ack_before_durable;
    auto next_lazy_commit = Clock::now() + options_.lazy_interval;
    std::unique_lock lock(mutex_);
    for (;;) {
        const auto ready = [&] { return stopping_ || !reads_.empty() || (!lazy && !increments_.empty()); };
        if (lazy) wake_.wait_until(lock, next_lazy_commit, ready);
        else wake_.wait(lock, ready);
        std::vector<Done> reads;
        reads.swap(reads_);
        std::vector<Waiting> batch;
        if (!lazy || stopping_ || Clock::now() >= next_lazy_commit) {
            batch.swap(increments_);
            next_lazy_commit = Clock::now() + options_.lazy_interval;
        }
        const bool last = stopping_;  // nothing is queued once stopping_ is set
        lock.unlock();
        if (!batch.empty()) commit(batch, last);
        answer_reads(reads);
        if (last) return;
        lock.lock();
    }
}

void SharedCounter::commit(std::vector<Waiting>& batch, bool closing) {
    {
        std::lock_guard lock(mutex_);
        if (!failure_.empty()) return fail(batch, failure_);
    }
    // At shutdown no turn is waited for (a stuck holder must not hold close() up): SQLite's lock
    // and its busy timeout still serialise.
    std::optional<TurnGuard> turn;
    turn.emplace(closing ? -1 : turn_fd_);
    int rc = SQLITE_OK;
    // BUSY: another worker held the write lock past the busy timeout (a stalled disk). Nothing was
    // written, so beginning again is safe; at shutdown the increments are refused instead (500, not
    // acknowledged), so that close() ends.
    while ((rc = execute(db_, "BEGIN IMMEDIATE")) == SQLITE_BUSY && !closing) {
        log::warn("shared counter busy: another process holds the write lock; beginning again")
            .field("waited_ms", static_cast<std::int64_t>(options_.busy_timeout.count()));
    }
    if (rc == SQLITE_BUSY) {
        for (auto& waiting : batch) {
            if (waiting.done) waiting.done(Result{Failure::not_durable, 0, "the shared counter stayed locked at shutdown"});
        }
        return;
    }
    std::int64_t value = 0;
    if (rc == SQLITE_OK) {
        const int selected = select_value(db_, value);
        rc = selected == SQLITE_ROW ? SQLITE_OK : selected;
    }
    // Each increment's value is the prefix it reached; one that would overflow is refused alone.
    std::vector<Result> results;
    results.reserve(batch.size());
    std::int64_t sum = 0;
    for (const auto& waiting : batch) {
        std::int64_t next = 0;
        if (waiting.done && __builtin_add_overflow(value, waiting.by, &next)) {
            results.push_back(Result{Failure::overflow, value, "the counter would overflow"});
            continue;
        }
        value += waiting.by;
        sum += waiting.by;
        results.push_back(Result{Failure::none, value, {}});
    }
    if (rc == SQLITE_OK) rc = add_to_value(db_, sum);
    if (rc == SQLITE_OK) rc = execute(db_, "COMMIT");
    if (rc != SQLITE_OK) {
        const auto error = fmt::format("shared counter database {}: commit failed: {}", options_.file.string(), error_of(db_, rc));
        execute(db_, "ROLLBACK");
        return fail(batch, error);
    }
    {
        std::lock_guard lock(mutex_);
        last_value_.store(value, std::memory_order_release);
        if (options_.ack_before_durable) queued_sum_ -= sum;
    }
    turn.reset();  // the next writer may go while these are answered
    commits_.fetch_add(1);
    records_.fetch_add(batch.size());
    for (std::size_t i = 0; i < batch.size(); ++i) {
        if (batch[i].done) batch[i].done(results[i]);
    }
}

void SharedCounter::answer_reads(std::vector<Done>& reads) {
    if (reads.empty()) return;
    std::int64_t value = 0;
    const int rc = select_value(db_, value);
    if (rc == SQLITE_ROW) last_value_.store(value, std::memory_order_release);
    for (auto& done : reads) {
        if (rc == SQLITE_ROW) done(Result{Failure::none, value, {}});
        else done(Result{Failure::not_durable, 0, error_of(db_, rc)});
    }
}

// Never retried: the counter stays failed, and the server is told once (it stops with exit 6).
void SharedCounter::fail(std::vector<Waiting>& batch, const std::string& error) {
    bool first = false;
    {
        std::lock_guard lock(mutex_);
        first = failure_.empty();
        if (first) failure_ = error;
    }
    for (auto& waiting : batch) {
        if (waiting.done) waiting.done(Result{Failure::not_durable, 0, error});
    }
    if (first && on_failure_) on_failure_(error);
}

} // namespace lastcall::server

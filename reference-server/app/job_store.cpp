#include "job_store.hpp"

#include <fmt/format.h>
#include <sqlite3.h>

#include <algorithm>
#include <stdexcept>

namespace lastcall::server {

namespace {

// One row of `SELECT id, steps, step_ms, done_steps, state, resumes, owner`.
Job job_at(sqlite3_stmt* statement) {
    Job job;
    job.id = sqlite3_column_int64(statement, 0);
    job.steps = sqlite3_column_int(statement, 1);
    job.step_ms = sqlite3_column_int(statement, 2);
    job.done_steps = sqlite3_column_int(statement, 3);
    job.state = reinterpret_cast<const char*>(sqlite3_column_text(statement, 4));
    job.resumes = sqlite3_column_int(statement, 5);
    job.owner = reinterpret_cast<const char*>(sqlite3_column_text(statement, 6));
    return job;
}

// Binds ?1..?3 (only as many as the statement has) to the given integers.
void bind_all(sqlite3_stmt* statement, std::int64_t a, std::int64_t b, std::int64_t c) {
    const std::int64_t values[] = {a, b, c};
    const int count = sqlite3_bind_parameter_count(statement);
    for (int i = 0; i < count && i < 3; ++i) sqlite3_bind_int64(statement, i + 1, values[i]);
}

} // namespace

JobStore::JobStore(const std::filesystem::path& file, std::string owner) : owner_(std::move(owner)) {
    if (sqlite3_open_v2(file.c_str(), &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr) !=
        SQLITE_OK) {
        const std::string message = db_ ? sqlite3_errmsg(db_) : "out of memory";
        sqlite3_close(db_);
        db_ = nullptr;
        throw std::runtime_error(fmt::format("cannot open jobs database {}: {}", file.string(), message));
    }
    // Workers share the file: a writer waits for another's commit rather than failing at once.
    sqlite3_busy_timeout(db_, 5000);
    const char* schema =
        "PRAGMA journal_mode=WAL;"
        "PRAGMA synchronous=FULL;"
        "CREATE TABLE IF NOT EXISTS jobs ("
        "  id INTEGER PRIMARY KEY AUTOINCREMENT, steps INTEGER NOT NULL, step_ms INTEGER NOT NULL,"
        "  done_steps INTEGER NOT NULL DEFAULT 0, state TEXT NOT NULL DEFAULT 'running',"
        "  resumes INTEGER NOT NULL DEFAULT 0, owner TEXT NOT NULL DEFAULT '');";
    // Every commit is already durable in the WAL (synchronous=FULL). The checkpoint sqlite3_close
    // would run copies durable pages into the main file with more fsyncs, inside the cleanup budget:
    // on a busy disk it took 2.2-9 s and a correct drain exited 4 (noise soak). The next open
    // replays the WAL instead.
    sqlite3_db_config(db_, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, nullptr);
    char* error = nullptr;
    if (sqlite3_exec(db_, schema, nullptr, nullptr, &error) != SQLITE_OK) {
        const std::string message = error ? error : "unknown error";
        sqlite3_free(error);
        sqlite3_close(db_);
        db_ = nullptr;
        throw std::runtime_error(fmt::format("cannot prepare jobs database {}: {}", file.string(), message));
    }
    // A database from before owners: its jobs belong to no one (""), which any claim of a new run takes.
    if (sqlite3_exec(db_, "SELECT owner FROM jobs LIMIT 0", nullptr, nullptr, nullptr) != SQLITE_OK &&
        sqlite3_exec(db_, "ALTER TABLE jobs ADD COLUMN owner TEXT NOT NULL DEFAULT ''", nullptr, nullptr, &error) != SQLITE_OK) {
        const std::string message = error ? error : "unknown error";
        sqlite3_free(error);
        sqlite3_close(db_);
        db_ = nullptr;
        throw std::runtime_error(fmt::format("cannot add job owners to {}: {}", file.string(), message));
    }
}

JobStore::~JobStore() { close(); }

void JobStore::close() {
    std::lock_guard lock(mutex_);
    if (db_) sqlite3_close(db_);
    db_ = nullptr;
}

void JobStore::execute(const char* sql, std::int64_t a, std::int64_t b, std::int64_t c) {
    if (!db_) throw std::runtime_error("jobs database is closed");
    sqlite3_stmt* statement = nullptr;
    if (sqlite3_prepare_v2(db_, sql, -1, &statement, nullptr) != SQLITE_OK) {
        throw std::runtime_error(fmt::format("jobs database: {}", sqlite3_errmsg(db_)));
    }
    bind_all(statement, a, b, c);
    const int rc = sqlite3_step(statement);
    sqlite3_finalize(statement);
    if (rc != SQLITE_DONE) throw std::runtime_error(fmt::format("jobs database: {}", sqlite3_errmsg(db_)));
}

std::vector<Job> JobStore::query(const char* sql, std::int64_t a) {
    if (!db_) throw std::runtime_error("jobs database is closed");
    sqlite3_stmt* statement = nullptr;
    if (sqlite3_prepare_v2(db_, sql, -1, &statement, nullptr) != SQLITE_OK) {
        throw std::runtime_error(fmt::format("jobs database: {}", sqlite3_errmsg(db_)));
    }
    bind_all(statement, a, 0, 0);
    std::vector<Job> jobs;
    while (sqlite3_step(statement) == SQLITE_ROW) {
        jobs.push_back(job_at(statement));
    }
    sqlite3_finalize(statement);
    return jobs;
}

std::int64_t JobStore::create(int steps, int step_ms) {
    std::lock_guard lock(mutex_);
    if (!db_) throw std::runtime_error("jobs database is closed");
    sqlite3_stmt* statement = nullptr;
    if (sqlite3_prepare_v2(db_, "INSERT INTO jobs (steps, step_ms, owner) VALUES (?1, ?2, ?3)", -1, &statement, nullptr) != SQLITE_OK) {
        throw std::runtime_error(fmt::format("jobs database: {}", sqlite3_errmsg(db_)));
    }
    sqlite3_bind_int(statement, 1, steps);
    sqlite3_bind_int(statement, 2, step_ms);
    sqlite3_bind_text(statement, 3, owner_.c_str(), -1, SQLITE_TRANSIENT);
    const int rc = sqlite3_step(statement);
    sqlite3_finalize(statement);
    if (rc != SQLITE_DONE) throw std::runtime_error(fmt::format("jobs database: {}", sqlite3_errmsg(db_)));
    return sqlite3_last_insert_rowid(db_);
}

void JobStore::record_progress(std::int64_t id, int done_steps) {
    std::lock_guard lock(mutex_);
    execute("UPDATE jobs SET done_steps = ?2 WHERE id = ?1", id, done_steps);
}

void JobStore::mark_completed(std::int64_t id) {
    std::lock_guard lock(mutex_);
    execute("UPDATE jobs SET state = 'completed' WHERE id = ?1", id);
}

void JobStore::mark_resumable(std::int64_t id) {
    std::lock_guard lock(mutex_);
    execute("UPDATE jobs SET state = 'resumable' WHERE id = ?1", id);
}

void JobStore::mark_resumed(std::int64_t id) {
    std::lock_guard lock(mutex_);
    execute("UPDATE jobs SET state = 'running', resumes = resumes + 1 WHERE id = ?1", id);
}

std::optional<Job> JobStore::find(std::int64_t id) {
    std::lock_guard lock(mutex_);
    auto jobs = query("SELECT id, steps, step_ms, done_steps, state, resumes, owner FROM jobs WHERE id = ?1", id);
    if (jobs.empty()) return std::nullopt;
    return jobs.front();
}

std::vector<Job> JobStore::unfinished() {
    std::lock_guard lock(mutex_);
    return query("SELECT id, steps, step_ms, done_steps, state, resumes, owner FROM jobs WHERE state != 'completed' ORDER BY id");
}

std::vector<Job> JobStore::claim_where(const char* sql, const std::string& text) {
    std::lock_guard lock(mutex_);
    if (!db_) throw std::runtime_error("jobs database is closed");
    sqlite3_stmt* statement = nullptr;
    if (sqlite3_prepare_v2(db_, sql, -1, &statement, nullptr) != SQLITE_OK) {
        throw std::runtime_error(fmt::format("jobs database: {}", sqlite3_errmsg(db_)));
    }
    sqlite3_bind_text(statement, 1, owner_.c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(statement, 2, text.c_str(), -1, SQLITE_TRANSIENT);
    std::vector<Job> jobs;
    int rc = SQLITE_ROW;
    while ((rc = sqlite3_step(statement)) == SQLITE_ROW) {
        jobs.push_back(job_at(statement));
    }
    sqlite3_finalize(statement);
    if (rc != SQLITE_DONE) throw std::runtime_error(fmt::format("jobs database: {}", sqlite3_errmsg(db_)));
    std::sort(jobs.begin(), jobs.end(), [](const Job& a, const Job& b) { return a.id < b.id; });
    return jobs;
}

std::vector<Job> JobStore::claim(const std::string& from) {
    return claim_where("UPDATE jobs SET owner = ?1, state = 'running', resumes = resumes + 1 "
                       "WHERE owner = ?2 AND state != 'completed' "
                       "RETURNING id, steps, step_ms, done_steps, state, resumes, owner",
                       from);
}

std::vector<Job> JobStore::claim_all_but(const std::string& prefix) {
    return claim_where("UPDATE jobs SET owner = ?1, state = 'running', resumes = resumes + 1 "
                       "WHERE substr(owner, 1, length(?2)) != ?2 AND state != 'completed' "
                       "RETURNING id, steps, step_ms, done_steps, state, resumes, owner",
                       prefix);
}

} // namespace lastcall::server

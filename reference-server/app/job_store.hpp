#pragma once
// Background jobs and their progress in a real SQLite database (WAL, synchronous=FULL): a job the
// server answered 202 for is on disk, and progress survives a crash at step granularity.
//
// With --workers the database is shared (STATE/jobs.db) and every job has an owner, the worker
// process that runs it ("EPOCH/G.S#I": EPOCH names one run of the master). An unfinished job moves
// to another worker only by claim(): one UPDATE that takes it from its owner, so it resumes exactly
// once however many workers there are. One process has owner "" and resumes everything unfinished.
#include <cstdint>
#include <filesystem>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

struct sqlite3;

namespace lastcall::server {

struct Job {
    std::int64_t id = 0;
    int steps = 0;
    int step_ms = 0;
    int done_steps = 0;
    std::string state;  // running | resumable | completed
    int resumes = 0;
    std::string owner;  // the worker process running it ("" for one process)
};

class JobStore {
public:
    // Throws std::runtime_error. `owner`: who the jobs created here belong to ("" for one process).
    explicit JobStore(const std::filesystem::path& file, std::string owner = {});
    ~JobStore();
    JobStore(const JobStore&) = delete;
    JobStore& operator=(const JobStore&) = delete;

    std::int64_t create(int steps, int step_ms);
    void record_progress(std::int64_t id, int done_steps);
    void mark_completed(std::int64_t id);
    void mark_resumable(std::int64_t id);
    void mark_resumed(std::int64_t id);
    std::optional<Job> find(std::int64_t id);
    std::vector<Job> unfinished();
    // Takes every unfinished job of `from` (running or resumable) for this store's owner, marked
    // resumed, in one statement: two claims of the same jobs never both get them.
    std::vector<Job> claim(const std::string& from);
    // The same for every unfinished job whose owner does not start with `prefix`: the jobs of an
    // earlier run of the service, taken by the first worker of a new one.
    std::vector<Job> claim_all_but(const std::string& prefix);
    const std::string& owner() const { return owner_; }
    void close();

private:
    void execute(const char* sql, std::int64_t a = 0, std::int64_t b = 0, std::int64_t c = 0);
    std::vector<Job> query(const char* sql, std::int64_t a = 0);
    std::vector<Job> claim_where(const char* sql, const std::string& text);

    const std::string owner_;
    std::mutex mutex_;
    sqlite3* db_ = nullptr;
};

} // namespace lastcall::server

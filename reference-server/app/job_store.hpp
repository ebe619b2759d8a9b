#pragma once
// Background jobs and their progress in a real SQLite database (WAL, synchronous=FULL): a job the
// server answered 202 for is on disk, and progress survives a crash at step granularity.
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
};

class JobStore {
public:
    explicit JobStore(const std::filesystem::path& file);  // throws std::runtime_error
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
    void close();

private:
    void execute(const char* sql, std::int64_t a = 0, std::int64_t b = 0, std::int64_t c = 0);
    std::vector<Job> query(const char* sql, std::int64_t a = 0);

    std::mutex mutex_;
    sqlite3* db_ = nullptr;
};

} // namespace lastcall::server

// Jobs of lastcall-server --workers 2 on real processes and one real jobs.db: a job whose worker is
// SIGKILLed resumes on the other worker, once; jobs a stopped service left resume once after a
// restart, though two workers start on the same database.
#include "raw_http.hpp"
#include "reference_server.hpp"

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <csignal>
#include <sstream>
#include <thread>

namespace lastcall::testing {
namespace {

using namespace std::chrono_literals;

const std::vector<std::string> prefork{"--workers", "2", "--threads", "1"};

nlohmann::json get_job(unsigned short port, long id) {
    const auto response = http_get(port, fmt::format("/jobs/{}", id));
    return response.status == 200 ? nlohmann::json::parse(response.body, nullptr, false) : nlohmann::json();
}

// Polls (bounded) until the job is completed; returns its last state.
nlohmann::json wait_completed(unsigned short port, long id, std::chrono::milliseconds limit) {
    nlohmann::json job;
    for (const auto deadline = std::chrono::steady_clock::now() + limit; std::chrono::steady_clock::now() < deadline;) {
        job = get_job(port, id);
        if (job.is_object() && job["state"] == "completed") break;
        std::this_thread::sleep_for(50ms);
    }
    return job;
}

long create_job(unsigned short port, int steps, int step_ms) {
    const auto response = http_post(port, fmt::format("/jobs?steps={}&step_ms={}", steps, step_ms));
    EXPECT_EQ(response.status, 202) << response.body;
    return nlohmann::json::parse(response.body, nullptr, false).value("id", -1L);
}

// The pid the master logged for worker `id` ("1.2"): {"msg":"worker started","worker":"1.2","pid":N}.
pid_t worker_pid(const std::string& master_log, const std::string& id) {
    std::istringstream lines(master_log);
    for (std::string line; std::getline(lines, line);) {
        const auto entry = nlohmann::json::parse(line, nullptr, false);
        if (entry.is_object() && entry.value("msg", "") == "worker started" && entry.value("worker", "") == id) {
            return entry.value("pid", -1);
        }
    }
    return -1;
}

TEST(PreforkJobs, AJobOfAKilledWorkerResumesOnceOnAnother) {
    ReferenceServer server(fresh_test_dir() / "state", prefork);
    const auto id = create_job(server.port(), 30, 50);
    const auto owner = get_job(server.port(), id).value("owner", "");
    const auto worker = owner.substr(owner.find('/') + 1);  // "EPOCH/1.2" -> "1.2"
    const auto pid = worker_pid(server.stderr_text(), worker);
    ASSERT_GT(pid, 0) << "no pid logged for worker " << worker << " (owner '" << owner << "')";
    ASSERT_EQ(::kill(pid, SIGKILL), 0);
    const auto job = wait_completed(server.port(), id, 15s);
    EXPECT_EQ(job.value("state", ""), "completed") << job.dump();
    EXPECT_EQ(job.value("resumes", -1), 1) << job.dump();
    EXPECT_NE(job.value("owner", ""), owner) << "still the killed worker's";
    server.process().signal(SIGTERM);
    EXPECT_TRUE(server.process().wait(10s));
}

TEST(PreforkJobs, JobsAStoppedServiceLeftResumeOnceAfterARestart) {
    const auto state = fresh_test_dir() / "state";
    std::vector<long> ids;
    {
        // A task budget too short for the jobs: the stop cancels them and leaves them resumable.
        ReferenceServer server(state, {"--workers", "2", "--threads", "1", "--task-budget", "100ms"});
        for (int i = 0; i < 4; ++i) ids.push_back(create_job(server.port(), 20, 100));
        server.process().signal(SIGTERM);
        const auto status = server.process().wait(10s);
        ASSERT_TRUE(status);
    }
    ReferenceServer restarted(state, prefork);
    for (const auto id : ids) {
        const auto job = wait_completed(restarted.port(), id, 15s);
        EXPECT_EQ(job.value("state", ""), "completed") << job.dump();
        EXPECT_EQ(job.value("resumes", -1), 1) << "resumed by both workers, or by none: " << job.dump();
    }
    restarted.process().signal(SIGTERM);
    EXPECT_TRUE(restarted.process().wait(10s));
}

} // namespace
} // namespace lastcall::testing

// Jobs in a real SQLite file shared by two stores (two workers): a claim moves an unfinished job
// from its owner to the claimant in one statement, so a job resumes exactly once; the first worker
// of a new run takes every job an earlier run left, and none of its own run's.
#include "job_store.hpp"

#include "test_dir.hpp"

#include <gtest/gtest.h>

namespace lastcall::server {
namespace {

std::vector<std::int64_t> ids(const std::vector<Job>& jobs) {
    std::vector<std::int64_t> out;
    for (const auto& job : jobs) out.push_back(job.id);
    return out;
}

TEST(JobStore, AClaimTakesAnEndedWorkersUnfinishedJobsOnce) {
    const auto file = testing::fresh_test_dir() / "jobs.db";
    JobStore a(file, "run1/1.1");
    JobStore b(file, "run1/1.2");
    JobStore c(file, "run1/1.1#2");
    const auto running = a.create(5, 10);
    const auto cancelled = a.create(5, 10);
    const auto done = a.create(5, 10);
    const auto others = b.create(5, 10);
    a.record_progress(running, 2);
    a.mark_resumable(cancelled);
    a.mark_completed(done);

    const auto claimed = b.claim("run1/1.1");
    EXPECT_EQ(ids(claimed), (std::vector<std::int64_t>{running, cancelled}));
    EXPECT_EQ(claimed[0].done_steps, 2);
    EXPECT_EQ(claimed[0].state, "running");
    EXPECT_EQ(claimed[1].resumes, 1);
    EXPECT_TRUE(c.claim("run1/1.1").empty()) << "claimed twice";
    EXPECT_EQ(ids(c.claim("run1/1.2")), (std::vector<std::int64_t>{running, cancelled, others})) << "now b's, all three";
    EXPECT_EQ(c.find(running)->resumes, 2);
}

TEST(JobStore, ANewRunTakesEveryJobAnEarlierRunLeftButNoneOfItsOwn) {
    const auto file = testing::fresh_test_dir() / "jobs.db";
    JobStore single(file);  // a single-process server's job: no owner
    const auto old_single = single.create(3, 10);
    JobStore earlier(file, "run1/1.2");
    const auto old_worker = earlier.create(3, 10);
    JobStore first(file, "run2/1.1");
    JobStore second(file, "run2/1.2");
    const auto current = second.create(3, 10);
    EXPECT_EQ(ids(first.claim_all_but("run2/")), (std::vector<std::int64_t>{old_single, old_worker}));
    EXPECT_TRUE(second.claim_all_but("run2/").empty());
    EXPECT_EQ(second.find(current)->resumes, 0);
}

} // namespace
} // namespace lastcall::server

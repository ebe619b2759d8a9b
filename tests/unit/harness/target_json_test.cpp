// JSON a target sent: whatever it is, a value or nothing, never an exception or a crash.
#include "readback.hpp"
#include "request_exchange.hpp"
#include "target_json.hpp"

#include <gtest/gtest.h>

namespace lastcall::harness {
namespace {

using nlohmann::json;

TEST(TargetJson, DeepNestingIsRefusedBeforeParsing) {
    EXPECT_TRUE(parse_target_json(std::string(1'000'000, '[') + std::string(1'000'000, ']')).is_discarded());
    EXPECT_FALSE(parse_target_json(std::string(64, '[') + std::string(64, ']')).is_discarded());
    EXPECT_FALSE(parse_target_json(R"({"a":"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[\"]"})").is_discarded())
        << "brackets inside strings do not nest";
}

TEST(TargetJson, ValueAtAPointerOrNothing) {
    const json::json_pointer id("/task/key");
    EXPECT_EQ(json_value_at(R"({"task":{"key":"t-1"}})", id), R"("t-1")");
    EXPECT_EQ(json_value_at(R"({"task":{"key":42}})", id), "42");
    EXPECT_EQ(json_value_at("accepted t-1", id), std::nullopt);               // not JSON
    EXPECT_EQ(json_value_at(R"({"task":[1,2]})", id), std::nullopt);          // a pointer that does not fit the shape
    EXPECT_EQ(json_value_at(R"({"task":{"key":"t-1")", id), std::nullopt);    // cut
    EXPECT_EQ(json_value_at(R"({"task":{"key":")" + std::string(2000, 'x') + "\"}}", id), std::nullopt);  // too long to keep
    EXPECT_EQ(json_value_at(R"([5,6])", json::json_pointer("/1")), "6");
    EXPECT_EQ(json_value_at(R"([5,6])", json::json_pointer("/-")), std::nullopt);
    EXPECT_EQ(json_value_at("\"\xff\"", json::json_pointer("")), std::nullopt);  // invalid UTF-8 is not JSON
}

TEST(TargetJson, JobPollPathsAndDoneConditions) {
    JobContract job{"/id", "/v1/tasks/{id}/status", "/state", "completed"};
    EXPECT_EQ(job_poll_path(job, "42"), "/v1/tasks/42/status");
    EXPECT_EQ(job_poll_path(job, R"("a b/c")"), "/v1/tasks/a%20b%2Fc/status");
    std::string seen;
    EXPECT_TRUE(job_done(job, R"({"state":"completed"})", seen));
    EXPECT_FALSE(job_done(job, R"({"state":"running"})", seen));
    EXPECT_EQ(seen, R"(/state is "running")");
    EXPECT_FALSE(job_done(job, "<html>busy</html>", seen));
    EXPECT_EQ(seen, "not JSON: '<html>busy</html>'");
    EXPECT_FALSE(job_done(job, R"({"status":"completed"})", seen));
    EXPECT_EQ(seen, R"(nothing at /state: '{"status":"completed"}')");
    job.done_equals = "true";
    EXPECT_TRUE(job_done(job, R"({"state":true})", seen));
    EXPECT_TRUE(job_done(job, R"({"state":"true"})", seen));
}

} // namespace
} // namespace lastcall::harness

// history.jsonl's line: a field at its default is left out, and `lastcall report` reads every
// field back as it was (the default where it is absent).
#include "history.hpp"
#include "run_record_requests.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace lastcall::reports::record {
namespace {

using namespace lastcall::harness;

RequestRecord every_field_set() {
    RequestRecord r;
    r.id = 7;
    r.retry_of = 5;
    r.intended_us = -500;  // before the load's start: a time, not "never"
    r.sent_us = 0;
    r.first_byte_us = 40;
    r.done_us = 45;
    r.bytes = 1ULL << 40;
    r.body_bytes = 12345;
    r.closed_after_us = 90;
    r.connection_id = 4'000'000'000u;
    r.reuse_index = 77;
    r.events = 12;
    r.proxy_record = 9;
    r.workload = 1;
    r.status = 503;
    r.retry_after_s = -2;
    r.outcome = Outcome::idle_close_race;
    r.failure = Failure::body_sha256_mismatch;
    r.stream_end = StreamEnd::shutdown;
    r.connection_close = true;
    r.retried = true;
    r.closed_after = true;
    r.unsolicited_after = true;
    r.reply_value = R"({"id":"job-1"})";
    return r;
}

RequestRecord typical_ok() {
    RequestRecord r;
    r.id = 1'234'567;
    r.intended_us = 59'999'123;
    r.sent_us = r.intended_us + 2;
    r.first_byte_us = r.intended_us + 40;
    r.done_us = r.intended_us + 45;
    r.bytes = 120;
    r.body_bytes = 2;
    r.connection_id = 17;
    r.reuse_index = 80'000;
    r.status = 200;
    r.outcome = Outcome::ok;
    return r;
}

const std::vector<std::string> workloads{"fast", "second"};

RequestRecord read_back(const std::string& line) {
    return read_request(nlohmann::json::parse(line), Source{"history.jsonl", 1}, workloads);
}

TEST(HistoryLine, EveryFieldReadsBackAsItWasWrittenDefaultsOrNot) {
    RequestRecord never_sent;  // every field at its default
    never_sent.outcome = Outcome::unknown;
    for (const auto& original : {every_field_set(), typical_ok(), never_sent}) {
        const auto line = to_json_line(original, workloads[original.workload]);
        EXPECT_EQ(to_json_line(read_back(line), workloads[original.workload]), line);
    }
    // With every field set, every field is named.
    const auto whole = nlohmann::json::parse(to_json_line(every_field_set(), "second"));
    EXPECT_EQ(whole.size(), 24u) << whole.dump();
}

TEST(HistoryLine, FieldsAtTheirDefaultsAreLeftOut) {
    const auto line = to_json_line(typical_ok(), "fast");
    EXPECT_EQ(line, R"({"id":1234567,"workload":"fast","intended_us":59999123,"sent_us":59999125,"first_byte_us":59999163,"done_us":59999168,)"
                    R"("connection":17,"reuse":80000,"status":200,"bytes":120,"body_bytes":2,"outcome":"ok"})");
    RequestRecord never_sent;
    EXPECT_EQ(to_json_line(never_sent, "fast"), R"({"id":0,"workload":"fast","intended_us":-1,"outcome":"unknown"})");
}

TEST(HistoryLine, AFieldOfTheWrongTypeIsNamedWithItsLine) {
    try {
        read_back(R"({"id":1,"workload":"fast","intended_us":5,"outcome":"ok","status":"200"})");
        FAIL() << "a status that is a string was read";
    } catch (const RunRecordError& e) {
        EXPECT_EQ(std::string(e.what()), "history.jsonl:1: 'status' is not a number");
    }
}

} // namespace
} // namespace lastcall::reports::record

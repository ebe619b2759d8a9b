// Whether a target spoke HTTP, from what the load saw (harness/not_http.hpp): pure, on hand-made answers.
#include "not_http.hpp"

#include <gtest/gtest.h>

namespace lastcall::harness {
namespace {

RequestRecord ended(std::uint64_t id, std::int64_t done_us) {
    RequestRecord r;
    r.id = id;
    r.done_us = done_us;
    r.sent_us = done_us - 1000;
    r.workload = 1;
    return r;
}

const std::vector<std::string> names{"get", "post"};

TEST(NotHttp, BytesAreEscapedAsACStringWouldShowThem) {
    EXPECT_EQ(escape_bytes("GET / HTTP/1.1\r\n\t\"q\"\\"), "GET / HTTP/1.1\\r\\n\\t\\\"q\\\"\\\\");
    EXPECT_EQ(escape_bytes(std::string_view("\x00\xff" "a", 3)), "\\x00\\xffa");
}

TEST(NotHttp, NoHttpAnswerBeforeTheSignalAndGarbageBeforeItIsTheVerdict) {
    AnswersSeen first, second;
    first.note_not_http(ended(7, 300'000), "hello\r\n");
    second.note_not_http(ended(3, 200'000), std::string_view("\x00hi", 3));
    second.note_http(900'000);  // after the signal: a server that only then answered HTTP
    first.merge(second);
    EXPECT_EQ(first.not_http, 2u);
    EXPECT_EQ(first.first_not_http_request, 3u) << "the earliest of the threads'";
    const auto verdict = not_http_verdict(first, 500'000, 10, names);
    EXPECT_NE(verdict.find("the target does not speak HTTP"), std::string::npos) << verdict;
    EXPECT_NE(verdict.find("before the signal at 0.500s"), std::string::npos) << verdict;
    // In the user's terms: the workload and its moments, not lastcall's request id (#3, or #256 from the second thread).
    EXPECT_NE(verdict.find("the first (a request of workload post, sent at 0.199s, answered at 0.200s) began \"\\x00hi\""), std::string::npos) << verdict;
    EXPECT_EQ(verdict.find('#'), std::string::npos) << verdict;
    EXPECT_NE(verdict.find("2 of the 10 requests"), std::string::npos) << verdict;
}

TEST(NotHttp, AnHttpAnswerBeforeTheSignalOrGarbageOnlyAfterItIsNot) {
    AnswersSeen spoke;
    spoke.note_http(100'000);
    spoke.note_not_http(ended(1, 200'000), "junk");
    EXPECT_EQ(not_http_verdict(spoke, 500'000, 2, names), "") << "it spoke HTTP before the signal: its garbage is its shutdown's to answer for";
    AnswersSeen late;
    late.note_not_http(ended(1, 700'000), "junk");
    EXPECT_EQ(not_http_verdict(late, 500'000, 1, names), "") << "garbage only after the signal is judged as the shutdown's";
    EXPECT_NE(not_http_verdict(late, -1, 1, names), "") << "no signal: the whole run";
    EXPECT_EQ(not_http_verdict(AnswersSeen{}, -1, 0, names), "");
}

// A refused connect held across the signal (begun before it, its SYN sent again, refused after
// it) is no clean rejection; one that lacks any of the three stays `rejected`.
TEST(NotHttp, RefusalOfAConnectHeldAcrossTheSignalIsNoCleanRejection) {
    RequestRecord r = ended(1, 1'010'000);
    r.outcome = Outcome::rejected;
    r.failure = Failure::connect_refused;
    r.connect_us = 2'000;
    r.syn_retried = true;
    EXPECT_TRUE(refused_after_being_held(r, 1'000'000));
    EXPECT_FALSE(refused_after_being_held(r, -1)) << "no signal: nothing to be held across";
    EXPECT_FALSE(refused_after_being_held(r, 1'020'000)) << "refused before the signal";
    auto late = r;
    late.connect_us = 1'000'500;
    EXPECT_FALSE(refused_after_being_held(late, 1'000'000)) << "begun after the signal: a clean rejection";
    auto at_once = r;
    at_once.syn_retried = false;
    EXPECT_FALSE(refused_after_being_held(at_once, 1'000'000)) << "refused at its first SYN: the listener was gone";
}

// Requests attempted before the signal, none connected nor answered: the target took nothing.
TEST(NotHttp, ATargetThatTookNoRequestBeforeTheSignalAnsweredNothing) {
    RequestRecord refused = ended(256, 1'010'000);
    refused.failure = Failure::connect_refused;
    refused.connect_us = 2'000;
    AnswersSeen seen;
    seen.note_attempt(refused);
    const auto said = answered_nothing_verdict(seen, 1'000'000);
    EXPECT_NE(said.find("the target answered nothing before the signal at 1.000s"), std::string::npos) << said;
    EXPECT_NE(said.find("the first (begun at 0.002s) ended connect_refused at 1.010s"), std::string::npos) << said;
    EXPECT_TRUE(answered_nothing_verdict(seen, 1'000).empty()) << "attempted after the signal only";

    RequestRecord sent = ended(512, 900'000);  // one request went out before the signal: judged
    sent.sent_us = 3'000;
    AnswersSeen other;
    other.note_attempt(sent);
    seen.merge(other);
    EXPECT_TRUE(answered_nothing_verdict(seen, 1'000'000).empty());
}

} // namespace
} // namespace lastcall::harness

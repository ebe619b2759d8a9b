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

} // namespace
} // namespace lastcall::harness

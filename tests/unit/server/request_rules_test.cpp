// RFC 9112's obligations on a request head, as a table. The same cases go over the wire against
// the real server in tests/integration/http_conformance_test.cpp.
#include "request_rules.hpp"

#include <gtest/gtest.h>

namespace lastcall::server {
namespace {

struct Case {
    const char* name;
    RequestHead head;
    int status;              // 0: accepted
    bool close = false;
    std::string target = {};  // expected origin-form when accepted
};

void PrintTo(const Case& c, std::ostream* out) { *out << c.name; }

using Fields = std::vector<std::pair<std::string_view, std::string_view>>;
const Fields host{{"Host", "127.0.0.1:8080"}};

RequestHead get(std::string_view target, Fields fields = host, unsigned version = 11, std::string_view method = "GET") {
    return RequestHead{method, target, version, std::move(fields)};
}

const Case cases[] = {
    {"origin_form", get("/fast?ms=1"), 0, false, "/fast?ms=1"},
    {"absolute_form_is_served", get("http://127.0.0.1/health"), 0, false, "/health"},
    {"absolute_form_authority_only", get("http://127.0.0.1:8080"), 0, false, "/"},
    {"absolute_form_query_only", get("HTTP://example.com?x=1"), 0, false, "/?x=1"},
    {"absolute_form_https", get("https://h/a/b"), 0, false, "/a/b"},
    {"absolute_form_other_scheme", get("ftp://h/a"), 400},
    {"absolute_form_userinfo", get("http://user@h/a"), 400},
    {"no_form_at_all", get("fast"), 400},
    {"asterisk_for_options", get("*", host, 11, "OPTIONS"), 0, false, "*"},
    {"asterisk_for_get", get("*"), 400},
    {"authority_form_connect", get("127.0.0.1:443", host, 11, "CONNECT"), 405},
    {"http11_without_host", get("/fast", {}), 400},
    {"http11_two_hosts", get("/fast", {{"Host", "a"}, {"host", "b"}}), 400},
    {"host_with_space", get("/fast", {{"Host", "a b"}}), 400},
    {"host_with_slash", get("/fast", {{"Host", "a/b"}}), 400},
    {"host_ipv6_literal", get("/fast", {{"Host", "[::1]:8080"}}), 0, false, "/fast"},
    {"host_empty_is_allowed", get("/fast", {{"Host", ""}}), 0, false, "/fast"},
    {"http10_without_host", get("/fast", {}, 10), 0, false, "/fast"},
    {"http10_two_hosts", get("/fast", {{"Host", "a"}, {"Host", "b"}}, 10), 400},
    {"absolute_form_still_needs_host_in_11", get("http://h/fast", {}), 400},
    {"te_gzip_smuggling", get("/fast", {{"Host", "h"}, {"Transfer-Encoding", "gzip"}}), 400, true},
    {"te_chunked_then_gzip", get("/fast", {{"Host", "h"}, {"Transfer-Encoding", "chunked, gzip"}}), 400, true},
    {"te_split_over_lines", get("/fast", {{"Host", "h"}, {"Transfer-Encoding", "chunked"}, {"Transfer-Encoding", "gzip"}}), 400, true},
    {"te_chunked_twice", get("/fast", {{"Host", "h"}, {"Transfer-Encoding", "chunked, chunked"}}), 400, true},
    {"te_gzip_then_chunked", get("/fast", {{"Host", "h"}, {"Transfer-Encoding", "gzip, chunked"}}), 501, true},
    {"te_with_content_length", get("/fast", {{"Host", "h"}, {"Transfer-Encoding", "chunked"}, {"Content-Length", "3"}}), 400, true},
    {"te_in_http10", get("/fast", {{"Transfer-Encoding", "chunked"}}, 10), 400, true},
    {"te_chunked_any_case", get("/fast", {{"Host", "h"}, {"transfer-encoding", " Chunked "}}), 0, false, "/fast"},
    {"http2_version", get("/fast", host, 20), 505, true},
    {"http12_is_11", get("/fast", host, 12), 0, false, "/fast"},
    {"expect_continue", get("/fast", {{"Host", "h"}, {"Expect", "100-Continue"}}), 0, false, "/fast"},
    {"expect_other", get("/fast", {{"Host", "h"}, {"Expect", "teapot"}}), 417},
};

class RequestRules : public ::testing::TestWithParam<Case> {};

TEST_P(RequestRules, JudgesAsRfc9112Says) {
    const auto& c = GetParam();
    const auto verdict = judge_request(c.head);
    EXPECT_EQ(verdict.status, c.status) << verdict.reason;
    EXPECT_EQ(verdict.close, c.close);
    if (c.status == 0) EXPECT_EQ(verdict.target, c.target);
    if (c.status != 0) EXPECT_FALSE(verdict.reason.empty());
}

INSTANTIATE_TEST_SUITE_P(Table, RequestRules, ::testing::ValuesIn(cases),
                         [](const auto& info) { return std::string(info.param.name); });

TEST(RequestRules, ExpectContinueOnlyForHttp11) {
    EXPECT_TRUE(judge_request(get("/x", {{"Host", "h"}, {"Expect", "100-continue"}})).expect_continue);
    EXPECT_FALSE(judge_request(get("/x", {{"Expect", "100-continue"}}, 10)).expect_continue);
}

} // namespace
} // namespace lastcall::server

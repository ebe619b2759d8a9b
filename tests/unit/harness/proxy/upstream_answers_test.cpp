// The proxy's records read as the load's AnswersSeen (upstream_answers.hpp): pure, on hand-made
// records. The whole runs are integration/proxy_setup_error_test.cpp.
#include "proxy/upstream_answers.hpp"

#include <gtest/gtest.h>

namespace lastcall::harness::proxy {
namespace {

ProxyRecord forwarded(std::uint32_t id, std::int64_t forwarded_us) {
    ProxyRecord r;
    r.id = id;
    r.received_us = forwarded_us;
    r.forwarded_us = forwarded_us;
    return r;
}

TEST(ProxyUpstreamAnswers, WhatTheTargetBeganWithIsNotHttpNamedByTheProxysRecord) {
    auto garbage = forwarded(3, 100);
    garbage.sent_us = 110;
    garbage.first_byte_us = 150;
    garbage.done_us = 160;
    garbage.upstream_failure = "bad_response";
    garbage.not_http = std::string("\x00hi", 3);
    garbage.source = ResponseSource::proxy_502;
    const auto seen = upstream_answers({garbage});
    EXPECT_EQ(seen.first_http_us, -1) << "the proxy's own 502 is no HTTP of the target's";
    EXPECT_EQ(seen.not_http, 1u);
    EXPECT_EQ(seen.first_not_http_request, 3u);
    EXPECT_EQ(seen.first_not_http_us, 150) << "answered when its bytes came";
    EXPECT_EQ(seen.first_not_http_workload, AnswersSeen::unknown_workload);
    EXPECT_EQ(seen.first_sent_us, 110);
    const auto said = not_http_verdict(seen, 1'000, 5, {"get"});
    EXPECT_NE(said.find("the first (a request, sent at 0.000s, answered at 0.000s) began \"\\x00hi\""), std::string::npos) << said;
    EXPECT_NE(seen_through_proxy(said).find(". Seen through lastcall's proxy (proxy:)"), std::string::npos);
    EXPECT_EQ(seen_through_proxy(""), "") << "no verdict, nothing to add";
}

TEST(ProxyUpstreamAnswers, ARelayedResponseSpokeHttpAndAConnectThatNeverOpenedTookNothing) {
    auto relayed = forwarded(1, 100);
    relayed.sent_us = 120;
    relayed.first_byte_us = 200;
    relayed.done_us = 250;
    relayed.upstream_status = 200;
    relayed.source = ResponseSource::upstream;
    auto hung = forwarded(2, 300);
    hung.done_us = 1'300'000;
    hung.upstream_failure = "connect_timeout";
    hung.source = ResponseSource::proxy_504;
    ProxyRecord removed;  // the proxy's 503 after the removal: never forwarded, says nothing of the target
    removed.id = 4;
    removed.source = ResponseSource::no_endpoint;

    const auto both = upstream_answers({relayed, hung, removed});
    EXPECT_EQ(both.first_http_us, 250);
    EXPECT_EQ(answered_nothing_verdict(both, 1'000'000), "") << "one request got through";

    const auto only_hung = upstream_answers({hung, removed});
    EXPECT_EQ(only_hung.unconnected, 1u);
    EXPECT_EQ(only_hung.first_unconnected_us, 300) << "begun when the proxy forwarded it";
    EXPECT_EQ(only_hung.first_unconnected_failure, Failure::upstream_connect_timeout);
    const auto said = answered_nothing_verdict(only_hung, 1'000'000);
    EXPECT_NE(said.find("ended upstream_connect_timeout at 1.300s"), std::string::npos) << said;
}

} // namespace
} // namespace lastcall::harness::proxy

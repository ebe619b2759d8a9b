// How a response lastcall's proxy made itself is read back on the client side: the header words
// both ends share (upstream_failure.hpp), the classifier, and the response reader's pick of the
// marks. The wire-level counterpart is integration/reverse_proxy_test.cpp.
#include "proxy/proxy_record.hpp"
#include "proxy/upstream_failure.hpp"
#include "response_reader.hpp"

#include <gtest/gtest.h>

namespace lastcall::harness::proxy {
namespace {

TEST(ProxyClassification, EveryUpstreamFailureBeforeAResponseIsADroppedRequest) {
    const std::pair<UpstreamFailure, Failure> table[] = {
        {UpstreamFailure::refused, Failure::upstream_refused},
        {UpstreamFailure::connect_timeout, Failure::upstream_connect_timeout},
        {UpstreamFailure::connect_error, Failure::upstream_connect_error},
        {UpstreamFailure::reset, Failure::upstream_reset},
        {UpstreamFailure::eof_before_response, Failure::upstream_eof},
        {UpstreamFailure::timeout, Failure::upstream_timeout},
        {UpstreamFailure::bad_response, Failure::upstream_bad_response},
    };
    for (const auto& [upstream, client] : table) {
        SCOPED_TRACE(std::string(to_string(upstream)));
        const auto read = client_failure(proxy_status(upstream), to_string(upstream));
        ASSERT_TRUE(read.has_value());
        EXPECT_EQ(*read, client);
        Observation seen;
        seen.complete = true;
        seen.status = proxy_status(upstream);
        seen.failure = *read;
        EXPECT_EQ(classify(seen), Outcome::dropped);
        seen.target_killed_meanwhile = true;  // the scenario's own SIGKILL cut it: nobody can say
        EXPECT_EQ(classify(seen), Outcome::unknown);
    }
    EXPECT_EQ(proxy_status(UpstreamFailure::connect_timeout), 504);
    EXPECT_EQ(proxy_status(UpstreamFailure::timeout), 504);
    EXPECT_EQ(proxy_status(UpstreamFailure::refused), 502);
}

TEST(ProxyClassification, OnlyTheProxysOwnWordsOnItsOwnStatusesCount) {
    EXPECT_EQ(client_failure(503, no_endpoint), std::nullopt);  // a clean rejection stays `rejected`
    EXPECT_EQ(client_failure(502, no_endpoint), std::nullopt);
    EXPECT_EQ(client_failure(502, "connect refused"), std::nullopt);  // not a word of ours
    EXPECT_EQ(client_failure(502, ""), std::nullopt);               // a target's own 502 stays an `error`
    EXPECT_EQ(client_failure(200, "refused"), std::nullopt);
    EXPECT_EQ(client_failure(504, "refused"), std::nullopt);  // refused is a 502: a 504 saying it is not ours
    EXPECT_EQ(client_failure(502, "timeout"), std::nullopt);
}

TEST(ProxyClassification, TheReaderPicksTheMarksInAnyLetterCase) {
    ResponseReader reader;
    reader.begin(false, nullptr);
    const std::string response =
        "HTTP/1.1 502 Bad Gateway\r\nx-lastcall-proxy: refused\r\nX-LASTCALL-PROXY-RECORD: 42\r\nContent-Length: 2\r\n\r\nno";
    EXPECT_EQ(reader.feed(response), response.size());
    ASSERT_TRUE(reader.done());
    EXPECT_EQ(reader.head().proxy_failure, "refused");
    EXPECT_EQ(reader.head().proxy_record, 42u);

    reader.begin(false, nullptr);  // the marks of one response do not leak into the next
    const std::string plain = "HTTP/1.1 502 Bad Gateway\r\nX-Lastcall-Proxy-Record: 9x\r\nContent-Length: 0\r\n\r\n";
    EXPECT_EQ(reader.feed(plain), plain.size());
    EXPECT_EQ(reader.head().proxy_failure, "");
    EXPECT_EQ(reader.head().proxy_record, 0u);  // not a number: no record
}

TEST(ProxyRecords, SummaryAndEvidenceSayWhatHappenedUpstream) {
    ProxyRecord relayed;
    relayed.id = 1;
    relayed.forwarded_us = 100;
    relayed.source = ResponseSource::upstream;
    relayed.upstream_status = 200;
    ProxyRecord refused;
    refused.id = 2;
    refused.received_us = 1'204'000;
    refused.forwarded_us = 1'204'100;
    refused.upstream_connection = 3;
    refused.upstream_reuse = 12;
    refused.upstream_failure = "eof_before_response";
    refused.source = ResponseSource::proxy_502;
    ProxyRecord removed;
    removed.id = 3;
    removed.source = ResponseSource::no_endpoint;
    const auto summary = summarize({relayed, refused, removed});
    EXPECT_EQ(summary.requests, 3u);
    EXPECT_EQ(summary.forwarded, 2u);
    EXPECT_EQ(summary.relayed, 1u);
    EXPECT_EQ(summary.bad_gateway, 1u);
    EXPECT_EQ(summary.no_endpoint, 1u);
    EXPECT_EQ(describe(refused),
              "proxy record 2: received 1.204s, forwarded 1.204s on pooled upstream conn 3 (reuse 12): eof_before_response -> 502");
    EXPECT_NE(to_json_line(refused).find(R"("source":"proxy_502")"), std::string::npos);
}

} // namespace
} // namespace lastcall::harness::proxy

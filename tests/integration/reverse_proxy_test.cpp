// lastcall's proxy (harness/proxy/) on real sockets: a scripted target behind it, the load
// generator or a raw client in front. Each way an upstream exchange can end reaches the client as
// the outcome it must have, and proxy.jsonl's record says what happened upstream.
#include "drive_load.hpp"
#include "endpoint.hpp"
#include "proxy/reverse_proxy.hpp"
#include "raw_http.hpp"
#include "scripted_server.hpp"

#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>

namespace lastcall::harness {
namespace {

using namespace std::chrono_literals;
using proxy::ProxyRecord;
using proxy::ReverseProxy;
using testing::RawConnection;
using testing::ScriptedServer;
using testing::ServerConnection;

const HostAddress loopback_address = *HostAddress::from_literal("127.0.0.1");

ProxyConfig quick_config() {
    ProxyConfig c;
    c.connect_timeout = 1s;
    c.response_timeout = 3s;
    return c;
}

// Answers every request of every connection with a 200.
void serve_ok(ServerConnection& c, int) {
    while (c.read_request()) {
        if (!c.send(ok_response)) return;
    }
}

// One request's response through the proxy on a fresh connection.
testing::RawResponse get(std::uint16_t port, const std::string& path) { return testing::http_get(port, path, 5s); }

TEST(ReverseProxy, RelaysResponsesAndKeepsTheUpstreamConnectionForTheNextRequest) {
    ScriptedServer target(serve_ok);
    ReverseProxy proxy(loopback_address, target.port(), quick_config(), std::chrono::steady_clock::now());
    const auto history = drive(single_workload("/ok", 3), loopback(proxy.port()));
    proxy.stop();
    ASSERT_EQ(history.size(), 3u);
    for (const auto& r : history) EXPECT_EQ(r.outcome, Outcome::ok) << to_string(r.failure);
    EXPECT_EQ(target.accepted(), 1);  // one pooled upstream connection carried all three
    const auto records = proxy.take_records();
    ASSERT_EQ(records.size(), 3u);
    for (std::uint32_t i = 0; i < 3; ++i) {
        EXPECT_EQ(records[i].upstream_connection, 1u);
        EXPECT_EQ(records[i].upstream_reuse, i);
        EXPECT_EQ(records[i].upstream_status, 200);
        EXPECT_EQ(records[i].source, proxy::ResponseSource::upstream);
    }
}

TEST(ReverseProxy, ARefusedConnectIsAProxy502TheLoadCountsAsDropped) {
    const auto closed_port = pick_free_port(loopback_address);  // nothing listens there
    ASSERT_NE(closed_port, 0);
    ReverseProxy proxy(loopback_address, closed_port, quick_config(), std::chrono::steady_clock::now());
    const auto raw = get(proxy.port(), "/x");
    EXPECT_EQ(raw.status, 502);
    EXPECT_EQ(raw.header("x-lastcall-proxy"), "refused");
    EXPECT_FALSE(raw.header("x-lastcall-proxy-record").empty());
    const auto history = drive(single_workload("/x", 2), loopback(proxy.port()));
    proxy.stop();
    ASSERT_EQ(history.size(), 2u);
    for (const auto& r : history) {
        EXPECT_EQ(r.status, 502);
        EXPECT_EQ(r.outcome, Outcome::dropped);
        EXPECT_EQ(r.failure, Failure::upstream_refused);
        EXPECT_NE(r.proxy_record, 0u);
    }
    const auto records = proxy.take_records();
    ASSERT_EQ(records.size(), 3u);
    EXPECT_EQ(records.back().upstream_failure, "refused");
    EXPECT_EQ(records.back().source, proxy::ResponseSource::proxy_502);
    EXPECT_EQ(records.back().id, history.back().proxy_record);
}

TEST(ReverseProxy, AMalformedUpstreamResponseIsA502AndTheProxyGoesOn) {
    ScriptedServer target([](ServerConnection& c, int index) {
        if (!c.read_request()) return;
        if (index == 0) {
            c.send("HTTP/1.1 2OO OK\r\nContent-Length: 0\r\n\r\n");  // not a status line
            return;
        }
        c.send(ok_response);
        serve_ok(c, index);
    });
    ReverseProxy proxy(loopback_address, target.port(), quick_config(), std::chrono::steady_clock::now());
    auto client = RawConnection::open(proxy.port());
    ASSERT_TRUE(client);
    ASSERT_TRUE(client->send_get("/a"));
    const auto bad = client->read_response(5s);
    EXPECT_EQ(bad.status, 502);
    EXPECT_EQ(bad.header("x-lastcall-proxy"), "bad_response");
    ASSERT_TRUE(client->send_get("/b"));  // the same client connection, a new upstream one
    EXPECT_EQ(client->read_response(5s).status, 200);
    proxy.stop();
    const auto records = proxy.take_records();
    ASSERT_EQ(records.size(), 2u);
    EXPECT_EQ(records[0].upstream_failure, "bad_response");
    EXPECT_EQ(records[0].not_http, "HTTP/1.1 2OO OK\r\nContent-Length:") << "its first 32 bytes, for the not-HTTP verdict";
    EXPECT_GE(records[0].sent_us, records[0].forwarded_us);
    EXPECT_EQ(records[1].not_http, "");
    EXPECT_EQ(records[1].upstream_status, 200);
}

// What a hostile target may send, and what the proxy's client must get: its 502 when nothing was
// relayed yet, a cut connection when part of the response already was. The proxy survives each.
TEST(ReverseProxy, HostileUpstreamResponsesNeverBringTheProxyDown) {
    struct Row {
        std::string path;
        std::string response;
        int status;        // what the client gets; 0: the proxy's 502, or a cut when the head had gone out already
        std::string word;  // X-Lastcall-Proxy, and the record's upstream_failure
    };
    const std::vector<Row> table{
        {"/garbage", "SMTP ready\r\n\r\n", 502, "bad_response"},
        {"/lf-only", "HTTP/1.1 200 OK\nContent-Length: 0\n\n", 502, "bad_response"},
        {"/huge-head", "HTTP/1.1 200 OK\r\nX-Big: " + std::string(70 * 1024, 'a') + "\r\n\r\n", 502, "bad_response"},
        {"/two-lengths", "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nok", 502, "bad_response"},
        {"/negative", "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", 502, "bad_response"},
        {"/switch", "HTTP/1.1 101 Switching Protocols\r\nUpgrade: x\r\n\r\n", 502, "bad_response"},
        {"/bad-chunk", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\nzz\r\n", 0, "bad_response"},
        {"/empty", "", 502, "eof_before_response"},
    };
    ScriptedServer target([&](ServerConnection& c, int) {
        const auto request = c.read_request();
        if (!request) return;
        const auto path = ServerConnection::path_of(*request);
        for (const auto& row : table) {
            if (row.path == path) c.send(row.response);
        }
    });
    ReverseProxy proxy(loopback_address, target.port(), quick_config(), std::chrono::steady_clock::now());
    for (const auto& row : table) {
        SCOPED_TRACE(row.path);
        const auto got = get(proxy.port(), row.path);
        if (row.status == 0) {
            EXPECT_TRUE(got.status == 502 || (got.status == 200 && !got.complete)) << got.status;
        } else {
            EXPECT_EQ(got.status, row.status);
            EXPECT_EQ(got.header("x-lastcall-proxy"), row.word);
        }
    }
    EXPECT_EQ(get(proxy.port(), "/garbage").status, 502);  // still serving
    proxy.stop();
    EXPECT_TRUE(proxy.errors().empty());
    const auto records = proxy.take_records();
    ASSERT_EQ(records.size(), table.size() + 1);
    for (std::size_t i = 0; i < table.size(); ++i) EXPECT_EQ(records[i].upstream_failure, table[i].word) << table[i].path;
}

TEST(ReverseProxy, AResponseCutMidwayResetsTheClientAndTheLoadCountsItDropped) {
    ScriptedServer target([](ServerConnection& c, int) {
        if (!c.read_request()) return;
        c.send("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\npartial");
    });
    ReverseProxy proxy(loopback_address, target.port(), quick_config(), std::chrono::steady_clock::now());
    const auto history = drive(single_workload("/cut", 1), loopback(proxy.port()));
    proxy.stop();
    ASSERT_EQ(history.size(), 1u);
    EXPECT_EQ(history[0].outcome, Outcome::dropped);
    EXPECT_TRUE(history[0].failure == Failure::reset || history[0].failure == Failure::eof_mid_response) << to_string(history[0].failure);
    const auto records = proxy.take_records();
    ASSERT_EQ(records.size(), 1u);
    EXPECT_EQ(records[0].upstream_failure, "eof_mid_response");
    EXPECT_EQ(records[0].bytes, std::string("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\npartial").size());
}

TEST(ReverseProxy, AfterTheRemovalIdleConnectionsCloseAndClientsGet503UntilTheEndpointIsBack) {
    std::atomic<bool> pooled_closed{false};
    ScriptedServer target([&](ServerConnection& c, int index) {
        if (!c.read_request()) return;
        c.send(ok_response);
        if (index == 0) pooled_closed = c.wait_for_close(5s);  // the proxy closes its idle connection at the removal
        else serve_ok(c, index);
    });
    ReverseProxy proxy(loopback_address, target.port(), quick_config(), std::chrono::steady_clock::now());
    EXPECT_EQ(get(proxy.port(), "/before").status, 200);
    proxy.remove_endpoint_at(std::chrono::steady_clock::now());
    EXPECT_TRUE(wait_until([&] { return pooled_closed.load(); }));
    const auto removed = get(proxy.port(), "/after");
    EXPECT_EQ(removed.status, 503);
    EXPECT_EQ(removed.header("retry-after"), "1");
    EXPECT_EQ(removed.header("x-lastcall-proxy"), "no_endpoint");
    const auto history = drive(single_workload("/after", 1), loopback(proxy.port()));
    ASSERT_EQ(history.size(), 1u);
    EXPECT_EQ(history[0].outcome, Outcome::rejected);  // a clean rejection, not a drop
    proxy.endpoint_up();
    EXPECT_EQ(get(proxy.port(), "/back").status, 200);
    proxy.stop();
    const auto records = proxy.take_records();
    ASSERT_EQ(records.size(), 4u);
    EXPECT_EQ(records[1].source, proxy::ResponseSource::no_endpoint);
    EXPECT_EQ(records[1].upstream_connection, 0u);
}

TEST(ReverseProxy, StreamsAreRelayedAsTheyArriveNotWhenTheyEnd) {
    std::atomic<bool> first_seen{false};
    ScriptedServer target([&](ServerConnection& c, int) {
        if (!c.read_request()) return;
        c.send("HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n" +
               ServerConnection::chunk("data: one\n\n"));
        // The rest only once the client has the first event: a proxy that buffers never gets here.
        for (int i = 0; i < 500 && !first_seen; ++i) std::this_thread::sleep_for(10ms);
        c.send(ServerConnection::chunk("data: two\n\n") + "0\r\n\r\n");
    });
    ReverseProxy proxy(loopback_address, target.port(), quick_config(), std::chrono::steady_clock::now());
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in to{};
    to.sin_family = AF_INET;
    to.sin_port = htons(proxy.port());
    to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&to), sizeof to), 0);
    const std::string request = RawConnection::request("GET", "/stream");
    ASSERT_EQ(::send(fd, request.data(), request.size(), MSG_NOSIGNAL), static_cast<ssize_t>(request.size()));
    std::string got;
    const auto read_until = [&](std::string_view text) {
        const auto deadline = std::chrono::steady_clock::now() + 5s;
        while (got.find(text) == std::string::npos && std::chrono::steady_clock::now() < deadline) {
            pollfd p{fd, POLLIN, 0};
            if (::poll(&p, 1, 100) != 1) continue;
            char buffer[4096];
            const auto n = ::recv(fd, buffer, sizeof buffer, 0);
            if (n <= 0) break;
            got.append(buffer, static_cast<std::size_t>(n));
        }
        return got.find(text) != std::string::npos;
    };
    EXPECT_TRUE(read_until("data: one"));
    EXPECT_EQ(got.find("data: two"), std::string::npos);
    first_seen = true;
    EXPECT_TRUE(read_until("0\r\n\r\n"));
    ::close(fd);
    proxy.stop();
}

// The target closes a pooled connection just as the proxy's next request reaches it.
void close_under_second_request(ServerConnection& c, int index) {
    if (!c.read_request()) return;
    c.send(ok_response);
    if (index == 0) {
        c.read_request();  // taken, never answered: the request crossed the close
        return;
    }
    serve_ok(c, index);
}

TEST(ReverseProxy, ARequestThatCrossedAnUpstreamCloseIsRetriedOnlyWhenAskedTo) {
    for (const auto retry : {ProxyConfig::Retry::none, ProxyConfig::Retry::idempotent}) {
        SCOPED_TRACE(retry == ProxyConfig::Retry::none ? "retry: none" : "retry: idempotent");
        ScriptedServer target(close_under_second_request);
        auto config = quick_config();
        config.retry = retry;
        ReverseProxy proxy(loopback_address, target.port(), config, std::chrono::steady_clock::now());
        EXPECT_EQ(get(proxy.port(), "/1").status, 200);
        const auto second = get(proxy.port(), "/2");
        proxy.stop();
        const auto records = proxy.take_records();
        ASSERT_EQ(records.size(), 2u);
        if (retry == ProxyConfig::Retry::none) {
            EXPECT_EQ(second.status, 502);
            EXPECT_EQ(second.header("x-lastcall-proxy"), "eof_before_response");
            EXPECT_EQ(records[1].upstream_reuse, 1u);
        } else {
            EXPECT_EQ(second.status, 200);
            EXPECT_TRUE(records[1].retried);
            EXPECT_EQ(records[1].upstream_connection, 2u);  // a new connection carried it
        }
    }
}

} // namespace
} // namespace lastcall::harness

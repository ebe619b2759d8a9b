// Issue 7 item 14: `host: localhost` aborted lastcall (an uncaught system_error from the load
// generator) and `::1` never became ready (the probe spoke IPv4 only). Both loopbacks, by name and
// by literal, for the load generator and the probe, with the Host header a server expects.
#include "drive_load.hpp"
#include "endpoint.hpp"
#include "probe_client.hpp"
#include "scripted_server.hpp"

#include <gtest/gtest.h>

#include <mutex>

namespace lastcall::harness {
namespace {

using namespace std::chrono_literals;
using testing::ScriptedServer;
using testing::ServerConnection;

// Answers every request with 200 and remembers the Host header it came with.
class HostRecorder {
public:
    explicit HostRecorder(ScriptedServer::Family family)
        : server_([this](ServerConnection& c, int) {
              while (const auto request = c.read_request(5s)) {
                  {
                      std::lock_guard lock(mutex_);
                      host_ = ServerConnection::header_of(*request, "host");
                  }
                  c.send("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
              }
          }, family) {}
    bool listening() const { return server_.listening(); }
    std::uint16_t port() const { return server_.port(); }
    std::string host() const {
        std::lock_guard lock(mutex_);
        return host_;
    }

private:
    mutable std::mutex mutex_;
    std::string host_;
    ScriptedServer server_;
};

// The load generator and the probe both reach `server` through `host`, and say `authority`.
void expect_both_reach(const HostRecorder& server, const std::string& host, const std::string& authority) {
    const auto h = drive(single_workload("/", 1), loopback(server.port(), host));
    ASSERT_EQ(h.size(), 1u);
    EXPECT_EQ(h[0].outcome, Outcome::ok);
    EXPECT_EQ(server.host(), authority + ":" + std::to_string(server.port()));
    ProbeClient probe(host, server.port());
    EXPECT_EQ(probe.get("/ready", 1s), 200);
    EXPECT_EQ(server.host(), authority + ":" + std::to_string(server.port()));
    EXPECT_TRUE(probe.connect_only(1s));
}

TEST(LoopbackFamilies, LocalhostByNameForTheLoadGeneratorAndTheProbe) {
    HostRecorder server(ScriptedServer::Family::ipv4);
    expect_both_reach(server, "localhost", "localhost");
}

TEST(LoopbackFamilies, Ipv6LoopbackForTheLoadGeneratorAndTheProbe) {
    HostRecorder server(ScriptedServer::Family::ipv6);
    if (!server.listening()) GTEST_SKIP() << "::1 is not available on this machine";
    expect_both_reach(server, "::1", "[::1]");
}

TEST(LoopbackFamilies, FreePortAndPortReleasedOnBothFamilies) {
    for (const char* host : {"127.0.0.1", "::1"}) {
        const auto address = HostAddress::from_literal(host);
        ASSERT_TRUE(address);
        const auto port = pick_free_port(*address);
        if (port == 0 && address->family() == AddressFamily::ipv6) GTEST_SKIP() << "::1 is not available on this machine";
        ASSERT_NE(port, 0) << host;
        EXPECT_TRUE(port_bindable(*address, port)) << host;
        HostRecorder server(address->family() == AddressFamily::ipv4 ? ScriptedServer::Family::ipv4 : ScriptedServer::Family::ipv6);
        EXPECT_FALSE(port_bindable(*address, server.port())) << host << ": a listener holds it";
    }
}

TEST(LoopbackFamilies, AHostThatDoesNotResolveIsAnErrorNotACrash) {
    const auto resolved = resolve_host("no-such-host.invalid");  // RFC 6761: never resolves
    EXPECT_FALSE(resolved.address);
    EXPECT_NE(resolved.error.find("no-such-host.invalid"), std::string::npos);
    ProbeClient probe("no-such-host.invalid", 80);
    const auto r = probe.request("/", 100ms);
    EXPECT_EQ(r.error, ProbeError::unresolved);
    EXPECT_FALSE(probe.connect_only(100ms));
    EXPECT_THROW(LoadGenerator({single_workload("/", 1)}, loopback(80, "no-such-host.invalid")), std::invalid_argument);
}

} // namespace
} // namespace lastcall::harness

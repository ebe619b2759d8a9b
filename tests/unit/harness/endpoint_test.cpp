// Addresses as the harness resolves them: loopback decided from the bytes, not a string prefix
// (issue 7 item 14), literals canonical, IPv6 bracketed where a Host header needs it.
#include "endpoint.hpp"

#include <gtest/gtest.h>

namespace lastcall::harness {
namespace {

HostAddress literal(const char* text) {
    auto a = HostAddress::from_literal(text);
    EXPECT_TRUE(a) << text;
    return a.value_or(*HostAddress::from_literal("0.0.0.0"));
}

TEST(Endpoint, LoopbackIsDecidedFromTheAddress) {
    for (const char* text : {"127.0.0.1", "127.5.6.7", "127.255.255.254", "::1", "::ffff:127.0.0.1", "0:0:0:0:0:0:0:1"}) {
        EXPECT_TRUE(literal(text).is_loopback()) << text;
    }
    for (const char* text : {"10.1.2.3", "128.0.0.1", "0.0.0.0", "::", "::2", "::ffff:10.0.0.1", "fe80::1", "1.127.0.0"}) {
        EXPECT_FALSE(literal(text).is_loopback()) << text;
    }
}

TEST(Endpoint, LiteralsAreCanonicalAndIpv6IsBracketedInAuthorities) {
    const auto v6 = literal("[0:0:0:0:0:0:0:1]");
    EXPECT_EQ(v6.family(), AddressFamily::ipv6);
    EXPECT_EQ(v6.literal(), "::1");
    EXPECT_EQ(v6.authority(8080), "[::1]:8080");
    EXPECT_EQ(v6.describe(), "[::1]");
    const auto v4 = literal("127.0.0.1");
    EXPECT_EQ(v4.family(), AddressFamily::ipv4);
    EXPECT_EQ(v4.authority(80), "127.0.0.1:80");
}

TEST(Endpoint, NamesAndGarbageAreNotLiterals) {
    for (const char* text : {"localhost", "127.0.0.1.nip.io", "", "[::1", "1.2.3", "::1]", "127.0.0.1:80", "256.1.1.1"}) {
        EXPECT_FALSE(HostAddress::from_literal(text)) << text;
    }
}

TEST(Endpoint, LocalhostResolvesToALoopbackAddressAndKeepsItsName) {
    const auto resolved = resolve_host("localhost");
    ASSERT_TRUE(resolved.address) << resolved.error;
    EXPECT_TRUE(resolved.address->is_loopback());
    EXPECT_EQ(resolved.address->name(), "localhost");
    EXPECT_EQ(resolved.address->authority(8080), "localhost:8080");
    EXPECT_NE(resolved.address->describe().find("localhost ("), std::string::npos);
}

TEST(Endpoint, ResolvingNeverThrows) {
    EXPECT_FALSE(resolve_host("").address);
    const auto numeric = resolve_host("::1");
    ASSERT_TRUE(numeric.address);
    EXPECT_EQ(numeric.address->name(), "::1");
}

} // namespace
} // namespace lastcall::harness

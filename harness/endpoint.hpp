#pragma once
// Where the target listens, resolved once at start into a typed address that every part of the
// harness (load generator, probes, port checks) uses unchanged. No Boost here: the integrator and
// the tests include this from anywhere.
//
//   auto resolved = resolve_host(scenario.target.host);        // never throws
//   if (!resolved.address) -> exit 2/3 with resolved.error;
//   resolved.address->is_loopback()                            // decided from the bytes, not the name
//   pick_free_port(*resolved.address)                          // 0: none could be bound
//   port_bindable(*resolved.address, port)                     // the port_released check
//   LoadOptions{.address = *resolved.address, .port = port ...}; ProbeClient(*resolved.address, port)
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

struct sockaddr_storage;

namespace lastcall::harness {

enum class AddressFamily : std::uint8_t { ipv4, ipv6 };

class HostAddress {
public:
    // From a numeric literal only ("127.0.0.1", "::1", "[::1]"); nullopt for anything else.
    static std::optional<HostAddress> from_literal(std::string_view text);

    AddressFamily family() const { return family_; }
    // The numeric address, without brackets: "127.0.0.1", "::1". What connect() and bind() use.
    const std::string& literal() const { return literal_; }
    // The host as the scenario wrote it ("localhost"), or the literal when it was one.
    const std::string& name() const { return name_; }
    // 127.0.0.0/8, ::1, and IPv4-mapped ::ffff:127.0.0.0/104.
    bool is_loopback() const;
    // "host:port" for a Host header or a URL: the name as written (virtual hosts key on it, as
    // curl and Go send it), IPv6 literals in brackets ("[::1]:8080", RFC 9110 section 7.2).
    std::string authority(std::uint16_t port) const;
    // For display: the literal, bracketed when IPv6, with the name when it differs:
    // "localhost (127.0.0.1)".
    std::string describe() const;
    // Fills a sockaddr_in or sockaddr_in6; returns its length.
    unsigned to_sockaddr(std::uint16_t port, sockaddr_storage& out) const;
    int socket_family() const;  // AF_INET or AF_INET6
    // The same address under the name it was resolved from (what authority() sends).
    HostAddress named(std::string name) const;

private:
    AddressFamily family_ = AddressFamily::ipv4;
    std::array<std::uint8_t, 16> bytes_{};  // network order; 4 used for IPv4
    std::string literal_;
    std::string name_;
};

struct ResolvedHost {
    std::optional<HostAddress> address;
    std::string error;  // when there is no address: why, in words
};

// A numeric literal as is; any other name through getaddrinfo (so /etc/hosts and DNS), taking the
// first IPv4 address when there is one (what servers told "localhost" bind by default), else the
// first IPv6. Never throws. A name that needs DNS may block for the resolver's own timeout: call
// it once, at start, never on a request path.
ResolvedHost resolve_host(std::string_view host);

// A port nothing listens on at this moment (bind port 0, read it back, close); 0 when even that
// fails (the address is not local). Another process may take it before the target does.
std::uint16_t pick_free_port(const HostAddress& address);

// Whether a listener could bind `port` on this address now. SO_REUSEADDR, as servers set it, so
// connections in TIME_WAIT (lastcall's own, closed last) do not count as holding the port.
bool port_bindable(const HostAddress& address, std::uint16_t port);

} // namespace lastcall::harness

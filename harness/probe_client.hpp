#pragma once
// A small blocking HTTP/1.1 client for readiness probes and read-back after a restart: its own
// connection, a deadline on every call, nothing shared with the load generator.
#include <chrono>
#include <cstdint>
#include <string>

namespace lastcall::harness {

// One GET over a fresh or kept connection; the status, or -1 when nothing answered in time.
class ProbeClient {
public:
    ProbeClient(std::string host, std::uint16_t port) : host_(std::move(host)), port_(port) {}
    ~ProbeClient() { disconnect(); }
    // `body`, when given, receives the response body.
    int get(const std::string& path, std::chrono::milliseconds timeout, std::string* body = nullptr);
    bool connect_only(std::chrono::milliseconds timeout);  // a TCP connect succeeds

private:
    bool connect(std::chrono::milliseconds timeout);
    void disconnect();
    std::string host_;
    std::uint16_t port_;
    int fd_ = -1;
};

} // namespace lastcall::harness

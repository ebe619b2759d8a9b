// The load generator against a small server that misbehaves on purpose, one way per path. Every
// misbehaviour must land in its outcome class, from what actually crossed the wire.
#include "load_generator.hpp"

#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <atomic>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>

namespace lastcall::harness {
namespace {

using namespace std::chrono_literals;

class MisbehavingServer {
public:
    MisbehavingServer() {
        listener_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sockaddr_in address{};
        address.sin_family = AF_INET;
        address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        ::bind(listener_, reinterpret_cast<sockaddr*>(&address), sizeof address);
        ::listen(listener_, 64);
        socklen_t length = sizeof address;
        ::getsockname(listener_, reinterpret_cast<sockaddr*>(&address), &length);
        port_ = ntohs(address.sin_port);
        acceptor_ = std::thread([this] { accept_loop(); });
    }
    ~MisbehavingServer() {
        stopping_ = true;
        acceptor_.join();
        for (auto& t : connections_) t.join();
        ::close(listener_);
    }
    std::uint16_t port() const { return port_; }

private:
    void accept_loop() {
        while (!stopping_) {
            pollfd p{listener_, POLLIN, 0};
            if (::poll(&p, 1, 20) != 1) continue;
            const int fd = ::accept4(listener_, nullptr, nullptr, SOCK_CLOEXEC);
            if (fd >= 0) connections_.emplace_back([this, fd] { serve(fd); });
        }
    }
    static bool read_request(int fd, std::string& path) {
        std::string data;
        char buffer[1024];
        while (data.find("\r\n\r\n") == std::string::npos) {
            pollfd p{fd, POLLIN, 0};
            if (::poll(&p, 1, 2000) != 1) return false;
            const auto n = ::recv(fd, buffer, sizeof buffer, 0);
            if (n <= 0) return false;
            data.append(buffer, static_cast<std::size_t>(n));
        }
        path = data.substr(data.find(' ') + 1, data.find(' ', data.find(' ') + 1) - data.find(' ') - 1);
        return true;
    }
    static void send_all(int fd, const std::string& text) { ::send(fd, text.data(), text.size(), MSG_NOSIGNAL); }
    static std::string chunk(const std::string& text) {
        char size[16];
        std::snprintf(size, sizeof size, "%zx\r\n", text.size());
        return size + text + "\r\n";
    }
    static void reset(int fd) {
        linger hard{1, 0};
        ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &hard, sizeof hard);
        ::close(fd);
    }

    void serve(int fd) {
        const std::string ok = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
        const std::string partial = "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\npartial";
        const std::string sse = "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n";
        std::string path;
        for (int request = 1; read_request(fd, path); ++request) {
            if (path == "/ok") {
                send_all(fd, ok);
                continue;
            }
            if (path == "/reset-mid") {
                send_all(fd, partial);
                return reset(fd);
            }
            if (path == "/truncate") {
                send_all(fd, partial);
                break;
            }
            if (path == "/stream-cut") {
                send_all(fd, sse + chunk("event: tick\ndata: 1\n\n"));
                break;
            }
            if (path == "/stream-ended") {
                send_all(fd, sse + chunk("event: tick\ndata: 1\n\n") + chunk("event: end\ndata: {\"reason\":\"shutdown\"}\n\n") + "0\r\n\r\n");
                continue;
            }
            if (path == "/503-retry" || path == "/503-bare") {
                send_all(fd, std::string("HTTP/1.1 503 Service Unavailable\r\n") + (path == "/503-retry" ? "Retry-After: 1\r\n" : "") +
                                 "Connection: close\r\nContent-Length: 0\r\n\r\n");
                break;
            }
            if (path == "/500") {
                send_all(fd, "HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\n\r\n");
                continue;
            }
            if (path == "/race" || path == "/hold") {
                if (request == 1) {
                    send_all(fd, ok);  // keep-alive, no Connection: close
                    if (path == "/race") {
                        // Close the moment the next request arrives, without reading it: the
                        // client's request crossed our close.
                        pollfd p{fd, POLLIN, 0};
                        ::poll(&p, 1, 2000);
                        return reset(fd);
                    }
                    continue;
                }
                std::this_thread::sleep_for(60ms);  // /hold: took the request, then dropped it
                break;
            }
            break;
        }
        ::close(fd);
    }

    int listener_ = -1;
    std::uint16_t port_ = 0;
    std::atomic<bool> stopping_{false};
    std::thread acceptor_;
    std::vector<std::thread> connections_;
};

std::vector<RequestRecord> drive(std::uint16_t port, const std::string& path, std::uint64_t requests,
                                 WorkloadKind kind = WorkloadKind::request, ClientRetry retry = ClientRetry::none) {
    Workload w;
    w.name = "probe";
    w.kind = kind;
    w.request.path = path;
    w.max_requests = requests;
    w.timeout = 2s;
    w.client_retry = retry;
    LoadGenerator load({w}, LoadOptions{"127.0.0.1", port, 1, std::chrono::steady_clock::now()});
    load.start();
    for (int i = 0; i < 500 && !load.all_workloads_done(); ++i) std::this_thread::sleep_for(5ms);
    load.finish(1s);
    return load.take_history();
}

class OutcomeClassification : public ::testing::Test {
protected:
    MisbehavingServer server_;
};

TEST_F(OutcomeClassification, CompleteResponseIsOk) {
    const auto h = drive(server_.port(), "/ok", 3);
    ASSERT_EQ(h.size(), 3u);
    for (const auto& r : h) EXPECT_EQ(r.outcome, Outcome::ok);
    EXPECT_EQ(h[2].reuse_index, 2u);  // keep-alive: one connection
}

TEST_F(OutcomeClassification, ResetMidResponseIsDropped) {
    const auto h = drive(server_.port(), "/reset-mid", 1);
    ASSERT_EQ(h.size(), 1u);
    EXPECT_EQ(h[0].outcome, Outcome::dropped);
    EXPECT_EQ(h[0].status, 200);
}

TEST_F(OutcomeClassification, TruncatedBodyIsDropped) {
    const auto h = drive(server_.port(), "/truncate", 1);
    ASSERT_EQ(h.size(), 1u);
    EXPECT_EQ(h[0].outcome, Outcome::dropped);
    EXPECT_EQ(h[0].failure, Failure::eof_mid_response);
}

TEST_F(OutcomeClassification, TruncatedStreamIsDroppedAndACleanShutdownEndIsNot) {
    const auto cut = drive(server_.port(), "/stream-cut", 1, WorkloadKind::stream);
    ASSERT_EQ(cut.size(), 1u);
    EXPECT_EQ(cut[0].outcome, Outcome::dropped);
    EXPECT_EQ(cut[0].failure, Failure::truncated_stream);
    const auto ended = drive(server_.port(), "/stream-ended", 1, WorkloadKind::stream);
    ASSERT_EQ(ended.size(), 1u);
    EXPECT_EQ(ended[0].outcome, Outcome::ended_by_shutdown);
    EXPECT_EQ(ended[0].events, 2u);
}

TEST_F(OutcomeClassification, Status503IsRejectedWithAndWithoutRetryAfter) {
    const auto with = drive(server_.port(), "/503-retry", 1);
    const auto without = drive(server_.port(), "/503-bare", 1);
    ASSERT_EQ(with.size(), 1u);
    ASSERT_EQ(without.size(), 1u);
    EXPECT_EQ(with[0].outcome, Outcome::rejected);
    EXPECT_EQ(with[0].retry_after_s, 1);
    EXPECT_TRUE(with[0].connection_close);
    EXPECT_EQ(without[0].outcome, Outcome::rejected);
    EXPECT_EQ(without[0].retry_after_s, -1);
}

TEST_F(OutcomeClassification, UnexpectedStatusIsError) {
    const auto h = drive(server_.port(), "/500", 1);
    ASSERT_EQ(h.size(), 1u);
    EXPECT_EQ(h[0].outcome, Outcome::error);
}

TEST_F(OutcomeClassification, ReusedConnectionClosedUnderTheNextRequestIsIdleCloseRace) {
    const auto h = drive(server_.port(), "/race", 2);
    ASSERT_EQ(h.size(), 2u);
    EXPECT_EQ(h[0].outcome, Outcome::ok);
    EXPECT_FALSE(h[0].connection_close);
    EXPECT_TRUE(h[0].closed_after);
    EXPECT_EQ(h[1].outcome, Outcome::idle_close_race);
    EXPECT_EQ(h[1].reuse_index, 1u);
}

TEST_F(OutcomeClassification, IdempotentRetryIsRecordedAsARetry) {
    const auto h = drive(server_.port(), "/race", 2, WorkloadKind::request, ClientRetry::idempotent);
    ASSERT_EQ(h.size(), 3u);
    EXPECT_EQ(h[1].outcome, Outcome::idle_close_race);
    EXPECT_TRUE(h[1].retried);
    EXPECT_EQ(h[2].retry_of, h[1].id);
    EXPECT_EQ(h[2].outcome, Outcome::ok);
    EXPECT_EQ(h[2].reuse_index, 0u);  // on a fresh connection
}

TEST_F(OutcomeClassification, RequestHeldThenDroppedIsNotARace) {
    const auto h = drive(server_.port(), "/hold", 2);
    ASSERT_EQ(h.size(), 2u);
    EXPECT_EQ(h[1].outcome, Outcome::dropped);
}

TEST(OutcomeClassificationRefused, RefusedConnectionIsRejected) {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address);
    socklen_t length = sizeof address;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
    ::close(fd);  // bound, never listened: connects are refused
    const auto h = drive(ntohs(address.sin_port), "/ok", 1);
    ASSERT_EQ(h.size(), 1u);
    EXPECT_EQ(h[0].outcome, Outcome::rejected);
    EXPECT_EQ(h[0].failure, Failure::connect_refused);
}

} // namespace
} // namespace lastcall::harness

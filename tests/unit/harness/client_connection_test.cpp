// A load connection out of Asio's reactor, on real loopback sockets: once in the thread's readiness
// set it is in no other epoll set (each arriving packet would run a second epoll callback), a
// request its send buffer cannot take whole is still written whole (Asio takes the socket back for
// the rest), and its idle watch, now in the thread's set, still notices the server's close.
#include "client_connection.hpp"
#include "readiness_poller.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <thread>

#include <sys/socket.h>
#include <unistd.h>

namespace {

using namespace lastcall::harness;
namespace net = boost::asio;
using tcp = net::ip::tcp;

// How many of this process's epoll sets watch descriptor `fd` (their /proc fdinfo lists it as a tfd).
int epoll_sets_watching(int fd) {
    int sets = 0;
    for (const auto& entry : std::filesystem::directory_iterator("/proc/self/fd")) {
        std::error_code ec;
        if (std::filesystem::read_symlink(entry.path(), ec).string() != "anon_inode:[eventpoll]") continue;
        std::ifstream info("/proc/self/fdinfo/" + entry.path().filename().string());
        for (std::string line; std::getline(info, line);) {
            int watched = -1;
            if (std::sscanf(line.c_str(), "tfd: %d", &watched) == 1 && watched == fd) ++sets;
        }
    }
    return sets;
}

// A ClientConnection connected as the load worker connects one: by Asio, non-blocking, in the set.
struct Connected {
    net::io_context io{1};
    ReadinessPoller poller{io};
    ClientConnection c{io};
    tcp::socket server{io};
    Connected() {
        tcp::acceptor acceptor(io, tcp::endpoint(net::ip::make_address("127.0.0.1"), 0));
        c.socket.connect(acceptor.local_endpoint());
        acceptor.accept(server);
        c.socket.non_blocking(true);
        c.open = true;
    }
    template <class Done>
    void run_until(Done done) {  // at most 5 s: a lost wake-up fails the test instead of hanging it
        const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(5);
        while (!done() && std::chrono::steady_clock::now() < give_up) {
            io.restart();
            io.run_for(std::chrono::milliseconds(50));
        }
    }
};

TEST(ClientConnection, OnceInTheThreadsSetItsSocketIsInNoOtherEpollSet) {
    Connected t;
    ASSERT_TRUE(t.poller.add(t.c.socket.native_handle(), t.c.readable));
    const int fd = t.c.fd();
    EXPECT_EQ(epoll_sets_watching(fd), 2) << "Asio's and the thread's";
    ASSERT_TRUE(t.c.leave_asio(tcp::v4()));
    EXPECT_EQ(t.c.fd(), fd);
    EXPECT_EQ(epoll_sets_watching(fd), 1);
    t.c.close();
    EXPECT_EQ(epoll_sets_watching(fd), 0);
}

TEST(ClientConnection, ASocketOutsideTheThreadsSetStaysAsios) {
    Connected t;
    EXPECT_FALSE(t.c.leave_asio(tcp::v4()));
    EXPECT_TRUE(t.c.socket.is_open());
    EXPECT_EQ(epoll_sets_watching(t.c.fd()), 1);
}

TEST(ClientConnection, ARequestItsSendBufferCannotTakeWholeIsWrittenWhole) {
    Connected t;
    ASSERT_TRUE(t.poller.add(t.c.socket.native_handle(), t.c.readable));
    ASSERT_TRUE(t.c.leave_asio(tcp::v4()));
    const std::string request(16 << 20, 'x');  // far more than a loopback socket's buffers hold
    boost::system::error_code ec;
    const auto sent = t.c.send_some(request, ec);
    ASSERT_FALSE(ec) << ec.message();
    ASSERT_LT(sent, request.size());
    std::size_t received = 0;
    std::thread reader([&] {
        std::string buffer(1 << 16, '\0');
        while (received < request.size()) {
            const auto n = ::recv(t.server.native_handle(), buffer.data(), buffer.size(), 0);
            if (n <= 0) break;
            received += static_cast<std::size_t>(n);
        }
    });
    std::optional<boost::system::error_code> written;
    net::async_write(t.c.asio_socket(), net::buffer(request) + sent, [&](const boost::system::error_code& e, std::size_t) { written = e; });
    t.run_until([&] { return written.has_value(); });
    reader.join();
    ASSERT_TRUE(written);
    EXPECT_FALSE(*written) << written->message();
    EXPECT_EQ(received, request.size());
    EXPECT_EQ(epoll_sets_watching(t.c.fd()), 2) << "Asio holds it again, for good";
}

TEST(ClientConnection, AnIdleWatchOutsideAsioNoticesTheServersClose) {
    Connected t;
    ASSERT_TRUE(t.poller.add(t.c.socket.native_handle(), t.c.readable));
    ASSERT_TRUE(t.c.leave_asio(tcp::v4()));
    std::optional<IdleEnd> ended;
    t.c.watch_idle([&](IdleEnd how) { ended = how; });
    t.io.restart();
    t.io.poll();
    EXPECT_FALSE(ended);  // nothing happened yet
    t.server.close();
    t.run_until([&] { return ended.has_value(); });
    ASSERT_TRUE(ended);
    EXPECT_EQ(*ended, IdleEnd::closed);
    EXPECT_FALSE(t.c.open);
}

} // namespace

// --listen-fd: the server serves a listening socket it inherits (systemd socket activation; a
// prefork master's workers) and drains it as one it bound itself.
#include "raw_http.hpp"
#include "reference_server.hpp"

#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <csignal>
#include <fcntl.h>
#include <fstream>
#include <iterator>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

namespace lastcall::testing {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

// An inheritable (no FD_CLOEXEC) TCP socket on 127.0.0.1, listening if `listen` says so.
int loopback_socket(bool listen, unsigned short& port) {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t size = sizeof(address);
    if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&address), size) != 0 || (listen && ::listen(fd, 128) != 0) ||
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &size) != 0) {
        ADD_FAILURE() << "cannot make a loopback socket";
    }
    port = ntohs(address.sin_port);
    return fd;
}

std::string run_refused(const std::vector<std::string>& args, const fs::path& dir) {
    std::vector<std::string> argv{server_binary(), "--state-dir", (dir / "state").string()};
    argv.insert(argv.end(), args.begin(), args.end());
    ChildProcess process(argv, dir / "stderr");
    const auto status = process.wait(10s);
    EXPECT_TRUE(status && status->exited && status->code == 3) << (status ? describe(*status) : "still running");
    std::ifstream in(dir / "stderr");
    return {std::istreambuf_iterator<char>(in), {}};
}

TEST(ServerListenFd, ServesAnInheritedSocketAndDrainsIt) {
    unsigned short port = 0;
    const int fd = loopback_socket(true, port);
    ReferenceServer server(fresh_test_dir() / "state", {"--listen-fd", std::to_string(fd)});
    ::close(fd);  // from here only the server holds it
    EXPECT_EQ(server.port(), port);
    EXPECT_EQ(http_get(port, "/fast").status, 200);
    server.process().signal(SIGTERM);
    const auto status = server.process().wait(10s);
    ASSERT_TRUE(status);
    EXPECT_TRUE(status->clean()) << describe(*status);
    EXPECT_FALSE(RawConnection::open(port)) << "the port is still taken after the server exited";
}

TEST(ServerListenFd, AnythingButAListeningTcpSocketIsRefusedAtStart) {
    const auto dir = fresh_test_dir();
    unsigned short port = 0;
    const int unlistened = loopback_socket(false, port);
    EXPECT_EQ(run_refused({"--listen-fd", std::to_string(unlistened)}, dir),
              "lastcall-server: --listen-fd " + std::to_string(unlistened) + ": not a listening TCP socket\n");
    ::close(unlistened);
    const int file = ::open((dir / "a-file").c_str(), O_WRONLY | O_CREAT, 0644);
    EXPECT_EQ(run_refused({"--listen-fd", std::to_string(file)}, dir),
              "lastcall-server: --listen-fd " + std::to_string(file) + ": not a socket: Socket operation on non-socket\n");
    ::close(file);
}

} // namespace
} // namespace lastcall::testing

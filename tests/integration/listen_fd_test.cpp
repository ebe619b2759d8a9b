// --listen-fd: the server serves a listening socket it inherits (systemd socket activation; a
// prefork master's workers) and drains it as one it bound itself. With --control-fd it is a prefork
// worker, and the test plays its master: the socket and the channel are the test's.
#include "raw_http.hpp"
#include "reference_server.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <arpa/inet.h>
#include <csignal>
#include <fcntl.h>
#include <fstream>
#include <iterator>
#include <memory>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <thread>
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

// The master's side of a worker: the listening socket and the control channel.
struct PlayedMaster {
    PlayedMaster() {
        listener = loopback_socket(true, port);
        EXPECT_EQ(::socketpair(AF_UNIX, SOCK_SEQPACKET, 0, channel), 0);
        ::fcntl(channel[0], F_SETFD, FD_CLOEXEC);  // only the worker's end is inherited
    }
    ~PlayedMaster() {
        for (int fd : {listener, channel[0], channel[1]}) ::close(fd);
    }
    std::vector<std::string> worker_args() const {
        // A long close linger keeps the test's idle keep-alive connection open into the drain.
        return {"--listen-fd", std::to_string(listener), "--control-fd", std::to_string(channel[1]), "--close-linger", "3s"};
    }
    // A worker prints nothing when it listens (its master does): it says so on the channel.
    std::unique_ptr<ChildProcess> start_worker(const fs::path& state, const fs::path& stderr_file) const {
        std::vector<std::string> argv{server_binary(), "--state-dir", state.string()};
        for (const auto& a : worker_args()) argv.push_back(a);
        return std::make_unique<ChildProcess>(argv, stderr_file);
    }
    // The byte the worker sent, within `timeout`; 0 for none.
    char read_byte(std::chrono::milliseconds timeout) const {
        pollfd p{channel[0], POLLIN, 0};
        char byte = 0;
        if (::poll(&p, 1, static_cast<int>(timeout.count())) == 1) ::recv(channel[0], &byte, 1, MSG_DONTWAIT);
        return byte;
    }
    void say(char word) const { ASSERT_EQ(::send(channel[0], &word, 1, 0), 1); }

    unsigned short port = 0;
    int listener = -1;
    int channel[2] = {-1, -1};
};

// What /ready answers on a keep-alive connection opened before the signal, while a slow request
// holds the worker in draining; and the worker's exit and report.
struct DrainSeen {
    int ready_status = 0;
    std::string connection_header;
    int slow_status = 0;
    std::string intent;
    bool clean_exit = false;
};

DrainSeen signal_worker_while_draining(PlayedMaster& master, ChildProcess& worker, const fs::path& state, bool say_stop) {
    DrainSeen seen;
    EXPECT_EQ(master.read_byte(5s), 'R');
    auto kept = RawConnection::open(master.port);
    auto slow = RawConnection::open(master.port);
    if (!kept || !slow) return seen;
    kept->send_get("/fast");
    EXPECT_EQ(kept->read_response(5s).status, 200);
    slow->send_get("/slow?ms=1500");
    std::this_thread::sleep_for(200ms);  // the slow request is in flight
    if (say_stop) master.say('C');
    worker.signal(SIGTERM);
    std::this_thread::sleep_for(300ms);  // draining, held by the slow request
    kept->send_get("/ready");
    const auto ready = kept->read_response(5s);
    seen.ready_status = ready.status;
    seen.connection_header = ready.header("connection");
    seen.slow_status = slow->read_response(5s).status;
    const auto status = worker.wait(10s);
    seen.clean_exit = status && status->clean();
    std::ifstream in(state / "shutdown-report.json");
    const auto report = nlohmann::json::parse(in, nullptr, false);
    if (!report.is_discarded()) seen.intent = report.value("intent", "");
    return seen;
}

DrainSeen drain_a_worker(bool say_stop) {
    PlayedMaster master;
    const auto dir = fresh_test_dir();
    auto worker = master.start_worker(dir / "state", dir / "stderr");
    return signal_worker_while_draining(master, *worker, dir / "state", say_stop);
}

// A worker signalled without 'C' retires: the service goes on in other workers, so /ready still
// says 200 (with Connection: close) on its open connections while it drains.
TEST(ServerWorkerMode, ASignalAloneRetiresTheWorkerAndReadinessHolds) {
    const auto seen = drain_a_worker(false);
    EXPECT_EQ(seen.ready_status, 200);
    EXPECT_EQ(seen.connection_header, "close");
    EXPECT_EQ(seen.slow_status, 200);
    EXPECT_TRUE(seen.clean_exit);
    EXPECT_EQ(seen.intent, "retire");
}

// 'C' before the signal: the whole service stops, so readiness flips.
TEST(ServerWorkerMode, CBeforeTheSignalStopsTheService) {
    const auto seen = drain_a_worker(true);
    EXPECT_EQ(seen.ready_status, 503);
    EXPECT_EQ(seen.slow_status, 200);
    EXPECT_TRUE(seen.clean_exit);
    EXPECT_EQ(seen.intent, "stop");
}

} // namespace
} // namespace lastcall::testing

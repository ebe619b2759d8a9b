// A prefork worker's control channel, over a real socketpair in this process.
#include "worker_control.hpp"

#include "lastcall/coordinator/manual_clock.hpp"

#include <boost/asio/io_context.hpp>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include <sys/socket.h>
#include <unistd.h>

namespace lastcall::server {
namespace {

struct Channel {
    Channel() { EXPECT_EQ(::socketpair(AF_UNIX, SOCK_SEQPACKET, 0, fds), 0); }
    ~Channel() {
        for (int fd : fds) {
            if (fd >= 0) ::close(fd);
        }
    }
    void master_says(const std::string& words) const { ASSERT_EQ(::send(fds[0], words.data(), words.size(), 0), static_cast<ssize_t>(words.size())); }
    int fds[2] = {-1, -1};  // [0] the master's end, [1] the worker's
};

TEST(WorkerControl, TheLastWordBeforeTheSignalDecidesStopOrRetire) {
    Channel channel;
    bool closed = false;
    EXPECT_EQ(read_master_words(channel.fds[1], MasterWord::none, closed), MasterWord::none);
    channel.master_says("C");
    EXPECT_EQ(read_master_words(channel.fds[1], MasterWord::none, closed), MasterWord::stop);
    channel.master_says("T");
    channel.master_says("C");
    EXPECT_EQ(read_master_words(channel.fds[1], MasterWord::retire, closed), MasterWord::stop);
    channel.master_says("T");
    EXPECT_EQ(read_master_words(channel.fds[1], MasterWord::stop, closed), MasterWord::retire);
    EXPECT_FALSE(closed);
    ::close(channel.fds[0]);
    channel.fds[0] = -1;
    EXPECT_EQ(read_master_words(channel.fds[1], MasterWord::retire, closed), MasterWord::retire);
    EXPECT_TRUE(closed);
}

// A hand-over is a packet of its own; its owner is text, never read as words (a 'C' or 'T' in it
// must not stop or retire the worker).
TEST(WorkerControl, AJobHandOverIsAnOwnerNotWords) {
    Channel channel;
    bool closed = false;
    std::vector<std::string> claims;
    channel.master_says("JCT.9/1.2#3");
    channel.master_says("T");
    channel.master_says("J*");
    EXPECT_EQ(read_master_words(channel.fds[1], MasterWord::none, closed, &claims), MasterWord::retire);
    EXPECT_EQ(claims, (std::vector<std::string>{"CT.9/1.2#3", "*"}));
    channel.master_says("JC");
    EXPECT_EQ(read_master_words(channel.fds[1], MasterWord::none, closed, &claims), MasterWord::none);
}

TEST(WorkerControl, ReadySendsOneByteAndAGoneMasterStopsTheWorkerFast) {
    Channel channel;
    boost::asio::io_context io;
    coordinator::ManualClock clock;
    coordinator::Coordinator coordinator(clock, coordinator::ShutdownConfig{});
    std::optional<coordinator::ShutdownReport> report;
    coordinator::CoordinatorHooks hooks;
    hooks.exited = [&](const auto& r, const std::string&) { report = r; };
    coordinator.set_hooks(hooks);
    WorkerControl control(io, ::dup(channel.fds[1]), coordinator);
    control.send_ready();
    char byte = 0;
    EXPECT_EQ(::recv(channel.fds[0], &byte, 1, MSG_DONTWAIT), 1);
    EXPECT_EQ(byte, 'R');
    ::close(channel.fds[0]);
    channel.fds[0] = -1;
    io.run_one_for(std::chrono::seconds(5));
    clock.settle();
    ASSERT_TRUE(report);
    EXPECT_EQ(report->mode, coordinator::ShutdownMode::fast);
    EXPECT_EQ(report->signal, 0);
}

} // namespace
} // namespace lastcall::server

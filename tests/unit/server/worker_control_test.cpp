// A prefork worker's control channel, over a real socketpair in this process.
#include "worker_control.hpp"

#include "lastcall/coordinator/manual_clock.hpp"

#include <boost/asio/io_context.hpp>
#include <gtest/gtest.h>

#include <csignal>
#include <optional>

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

TEST(WorkerControl, EachWordIsReadOnceInOrderWithItsSignal) {
    Channel channel;
    bool closed = false;
    EXPECT_TRUE(read_master_words(channel.fds[1], closed).empty());
    channel.master_says("C\x0f");
    EXPECT_EQ(read_master_words(channel.fds[1], closed), (std::vector<MasterSays>{{MasterWord::stop, SIGTERM}}));
    EXPECT_TRUE(read_master_words(channel.fds[1], closed).empty());
    channel.master_says("T\x0f");
    channel.master_says("C\x03");
    channel.master_says("T");  // an older master: no signal named
    EXPECT_EQ(read_master_words(channel.fds[1], closed),
              (std::vector<MasterSays>{{MasterWord::retire, SIGTERM}, {MasterWord::stop, SIGQUIT}, {MasterWord::retire, 0}}));
    EXPECT_FALSE(closed);
    ::close(channel.fds[0]);
    channel.fds[0] = -1;
    EXPECT_TRUE(read_master_words(channel.fds[1], closed).empty());
    EXPECT_TRUE(closed);
}

// A hand-over is a packet of its own; its owner is text, never read as words (a 'C' or 'T' in it
// must not stop or retire the worker).
TEST(WorkerControl, AJobHandOverIsAnOwnerNotWords) {
    Channel channel;
    bool closed = false;
    std::vector<std::string> claims;
    channel.master_says("JCT.9/1.2#3");
    channel.master_says("T\x0f");
    channel.master_says("J*");
    EXPECT_EQ(read_master_words(channel.fds[1], closed, &claims), (std::vector<MasterSays>{{MasterWord::retire, SIGTERM}}));
    EXPECT_EQ(claims, (std::vector<std::string>{"CT.9/1.2#3", "*"}));
    channel.master_says("JC");
    EXPECT_TRUE(read_master_words(channel.fds[1], closed, &claims).empty());
}

// A worker with its coordinator, in this process; `master` is who counts as the master.
struct Worker {
    explicit Worker(const Channel& channel, pid_t master) : coordinator(clock, config()), control(io, ::dup(channel.fds[1]), coordinator, master) {
        coordinator::CoordinatorHooks hooks;
        hooks.exited = [this](const auto& r, const std::string&) { report = r; };
        coordinator.set_hooks(hooks);
    }
    static coordinator::ShutdownConfig config() {
        coordinator::ShutdownConfig c;
        c.signals.graceful = {SIGUSR1};  // not SIGTERM: a stray one would end the test binary
        c.signals.fast = {SIGUSR2};
        return c;
    }
    void settle() {
        for (int i = 0; i < 20; ++i) io.run_for(std::chrono::milliseconds(5));
        io.restart();
        clock.settle();
    }
    boost::asio::io_context io;
    coordinator::ManualClock clock;
    coordinator::Coordinator coordinator;
    WorkerControl control;
    std::optional<coordinator::ShutdownReport> report;
};

// A reload retires the worker and the service stops at once: the master's two words and two
// signals can come in any grouping (both words read at the first signal here, the CI failure of
// Prefork.TermDuringAReloadStopsTheBootingWorkersCleanly); the stop is graceful, never escalated.
TEST(WorkerControl, TheMastersRetireThenStopIsOneGracefulStopWhateverTheSignalsGrouping) {
    Channel channel;
    Worker worker(channel, ::getpid());
    channel.master_says("T\x0a");  // SIGUSR1
    channel.master_says("C\x0a");
    ::kill(::getpid(), SIGUSR1);
    ::kill(::getpid(), SIGUSR1);
    worker.settle();
    ASSERT_TRUE(worker.report);
    EXPECT_EQ(worker.report->mode, coordinator::ShutdownMode::graceful);
    EXPECT_FALSE(worker.report->escalated);
    EXPECT_EQ(worker.report->intent, coordinator::ShutdownIntent::stop);
}

// Signals from anyone but the master are the worker's own: before the master said 'C' one retires
// it; after, one escalates (as a second signal to a single process does).
TEST(WorkerControl, ASignalFromAnyoneElseRetiresAndAfterTheMastersStopEscalates) {
    {
        Channel channel;
        Worker worker(channel, ::getppid());
        ::kill(::getpid(), SIGUSR1);
        worker.settle();
        ASSERT_TRUE(worker.report);
        EXPECT_EQ(worker.report->intent, coordinator::ShutdownIntent::retire);
    }
    Channel channel;
    Worker worker(channel, ::getppid());
    // A request in progress keeps the stop going (with nothing to wait for it would be over before
    // the signal came, and there would be nothing left to escalate).
    auto request = worker.coordinator.drain().hold();
    channel.master_says("C\x0a");  // its own signal is not sent: the word alone stops the worker
    worker.settle();
    ::kill(::getpid(), SIGUSR1);
    worker.settle();
    request.release();
    worker.settle();
    ASSERT_TRUE(worker.report);
    EXPECT_EQ(worker.report->intent, coordinator::ShutdownIntent::stop);
    EXPECT_TRUE(worker.report->escalated);
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

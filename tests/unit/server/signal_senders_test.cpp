// Signals with their senders, in a child process each (a handler is process-wide).
#include "signal_senders.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/strand.hpp>
#include <gtest/gtest.h>

#include <chrono>
#include <csignal>
#include <optional>

#include <sys/wait.h>
#include <unistd.h>

namespace lastcall::server {
namespace {

// Runs `body` in a forked child; returns its wait status.
template <typename Body>
int in_child(Body body) {
    const pid_t pid = ::fork();
    if (pid == 0) ::_exit(body());
    int status = 0;
    ::waitpid(pid, &status, 0);
    return status;
}

TEST(SignalSenders, EachSignalComesWithItsSenderInOrder) {
    const int status = in_child([] {
        boost::asio::io_context io;
        SignalSenders senders(boost::asio::make_strand(io), {SIGUSR1, SIGUSR2});
        std::vector<SignalFromSender> got;
        ::raise(SIGUSR2);  // before start(): kept until then
        senders.start([&](const SignalFromSender& s) { got.push_back(s); });
        ::kill(::getpid(), SIGUSR1);
        io.run_for(std::chrono::milliseconds(100));
        const bool right = got.size() == 2 && got[0].signal == SIGUSR2 && got[1].signal == SIGUSR1 &&
                           got[0].sender == ::getpid() && got[1].sender == ::getpid();
        return right ? 0 : 1;
    });
    ASSERT_TRUE(WIFEXITED(status)) << "killed by signal " << WTERMSIG(status);
    EXPECT_EQ(WEXITSTATUS(status), 0);
}

// Once a worker's control is gone its process is on the way out, report written: a signal then
// (its master stopping the service as this retiring worker exits) must not kill it by default,
// which the master would count as a crash.
TEST(SignalSenders, ASignalAfterTheyAreGoneIsIgnoredNotFatal) {
    const int status = in_child([] {
        {
            boost::asio::io_context io;
            SignalSenders senders(boost::asio::make_strand(io), {SIGUSR1});
            senders.start([](const SignalFromSender&) {});
        }
        ::raise(SIGUSR1);
        return 0;
    });
    ASSERT_TRUE(WIFEXITED(status)) << "killed by signal " << WTERMSIG(status);
    EXPECT_EQ(WEXITSTATUS(status), 0);
}

} // namespace
} // namespace lastcall::server

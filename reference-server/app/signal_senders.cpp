#include "signal_senders.hpp"

#include <atomic>
#include <cerrno>
#include <csignal>
#include <stdexcept>

#include <fcntl.h>
#include <unistd.h>

namespace lastcall::server {

namespace {

std::atomic<int> the_write_end{-1};  // the handler's only state: async-signal-safe to read

// Writes one record; a full pipe drops it (64 KiB of unread signals: the reader is stuck anyway).
void on_signal(int signal, siginfo_t* info, void*) {
    const int saved_errno = errno;
    const SignalFromSender record{signal, info ? info->si_pid : 0};
    const int fd = the_write_end.load(std::memory_order_relaxed);
    if (fd >= 0) [[maybe_unused]] const auto written = ::write(fd, &record, sizeof record);  // < PIPE_BUF: atomic
    errno = saved_errno;
}

} // namespace

SignalSenders::SignalSenders(boost::asio::strand<boost::asio::io_context::executor_type> strand, std::vector<int> signals)
    : signals_(std::move(signals)), read_end_(strand) {
    int ends[2];
    if (::pipe2(ends, O_NONBLOCK | O_CLOEXEC) != 0) throw std::runtime_error("cannot create the signal pipe");
    read_end_.assign(ends[0]);
    write_end_ = ends[1];
    int expected = -1;
    if (!the_write_end.compare_exchange_strong(expected, write_end_)) {
        ::close(write_end_);
        throw std::logic_error("SignalSenders: one per process");
    }
    struct ::sigaction action {};
    action.sa_sigaction = on_signal;
    action.sa_flags = SA_SIGINFO | SA_RESTART;
    sigfillset(&action.sa_mask);  // one record at a time
    for (int signal : signals_) ::sigaction(signal, &action, nullptr);
}

// The handler stays, writing nowhere: a signal from now on is ignored. The process is on its way
// out with its report written; the default action would kill it, and a master that signalled a
// retiring worker as the service stopped would count that worker as crashed (1 in ~10 reloads
// followed by a stop under load, Prefork.WorkersBootWithoutWaitingForAStalledDisk...).
SignalSenders::~SignalSenders() {
    the_write_end.store(-1);
    ::close(write_end_);
}

void SignalSenders::start(Handler handler) {
    handler_ = std::move(handler);
    wait_next();
}

void SignalSenders::cancel() {
    boost::system::error_code ignored;
    read_end_.cancel(ignored);
}

void SignalSenders::wait_next() {
    read_end_.async_wait(boost::asio::posix::descriptor_base::wait_read, [this](const boost::system::error_code& ec) {
        if (ec) return;  // cancelled
        SignalFromSender record;
        while (::read(read_end_.native_handle(), &record, sizeof record) == static_cast<ssize_t>(sizeof record)) handler_(record);
        wait_next();
    });
}

} // namespace lastcall::server

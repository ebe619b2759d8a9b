#include "worker_control.hpp"

#include "log.hpp"

#include <boost/asio/bind_executor.hpp>
#include <boost/asio/dispatch.hpp>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

namespace lastcall::server {

namespace net = boost::asio;

MasterWord read_master_words(int fd, MasterWord previous, bool& closed, std::vector<std::string>* claims) {
    auto word = previous;
    char bytes[256];
    for (;;) {
        const auto n = ::recv(fd, bytes, sizeof bytes, MSG_DONTWAIT);
        if (n == 0) {
            closed = true;
            return word;
        }
        if (n < 0) {
            if (errno == EINTR) continue;
            if (errno != EAGAIN && errno != EWOULDBLOCK) closed = true;
            return word;
        }
        if (bytes[0] == 'J') {  // a packet of its own: the owner is text, never words
            if (claims) claims->emplace_back(bytes + 1, static_cast<std::size_t>(n - 1));
            continue;
        }
        for (ssize_t i = 0; i < n; ++i) {
            if (bytes[i] == 'C') word = MasterWord::stop;
            else if (bytes[i] == 'T') word = MasterWord::retire;
        }
    }
}

// Signals, the channel's readiness and the words read so far, all on one strand.
struct WorkerControl::State : std::enable_shared_from_this<State> {
    State(net::io_context& io, int fd, coordinator::Coordinator& c)
        : strand(net::make_strand(io)), signals(strand), channel(strand, fd), coordinator(c) {}

    void wait_signal() {
        signals.async_wait([self = shared_from_this()](const boost::system::error_code& ec, int signal_number) {
            if (ec) return;  // stopped
            self->take_signal(signal_number);
            self->wait_signal();
        });
    }

    void wait_channel() {
        channel.async_wait(net::posix::descriptor_base::wait_read, [self = shared_from_this()](const boost::system::error_code& ec) {
            if (ec) return;
            bool closed = false;
            self->word = read_master_words(self->channel.native_handle(), self->word, closed, &self->claims);
            self->deliver_claims();
            if (closed) {
                log::warn("the master is gone: stopping fast");
                self->coordinator.request_shutdown(coordinator::ShutdownMode::fast, 0);
                return;
            }
            self->wait_channel();
        });
    }

    void take_signal(int signal_number) {
        bool closed = false;
        word = read_master_words(channel.native_handle(), word, closed, &claims);  // 'C' is written before the kill
        deliver_claims();
        const auto& policy = coordinator.config().signals;
        const bool fast = std::find(policy.fast.begin(), policy.fast.end(), signal_number) != policy.fast.end();
        if (word == MasterWord::stop || closed) {
            coordinator.handle_signal(signal_number);
        } else {
            coordinator.request_retire(fast ? coordinator::ShutdownMode::fast : coordinator::ShutdownMode::graceful, signal_number);
        }
    }

    void deliver_claims() {
        if (!on_claim) return;
        for (const auto& owner : claims) on_claim(owner);
        claims.clear();
    }

    net::strand<net::io_context::executor_type> strand;
    net::signal_set signals;
    net::posix::stream_descriptor channel;
    coordinator::Coordinator& coordinator;
    MasterWord word = MasterWord::none;
    std::vector<std::string> claims;
    std::function<void(const std::string&)> on_claim;
};

WorkerControl::WorkerControl(net::io_context& io, int fd, coordinator::Coordinator& coordinator)
    : state_(std::make_shared<State>(io, fd, coordinator)) {
    ::fcntl(fd, F_SETFD, FD_CLOEXEC);
    const auto& policy = coordinator.config().signals;
    sigset_t taken;
    sigemptyset(&taken);
    for (int s : policy.graceful) state_->signals.add(s), sigaddset(&taken, s);
    for (int s : policy.fast) state_->signals.add(s), sigaddset(&taken, s);
    // The master starts a worker with these blocked, so that one sent while the worker boots waits
    // here instead of killing it by default. Now that they are handled, a pending one arrives.
    ::pthread_sigmask(SIG_UNBLOCK, &taken, nullptr);
    state_->wait_signal();
    state_->wait_channel();
}

WorkerControl::~WorkerControl() { stop(); }

void WorkerControl::send_ready() {
    const char ready = 'R';
    if (::send(state_->channel.native_handle(), &ready, 1, MSG_NOSIGNAL) != 1) log::warn("cannot tell the master it is ready");
}

void WorkerControl::on_claim(std::function<void(const std::string& owner)> handler) {
    net::dispatch(state_->strand, [state = state_, handler = std::move(handler)]() mutable {
        state->on_claim = std::move(handler);
        state->deliver_claims();
    });
}

void WorkerControl::stop() {
    boost::system::error_code ignored;
    state_->signals.cancel(ignored);
    state_->channel.cancel(ignored);
}

} // namespace lastcall::server

#include "worker_control.hpp"

#include "log.hpp"
#include "signal_senders.hpp"

#include <boost/asio/dispatch.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/strand.hpp>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

namespace lastcall::server {

namespace net = boost::asio;

std::vector<MasterSays> read_master_words(int fd, bool& closed, std::vector<std::string>* claims) {
    std::vector<MasterSays> words;
    char bytes[256];
    for (;;) {
        const auto n = ::recv(fd, bytes, sizeof bytes, MSG_DONTWAIT);
        if (n == 0) {
            closed = true;
            return words;
        }
        if (n < 0) {
            if (errno == EINTR) continue;
            if (errno != EAGAIN && errno != EWOULDBLOCK) closed = true;
            return words;
        }
        // One packet, one word (SOCK_SEQPACKET).
        if (bytes[0] == 'J') {  // the owner is text: a 'C' or 'T' in it is not a word
            if (claims) claims->emplace_back(bytes + 1, static_cast<std::size_t>(n - 1));
        } else if (bytes[0] == 'C' || bytes[0] == 'T') {
            const int signal = n >= 2 ? static_cast<unsigned char>(bytes[1]) : 0;
            words.push_back(MasterSays{bytes[0] == 'C' ? MasterWord::stop : MasterWord::retire, signal});
        }
    }
}

// Signals, the channel's readiness and the words read so far, all on one strand.
struct WorkerControl::State : std::enable_shared_from_this<State> {
    State(net::io_context& io, int fd, coordinator::Coordinator& c, pid_t master_pid)
        : strand(net::make_strand(io)), signals(strand, policy_signals(c)), channel(strand, fd), coordinator(c),
          master(master_pid) {}

    static std::vector<int> policy_signals(const coordinator::Coordinator& c) {
        const auto& policy = c.config().signals;
        std::vector<int> out(policy.graceful.begin(), policy.graceful.end());
        out.insert(out.end(), policy.fast.begin(), policy.fast.end());
        return out;
    }

    void wait_channel() {
        channel.async_wait(net::posix::descriptor_base::wait_read, [self = shared_from_this()](const boost::system::error_code& ec) {
            if (ec) return;
            if (!self->read_channel()) return;
            self->wait_channel();
        });
    }

    // Acts on every word read; false once the master is gone (the worker then stops fast).
    bool read_channel() {
        if (master_gone) return false;
        bool closed = false;
        const auto words = read_master_words(channel.native_handle(), closed, &claims);
        // A retire the master said before a stop read in the same batch is superseded by it (a
        // reload, then the service stopping): acted on first, a retire with nothing to wait for ends
        // the worker at once (the coordinator goes on without a post when nothing is left), and the
        // worker would report a retire for a service that stopped.
        const auto last_stop = std::find_if(words.rbegin(), words.rend(), [](const MasterSays& s) { return s.word == MasterWord::stop; });
        for (auto it = words.begin(); it != words.end(); ++it) {
            const bool superseded = it->word == MasterWord::retire && last_stop != words.rend() && it < last_stop.base();
            if (superseded) master_spoke = true;
            else obey(*it);
        }
        deliver_claims();
        if (closed) {
            master_gone = true;
            log::warn("the master is gone: stopping fast");
            coordinator.request_shutdown(coordinator::ShutdownMode::fast, 0);
        }
        return !closed;
    }

    void obey(const MasterSays& said) {
        master_spoke = true;
        const auto& policy = coordinator.config().signals;
        const int signal = said.signal != 0 ? said.signal : policy.graceful.empty() ? SIGTERM : policy.graceful.front();
        if (said.word == MasterWord::stop) {
            service_stops = true;
            coordinator.handle_signal(signal);
        } else {
            coordinator.request_retire(is_fast(signal) ? coordinator::ShutdownMode::fast : coordinator::ShutdownMode::graceful, signal);
        }
    }

    void take_signal(const SignalFromSender& got) {
        read_channel();  // the master writes its word before it signals
        if (got.sender == master && master_spoke) return;  // woke us; its word said what it means
        if (service_stops || master_gone) {
            coordinator.handle_signal(got.signal);
        } else {
            coordinator.request_retire(is_fast(got.signal) ? coordinator::ShutdownMode::fast : coordinator::ShutdownMode::graceful, got.signal);
        }
    }

    bool is_fast(int signal) const {
        const auto& fast = coordinator.config().signals.fast;
        return std::find(fast.begin(), fast.end(), signal) != fast.end();
    }

    void deliver_claims() {
        if (!on_claim) return;
        for (const auto& owner : claims) on_claim(owner);
        claims.clear();
    }

    net::strand<net::io_context::executor_type> strand;
    SignalSenders signals;
    net::posix::stream_descriptor channel;
    coordinator::Coordinator& coordinator;
    const pid_t master;
    bool master_spoke = false;   // a word came: from now on the master's signals only wake us
    bool service_stops = false;  // the master said 'C'
    bool master_gone = false;
    std::vector<std::string> claims;
    std::function<void(const std::string&)> on_claim;
};

WorkerControl::WorkerControl(net::io_context& io, int fd, coordinator::Coordinator& coordinator, pid_t master)
    : state_(std::make_shared<State>(io, fd, coordinator, master)) {
    ::fcntl(fd, F_SETFD, FD_CLOEXEC);
    sigset_t taken;
    sigemptyset(&taken);
    for (int s : State::policy_signals(coordinator)) sigaddset(&taken, s);
    state_->signals.start([state = state_.get()](const SignalFromSender& got) { state->take_signal(got); });
    // The master starts a worker with these blocked, so that one sent while the worker boots waits
    // here instead of killing it by default. Now that they are handled, a pending one arrives.
    ::pthread_sigmask(SIG_UNBLOCK, &taken, nullptr);
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
    state_->signals.cancel();
    state_->channel.cancel(ignored);
}

} // namespace lastcall::server

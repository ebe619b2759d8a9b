#include "readiness_poller.hpp"

#include <boost/asio/post.hpp>

#include <array>
#include <utility>

#include <sys/epoll.h>
#include <unistd.h>

namespace lastcall::harness {

namespace net = boost::asio;

namespace {

// Set while a wake-up dispatches its waiters, however the dispatch ends.
class Dispatching {
public:
    explicit Dispatching(bool& flag) : flag_(flag) { flag_ = true; }
    ~Dispatching() { flag_ = false; }
    Dispatching(const Dispatching&) = delete;
    Dispatching& operator=(const Dispatching&) = delete;

private:
    bool& flag_;
};

} // namespace

void ReadWaiter::begin_wait(net::any_completion_handler<void(boost::system::error_code)> handler) {
    handler_.emplace(std::move(handler));
    start_waiting();
}

void ReadWaiter::wait_calling(ReadyTarget& target) {
    target_ = &target;
    start_waiting();
}

void ReadWaiter::start_waiting() {
    if (!poller_ || may_have_data_) {
        // Nothing to wait for (or no set to wait in): completed as any Asio operation that
        // finishes at once, through the queue, never inside the caller's co_await.
        const auto ec = poller_ ? boost::system::error_code{} : boost::system::error_code(net::error::operation_aborted);
        net::post(*io_, [this, ec] { complete(ec); });
        return;
    }
    poller_->started_waiting();
}

net::any_completion_handler<void(boost::system::error_code)> ReadWaiter::take_handler() {
    auto handler = std::move(*handler_);
    handler_.reset();
    return handler;
}

void ReadWaiter::complete(boost::system::error_code ec) {
    if (handler_) return take_handler()(ec);
    if (auto* target = std::exchange(target_, nullptr)) target->on_readable(ec);
}

void ReadWaiter::cancel() {
    if (!waiting()) return;
    if (poller_ && !may_have_data_) poller_->stopped_waiting();
    const boost::system::error_code aborted(net::error::operation_aborted);
    if (auto* target = std::exchange(target_, nullptr)) {
        net::post(*io_, [target, aborted] { target->on_readable(aborted); });
        return;
    }
    net::post(*io_, [handler = take_handler(), aborted]() mutable { std::move(handler)(aborted); });
}

void ReadWaiter::forget() {
    cancel();
    poller_ = nullptr;
    may_have_data_ = false;
    ended_ = false;
}

ReadinessPoller::ReadinessPoller(net::io_context& io) : io_(io), set_(io) {
    // Without a set of its own (out of descriptors) every connection reads through Asio: add() says so.
    const int fd = ::epoll_create1(EPOLL_CLOEXEC);
    boost::system::error_code ignored;
    if (fd >= 0) set_.assign(fd, ignored);
    ready_.reserve(256);
}

bool ReadinessPoller::add(int fd, ReadWaiter& waiter) {
    if (!set_.is_open()) return false;
    waiter.poller_ = this;
    waiter.io_ = &io_;
    waiter.may_have_data_ = false;  // EPOLL_CTL_ADD reports bytes (or an end) already there as an edge
    waiter.ended_ = false;
    epoll_event ev{};
    ev.events = EPOLLIN | EPOLLRDHUP | EPOLLET;  // EPOLLERR and EPOLLHUP always
    ev.data.ptr = &waiter;
    if (::epoll_ctl(set_.native_handle(), EPOLL_CTL_ADD, fd, &ev) == 0) return true;
    waiter.poller_ = nullptr;
    return false;
}

void ReadinessPoller::started_waiting() {
    ++waiting_;
    // While on_ready() dispatches, its end arms the set once: a wait begun in one round may have
    // its edge taken in the next, and an arm left behind with nobody waiting would keep the
    // thread's io_context running for good.
    if (!dispatching_) arm();
}

void ReadinessPoller::stopped_waiting() {
    if (--waiting_ > 0 || !armed_) return;
    // Nobody waits: the set's wait must not keep the io_context running (a finished thread ends).
    armed_ = false;
    ++arm_generation_;
    boost::system::error_code ignored;
    set_.cancel(ignored);
}

void ReadinessPoller::arm() {
    if (armed_) return;
    armed_ = true;
    // Asio re-arms the set with an epoll_ctl(MOD), which reports at once edges the set already holds.
    set_.async_wait(net::posix::stream_descriptor::wait_read, [this, generation = ++arm_generation_](const boost::system::error_code& ec) {
        if (generation == arm_generation_) armed_ = false;
        if (!ec) on_ready();
    });
}

void ReadinessPoller::on_ready() {
    // Edges that came while a batch was handled are taken here, in more rounds, rather than through
    // Asio again (its epoll_wait, this set's and the epoll_ctl re-arming it: three syscalls a
    // batch). Bounded, so that Asio's timers and posts wait no longer than one full batch would.
    {
        const Dispatching dispatching(dispatching_);
        std::size_t handled = 0;
        for (int round = 0; round < max_rounds && handled < ready_.capacity(); ++round) {
            const auto n = dispatch_round();
            handled += n;
            if (n == 0 || waiting_ == 0) break;
        }
    }
    if (waiting_ > 0) arm();  // a full batch leaves edges in the set: the re-arm reports them
}

std::size_t ReadinessPoller::dispatch_round() {
    std::array<epoll_event, 256> events;
    const int n = ::epoll_wait(set_.native_handle(), events.data(), static_cast<int>(events.size()), 0);
    if (n <= 0) return 0;
    ready_.clear();
    for (int i = 0; i < n; ++i) {
        auto* waiter = static_cast<ReadWaiter*>(events[i].data.ptr);
        // An edge of a socket closed since (in this same batch) is a spurious readiness: the next
        // read finds EAGAIN and waits again.
        if (!waiter->may_have_data_ && waiter->waiting()) {
            --waiting_;
            ready_.push_back(waiter);
        }
        waiter->may_have_data_ = true;
        if (events[i].events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR)) waiter->ended_ = true;
    }
    // Each resumes its request up to its next wait. A waiter handled earlier in this batch cannot
    // touch another's (each request owns its connection).
    for (auto* waiter : ready_) waiter->complete({});
    return static_cast<std::size_t>(n);
}

} // namespace lastcall::harness

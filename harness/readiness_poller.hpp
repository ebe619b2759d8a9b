#pragma once
// A load thread's wait for its responses, without a syscall per wait (internal to the load
// generator: includes Asio). Asio's read begins with a speculative recv(2), which for most requests
// finds the response not there yet (EAGAIN), and Asio's wait without it (async_wait) costs an
// epoll_ctl(2) each: either way a syscall per request beside send and recv (wrk makes two epoll_ctl).
// Here each connected socket joins an epoll set of the thread's own once, edge-triggered, and Asio
// watches the set as one descriptor: a request's wait is a handler kept in its connection's
// ReadWaiter, completed when the set says the socket became readable. One epoll_wait and one re-arm
// serve every response that arrived together.
#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/system/error_code.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

namespace lastcall::harness {

class ReadinessPoller;

// Who a wait completes by a plain call (ReadWaiter::wait_calling): a caller that keeps its state
// outside a coroutine (the closed loop's keep-alive run, load_worker_keep_alive.cpp) has no
// completion handler to type-erase, store and move per wait.
class ReadyTarget {
public:
    virtual void on_readable(boost::system::error_code ec) = 0;

protected:
    ~ReadyTarget() = default;
};

// One socket's readiness, edge-triggered: whether its receive queue may hold bytes (an edge came
// since a read last found it empty), and a wait for the next edge.
class ReadWaiter {
public:
    ReadWaiter() = default;
    ReadWaiter(const ReadWaiter&) = delete;
    ReadWaiter& operator=(const ReadWaiter&) = delete;

    // In the poller's set (ReadinessPoller::add): false after the socket's close.
    bool registered() const { return poller_ != nullptr; }
    bool may_have_data() const { return may_have_data_; }
    // A read found the receive queue empty (EAGAIN, or fewer bytes than it asked for): no bytes
    // until the next edge, which the set reports. Not after the peer's FIN or a reset was seen:
    // a read that returned the last bytes leaves the end still to read, and no edge will follow.
    void drained() {
        if (!ended_) may_have_data_ = false;
    }

    // Completes with success once the socket may have bytes (at once, posted, if it may already),
    // or with operation_aborted at cancel() (posted, also when the socket has left the set). One
    // wait at a time, on a socket added to a poller once at least.
    template <class Token>
    auto async_wait(Token&& token) {
        return boost::asio::async_initiate<Token, void(boost::system::error_code)>(
            [this](auto handler) { begin_wait(std::move(handler)); }, token);
    }
    // The same wait completing by `target.on_readable(ec)`: called inline from the set's wake-up
    // (the target must not be gone before the wait ends), posted when it ends at once or by cancel().
    void wait_calling(ReadyTarget& target);
    // A wait under way ends with operation_aborted (posted): a deadline passed, the socket closes.
    void cancel();
    // The socket closes (its close takes it out of the set): cancel(), and not registered.
    void forget();

private:
    friend class ReadinessPoller;
    void begin_wait(boost::asio::any_completion_handler<void(boost::system::error_code)> handler);
    void start_waiting();
    bool waiting() const { return handler_.has_value() || target_ != nullptr; }
    void complete(boost::system::error_code ec);
    boost::asio::any_completion_handler<void(boost::system::error_code)> take_handler();

    ReadinessPoller* poller_ = nullptr;
    boost::asio::io_context* io_ = nullptr;  // where its completions go; kept after the close
    bool may_have_data_ = false;
    bool ended_ = false;  // the set reported the peer's FIN (EPOLLRDHUP), a hang-up or an error
    // In an optional: Boost 1.81's any_completion_handler move-assigns by wrapping (its operator=
    // copies into a new handler of itself, endlessly); only its move constructor is used.
    std::optional<boost::asio::any_completion_handler<void(boost::system::error_code)>> handler_;
    ReadyTarget* target_ = nullptr;  // a wait_calling() under way (never with handler_)
};

class ReadinessPoller {
public:
    explicit ReadinessPoller(boost::asio::io_context& io);
    ReadinessPoller(const ReadinessPoller&) = delete;
    ReadinessPoller& operator=(const ReadinessPoller&) = delete;

    // A connected socket joins the set (once per connection: its close takes it out). False when
    // the kernel refuses (no set, the epoll watch limit): the connection reads through Asio instead.
    bool add(int fd, ReadWaiter& waiter);

private:
    friend class ReadWaiter;
    void started_waiting();
    void stopped_waiting();
    void arm();
    void on_ready();
    std::size_t dispatch_round();  // one epoll_wait of the set and its waiters completed: how many edges

    // Rounds of the set's epoll_wait in one wake-up (on_ready). 16 measured best of 1, 4 and 16:
    // median CPU per request 2-4 % below one round (scripts/bench-loadgen's client-bound setup).
    static constexpr int max_rounds = 16;

    boost::asio::io_context& io_;
    boost::asio::posix::stream_descriptor set_;
    // Waits under way. The set's own wait is armed only while there are some: a thread whose
    // connections are all closed runs out of work, and its io_context ends.
    std::size_t waiting_ = 0;
    bool armed_ = false;
    bool dispatching_ = false;  // inside on_ready()
    std::uint32_t arm_generation_ = 0;
    std::vector<ReadWaiter*> ready_;  // one wake-up's waiters, reused
};

} // namespace lastcall::harness

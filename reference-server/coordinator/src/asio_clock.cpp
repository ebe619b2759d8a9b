#include "lastcall/coordinator/asio_clock.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>

namespace lastcall::coordinator {

namespace net = boost::asio;
using StrandExecutor = net::strand<net::io_context::executor_type>;

struct AsioClock::Strand {
    StrandExecutor executor;
};

namespace {

class AsioAlarm final : public Alarm {
public:
    explicit AsioAlarm(const StrandExecutor& executor) : timer_(executor) {}

    void arm(TimePoint when, std::function<void()> fire) override {
        const auto generation = ++generation_;
        timer_.expires_at(when);
        timer_.async_wait([this, generation, fire = std::move(fire)](const boost::system::error_code& ec) {
            // ec first: after the alarm is destroyed only an aborted completion can arrive.
            if (ec || generation != generation_) return;
            fire();
        });
    }
    // Also covers a completion already queued when cancel() ran: its generation is stale.
    void cancel() override {
        ++generation_;
        timer_.cancel();
    }

private:
    net::steady_timer timer_;
    std::uint64_t generation_ = 0;
};

} // namespace

AsioClock::AsioClock(net::io_context& io) : strand_(std::make_unique<Strand>(Strand{net::make_strand(io)})) {}
AsioClock::~AsioClock() = default;

TimePoint AsioClock::now() const { return std::chrono::steady_clock::now(); }
WallTime AsioClock::wall_now() const { return std::chrono::system_clock::now(); }

std::unique_ptr<Alarm> AsioClock::make_alarm() { return std::make_unique<AsioAlarm>(strand_->executor); }

Post AsioClock::poster() {
    return [executor = strand_->executor](std::function<void()> work) { net::post(executor, std::move(work)); };
}

} // namespace lastcall::coordinator

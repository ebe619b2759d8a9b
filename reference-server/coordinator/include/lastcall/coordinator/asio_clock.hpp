#pragma once
// The real clock: std::chrono::steady_clock, with alarms on Asio timers that fire on one strand.
// Header-only on purpose (target lastcall::coordinator_asio): it compiles in the embedder's own
// Asio configuration, header-only or separately compiled, and the compiled coordinator library
// needs no Asio at all.
#include "lastcall/coordinator/clock.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>

#include <cstdint>
#include <memory>

namespace lastcall::coordinator {

class AsioClock final : public Clock {
public:
    using Executor = boost::asio::strand<boost::asio::io_context::executor_type>;

    explicit AsioClock(boost::asio::io_context& io) : strand_(boost::asio::make_strand(io)) {}

    TimePoint now() const override { return std::chrono::steady_clock::now(); }
    WallTime wall_now() const override { return std::chrono::system_clock::now(); }
    std::unique_ptr<Alarm> make_alarm() override { return std::make_unique<TimerAlarm>(strand_); }
    Post poster() override {
        return [executor = strand_](std::function<void()> work) { boost::asio::post(executor, std::move(work)); };
    }

private:
    class TimerAlarm final : public Alarm {
    public:
        explicit TimerAlarm(const Executor& executor) : timer_(executor) {}

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
        boost::asio::steady_timer timer_;
        std::uint64_t generation_ = 0;
    };

    Executor strand_;
};

} // namespace lastcall::coordinator

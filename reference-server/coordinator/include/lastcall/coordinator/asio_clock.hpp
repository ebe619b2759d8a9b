#pragma once
// The real clock: std::chrono::steady_clock, with alarms on Asio timers that fire on one strand.
#include "lastcall/coordinator/clock.hpp"

namespace boost::asio { class io_context; }

namespace lastcall::coordinator {

class AsioClock final : public Clock {
public:
    explicit AsioClock(boost::asio::io_context& io);
    ~AsioClock() override;

    TimePoint now() const override;
    WallTime wall_now() const override;
    std::unique_ptr<Alarm> make_alarm() override;
    Post poster() override;

private:
    struct Strand;
    std::unique_ptr<Strand> strand_;
};

} // namespace lastcall::coordinator

#pragma once
// Fake time for tests: nothing happens until the test calls advance(). Posted work and due
// alarms run inside advance()/settle(), in time order, so a test of a 30 s budget takes microseconds.
#include "lastcall/coordinator/clock.hpp"

#include <cstdint>
#include <deque>
#include <map>
#include <utility>

namespace lastcall::coordinator {

class ManualClock final : public Clock {
public:
    ManualClock();

    TimePoint now() const override { return now_; }
    WallTime wall_now() const override;
    std::unique_ptr<Alarm> make_alarm() override;
    Post poster() override;

    // Runs every posted function, including those posted while running.
    void settle();
    // Moves time forward by `by`, firing due alarms at their own instants and settling after each.
    void advance(Duration by);
    std::size_t armed_alarms() const { return alarms_.size(); }

private:
    friend class ManualAlarm;
    using Key = std::pair<TimePoint, std::uint64_t>;

    Key add_alarm(TimePoint when, std::function<void()> fire);
    void remove_alarm(const Key& key) { alarms_.erase(key); }

    TimePoint now_;
    WallTime wall_epoch_;
    TimePoint steady_epoch_;
    std::uint64_t next_sequence_ = 0;
    std::map<Key, std::function<void()>> alarms_;
    std::deque<std::function<void()>> posted_;
};

} // namespace lastcall::coordinator

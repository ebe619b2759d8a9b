#include "lastcall/coordinator/manual_clock.hpp"

namespace lastcall::coordinator {

class ManualAlarm final : public Alarm {
public:
    explicit ManualAlarm(ManualClock& clock) : clock_(clock) {}
    ~ManualAlarm() override { cancel(); }

    void arm(TimePoint when, std::function<void()> fire) override {
        cancel();
        key_ = clock_.add_alarm(when, [this, fire = std::move(fire)] {
            armed_ = false;
            fire();
        });
        armed_ = true;
    }
    void cancel() override {
        if (armed_) clock_.remove_alarm(key_);
        armed_ = false;
    }

private:
    ManualClock& clock_;
    ManualClock::Key key_{};
    bool armed_ = false;
};

ManualClock::ManualClock()
    : now_(TimePoint{} + std::chrono::hours(1)),
      wall_epoch_(std::chrono::system_clock::now()),
      steady_epoch_(now_) {}

WallTime ManualClock::wall_now() const {
    return wall_epoch_ + std::chrono::duration_cast<std::chrono::system_clock::duration>(now_ - steady_epoch_);
}

std::unique_ptr<Alarm> ManualClock::make_alarm() { return std::make_unique<ManualAlarm>(*this); }

Post ManualClock::poster() {
    return [this](std::function<void()> work) { posted_.push_back(std::move(work)); };
}

ManualClock::Key ManualClock::add_alarm(TimePoint when, std::function<void()> fire) {
    Key key{when, next_sequence_++};
    alarms_.emplace(key, std::move(fire));
    return key;
}

void ManualClock::settle() {
    for (;;) {
        if (!posted_.empty()) {
            auto work = std::move(posted_.front());
            posted_.pop_front();
            work();
        } else if (!alarms_.empty() && alarms_.begin()->first.first <= now_) {
            auto due = alarms_.begin();
            auto fire = std::move(due->second);
            alarms_.erase(due);
            fire();
        } else {
            return;
        }
    }
}

void ManualClock::advance(Duration by) {
    const TimePoint target = now_ + by;
    settle();
    while (!alarms_.empty() && alarms_.begin()->first.first <= target) {
        now_ = std::max(now_, alarms_.begin()->first.first);
        settle();
    }
    now_ = target;
    settle();
}

} // namespace lastcall::coordinator

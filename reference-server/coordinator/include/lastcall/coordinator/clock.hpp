#pragma once
// Time as the coordinator sees it. Injected, so that tests drive phases, budgets and the
// global deadline on fake time (ManualClock) and the server runs on Asio timers (AsioClock).
#include <chrono>
#include <functional>
#include <memory>

namespace lastcall::coordinator {

using Duration = std::chrono::steady_clock::duration;
using TimePoint = std::chrono::steady_clock::time_point;
using WallTime = std::chrono::system_clock::time_point;

// Runs a function later, one at a time, in order: the coordinator's only execution context.
using Post = std::function<void(std::function<void()>)>;

// A one-shot timer. Arming again replaces the previous wait; after cancel() the callback never runs.
class Alarm {
public:
    virtual ~Alarm() = default;
    virtual void arm(TimePoint when, std::function<void()> fire) = 0;
    virtual void cancel() = 0;
};

class Clock {
public:
    virtual ~Clock() = default;
    virtual TimePoint now() const = 0;
    virtual WallTime wall_now() const = 0;
    virtual std::unique_ptr<Alarm> make_alarm() = 0;
    // The serial context alarms fire on; the coordinator posts all its work here too.
    virtual Post poster() = 0;
};

} // namespace lastcall::coordinator

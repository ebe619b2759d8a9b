#pragma once
// The live view of `lastcall run`: one line about the run in progress. On a terminal it is redrawn
// in place four times a second; elsewhere (a CI log) it is a plain line every 2 s and at every
// change of phase, without escape codes. It keeps its own clock between the conductor's reports,
// so a target that takes seconds to start or restart shows time passing, not a frozen "1.0s".
#include "live_status.hpp"

#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <deque>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

namespace lastcall::harness {

// Completed requests per second over the last second of the run's clock (the conductor's, read
// with the counts: the view's own scheduling does not change it). Empty until two reports apart.
class RequestRate {
public:
    void add(std::int64_t elapsed_us, std::uint64_t completed);
    std::optional<double> per_second() const;
    void reset() { samples_.clear(); }

private:
    std::deque<std::pair<std::int64_t, std::uint64_t>> samples_;
};

struct LiveLineStyle {
    std::size_t width = 120;  // the line is cut to width - 1: a wrapped line cannot be redrawn
    bool bar = true;          // a progress bar against max_duration (the redrawn line only)
    bool colour = false;
};

// One line. `since_report_us`: how long ago the status was reported (the clock keeps going);
// `in_phase_us`: how long the phase has lasted.
std::string live_line(const LiveStatus& status, std::int64_t since_report_us, std::int64_t in_phase_us,
                      std::optional<double> per_second, const LiveLineStyle& style);

enum class LiveMode { redraw, lines, off };

class LiveView {
public:
    using Clock = std::chrono::steady_clock;
    LiveView(std::FILE* out, LiveMode mode, bool colour, std::chrono::milliseconds lines_every = std::chrono::seconds(2));
    ~LiveView();
    LiveView(const LiveView&) = delete;
    LiveView& operator=(const LiveView&) = delete;

    void report(const LiveStatus& status);  // from the run's thread
    void end_run();                          // the run is over: its line goes, the next run starts afresh

private:
    void loop();
    void draw(Clock::time_point now);  // with mutex_ held
    std::size_t width() const;

    std::FILE* out_;
    LiveMode mode_;
    bool colour_;
    std::chrono::milliseconds lines_every_;
    std::mutex mutex_;
    std::condition_variable wake_;
    bool stopping_ = false;
    std::optional<LiveStatus> last_;
    Clock::time_point reported_at_{};
    Clock::time_point phase_since_{};
    Clock::time_point next_line_{};
    bool drawn_ = false;  // a redrawn line is on the screen
    RequestRate rate_;
    std::thread thread_;
};

} // namespace lastcall::harness

#include "live_view.hpp"

#include <fmt/format.h>

#include <algorithm>

#include <sys/ioctl.h>
#include <unistd.h>

namespace lastcall::harness {

namespace {

constexpr std::int64_t rate_window_us = 1'000'000;

std::string seconds(std::int64_t us) { return fmt::format("{:.1f}s", static_cast<double>(us) / 1e6); }

std::string bar(std::int64_t elapsed_us, std::int64_t max_us) {
    constexpr int cells = 10;
    const int full = max_us > 0 ? static_cast<int>(std::min<std::int64_t>(cells, elapsed_us * cells / max_us)) : 0;
    return "[" + std::string(static_cast<std::size_t>(full), '#') + std::string(static_cast<std::size_t>(cells - full), '-') + "]";
}

// "ok 1200, ended by shutdown 30": the outcomes seen so far, in words (the names in the reports
// with spaces: "ended_by_shutdown" was "ebs" here once, and nobody could say what it meant).
// "provisional: ..." when the verdict may still move a failure to another class (live_status.hpp):
// a new user read "rejected 27" live and then a verdict of 27 dropped.
std::string outcomes(const LiveStatus& s) {
    const auto& counts = s.counts;
    const auto count = [&](Outcome o) { return counts.by_outcome[static_cast<std::size_t>(o)]; };
    const bool may_move = count(Outcome::rejected) + count(Outcome::dropped) + count(Outcome::idle_close_race) > 0;
    std::string out = s.provisional && may_move ? "provisional: " : "";
    const auto first = out.size();
    for (int i = 0; i < outcome_count; ++i) {
        const auto n = counts.by_outcome[static_cast<std::size_t>(i)];
        if (n == 0) continue;
        std::string name(to_string(static_cast<Outcome>(i)));
        for (auto& ch : name) ch = ch == '_' ? ' ' : ch;
        out += fmt::format("{}{} {}", out.size() == first ? "" : ", ", name, n);
    }
    return out;
}

std::string_view phase_colour(RunPhase phase) {
    switch (phase) {
    case RunPhase::ready: return "32";
    case RunPhase::signal_sent:
    case RunPhase::draining: return "33";
    case RunPhase::exited:
    case RunPhase::restarting: return "36";
    default: return "2";
    }
}

} // namespace

void RequestRate::add(std::int64_t elapsed_us, std::uint64_t completed) {
    if (!samples_.empty() && elapsed_us <= samples_.back().first) return;
    samples_.emplace_back(elapsed_us, completed);
    while (samples_.size() > 2 && samples_[1].first <= elapsed_us - rate_window_us) samples_.pop_front();
}

std::optional<double> RequestRate::per_second() const {
    if (samples_.size() < 2) return std::nullopt;
    const auto& [t0, n0] = samples_.front();
    const auto& [t1, n1] = samples_.back();
    return static_cast<double>(n1 - n0) * 1e6 / static_cast<double>(t1 - t0);
}

std::string live_line(const LiveStatus& s, std::int64_t since_report_us, std::int64_t in_phase_us, std::optional<double> per_second,
                      const LiveLineStyle& style) {
    std::string clock;
    if (s.phase == RunPhase::starting && s.elapsed_us == 0) {
        clock = fmt::format("{:>6}", seconds(in_phase_us));  // the run's clock starts when the target is ready
    } else {
        auto elapsed = s.elapsed_us + (s.phase == RunPhase::finishing ? 0 : since_report_us);
        // Never earlier than the event the line names: the conductor read its clock before it sent
        // the signal ("0.9s ... SIGTERM at 1.00s"). At least the event's time rounded up to the
        // 0.1 s the clock shows, so rounding cannot put it back before "1.05s" either.
        if (s.event_us >= 0) elapsed = std::max(elapsed, (s.event_us + 99'999) / 100'000 * 100'000);
        clock = fmt::format("{:>6}/{}", seconds(elapsed), seconds(s.max_duration_us));
        if (style.bar) clock += " " + bar(elapsed, s.max_duration_us);
    }
    const std::string phase(to_string(s.phase));
    std::string what = phase;
    if (s.generation > 1) what += fmt::format(" (generation {})", s.generation);
    if (!s.detail.empty()) what += ": " + s.detail;
    if (s.phase == RunPhase::restarting) what += fmt::format(", {}", seconds(in_phase_us));
    std::string line = fmt::format("{}  {}", clock, what);
    if (s.phase != RunPhase::starting || s.elapsed_us > 0) {
        line += per_second ? fmt::format(" | {:.0f} req/s", *per_second) : std::string(" | - req/s");
        line += fmt::format(", in flight {}, done {}", s.counts.in_flight, s.counts.completed);
        const auto seen = outcomes(s);
        if (!seen.empty()) line += " (" + seen + ")";
    }
    if (style.width > 1 && line.size() > style.width - 1) line.resize(style.width - 1);
    if (style.colour) {
        if (const auto at = line.find(phase); at != std::string::npos && at + phase.size() <= line.size()) {
            line.replace(at, phase.size(), fmt::format("\033[{}m{}\033[0m", phase_colour(s.phase), phase));
        }
    }
    return line;
}

LiveView::LiveView(std::FILE* out, LiveMode mode, bool colour, std::chrono::milliseconds lines_every)
    : out_(out), mode_(mode), colour_(colour), lines_every_(lines_every) {
    if (mode_ != LiveMode::off) thread_ = std::thread([this] { loop(); });
}

LiveView::~LiveView() {
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    wake_.notify_all();
    if (thread_.joinable()) thread_.join();
    end_run();
}

void LiveView::report(const LiveStatus& status) {
    if (mode_ == LiveMode::off) return;
    std::lock_guard lock(mutex_);
    const auto now = Clock::now();
    const bool new_phase = !last_ || last_->phase != status.phase || last_->generation != status.generation;
    if (new_phase) phase_since_ = now;
    if (status.elapsed_us > 0) rate_.add(status.elapsed_us, status.counts.completed);
    last_ = status;
    reported_at_ = now;
    // A change of phase is a line of its own in a log; on a terminal the next redraw shows it.
    if (new_phase && mode_ == LiveMode::lines) next_line_ = now;
    if (new_phase) draw(now);
}

void LiveView::end_run() {
    std::lock_guard lock(mutex_);
    if (drawn_) {
        fmt::print(out_, "\r\033[K");
        std::fflush(out_);
    }
    drawn_ = false;
    last_.reset();
    rate_.reset();
}

void LiveView::loop() {
    std::unique_lock lock(mutex_);
    while (!stopping_) {
        wake_.wait_for(lock, std::chrono::milliseconds(250));
        if (!stopping_) draw(Clock::now());
    }
}

void LiveView::draw(Clock::time_point now) {
    if (!last_) return;
    const auto since = [&](Clock::time_point t) { return std::chrono::duration_cast<std::chrono::microseconds>(now - t).count(); };
    if (mode_ == LiveMode::redraw) {
        const auto line = live_line(*last_, since(reported_at_), since(phase_since_), rate_.per_second(), {width(), true, colour_});
        fmt::print(out_, "\r\033[K{}", line);
        drawn_ = true;
    } else if (mode_ == LiveMode::lines && now >= next_line_) {
        fmt::print(out_, "lastcall: {}\n", live_line(*last_, since(reported_at_), since(phase_since_), rate_.per_second(), {0, false, false}));
        next_line_ = now + lines_every_;
    }
    std::fflush(out_);
}

std::size_t LiveView::width() const {
    winsize size{};
    if (::ioctl(fileno(out_), TIOCGWINSZ, &size) == 0 && size.ws_col > 0) return size.ws_col;
    return 120;
}

} // namespace lastcall::harness

#include "live_view.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>

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

bool is_failure(Outcome o) { return o != Outcome::ok && o != Outcome::ended_by_shutdown; }

// What a line holds. A narrow terminal cannot take it all (at 80 columns the line lost the
// in-flight and failure counts, the most useful part once the signal is sent): live_line() drops
// parts, least useful first, until it fits. The order: bar, rate, the phase text after its first
// comma (", not ready": "draining" says it), the ok / ended-by-shutdown counts, "done", the rest
// of the phase text ("SIGTERM at 1.00s"), then failure counts from the last. The clock, the phase,
// "in flight", the first failure count and "provisional" stay.
struct Shown {
    bool bar = true;
    bool rate = true;
    bool detail_tail = true;
    bool calm_outcomes = true;  // ok, ended by shutdown
    bool done = true;
    bool detail_head = true;
    int failures = outcome_count;  // how many of the failure counts (in report order)
};

// "ok 1200, ended by shutdown 30": the outcomes seen so far, in words (the names in the reports
// with spaces: "ended_by_shutdown" was "ebs" here once, and nobody could say what it meant).
// "provisional: ..." when the verdict may still move a failure to another class (live_status.hpp):
// a new user read "rejected 27" live and then a verdict of 27 dropped.
std::string outcomes(const LiveStatus& s, const Shown& shown) {
    const auto& counts = s.counts;
    const auto count = [&](Outcome o) { return counts.by_outcome[static_cast<std::size_t>(o)]; };
    const bool may_move = count(Outcome::rejected) + count(Outcome::dropped) + count(Outcome::idle_close_race) > 0;
    std::string out = s.provisional && may_move ? "provisional: " : "";
    const auto first = out.size();
    int failures = 0;
    for (int i = 0; i < outcome_count; ++i) {
        const auto o = static_cast<Outcome>(i);
        const auto n = counts.by_outcome[static_cast<std::size_t>(i)];
        if (n == 0) continue;
        if (is_failure(o) ? failures++ >= shown.failures : !shown.calm_outcomes) continue;
        std::string name(to_string(o));
        for (auto& ch : name) ch = ch == '_' ? ' ' : ch;
        out += fmt::format("{}{} {}", out.size() == first ? "" : ", ", name, n);
    }
    return out.size() == first ? "" : out;
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

namespace {

std::string compose(const LiveStatus& s, std::int64_t since_report_us, std::int64_t in_phase_us, std::optional<double> per_second,
                    const Shown& shown) {
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
        if (shown.bar) clock += " " + bar(elapsed, s.max_duration_us);
    }
    std::string what(to_string(s.phase));
    if (s.generation > 1) what += fmt::format(" (generation {})", s.generation);
    if (!s.detail.empty() && shown.detail_head) {
        const auto comma = s.detail.find(", ");
        what += ": " + (shown.detail_tail ? s.detail : s.detail.substr(0, comma));
    }
    if (s.phase == RunPhase::restarting) what += fmt::format(", {}", seconds(in_phase_us));
    std::string line = fmt::format("{}  {}", clock, what);
    if (s.phase != RunPhase::starting || s.elapsed_us > 0) {
        line += " | ";
        if (shown.rate) line += (per_second ? fmt::format("{:.0f} req/s", *per_second) : std::string("- req/s")) + ", ";
        line += fmt::format("in flight {}", s.counts.in_flight);
        if (shown.done) line += fmt::format(", done {}", s.counts.completed);
        const auto seen = outcomes(s, shown);
        // Without "done" the counts are not a breakdown of "in flight 3": no parentheses then.
        if (!seen.empty()) line += shown.done ? " (" + seen + ")" : ", " + seen;
    }
    return line;
}

} // namespace

std::string live_line(const LiveStatus& s, std::int64_t since_report_us, std::int64_t in_phase_us, std::optional<double> per_second,
                      const LiveLineStyle& style) {
    Shown shown;
    shown.bar = style.bar;
    const auto fits = [&](const std::string& line) { return style.width <= 1 || line.size() <= style.width - 1; };
    std::string line = compose(s, since_report_us, in_phase_us, per_second, shown);
    // Each step leaves out one more part, least useful first (Shown).
    const std::array<bool Shown::*, 6> parts{&Shown::bar, &Shown::rate, &Shown::detail_tail, &Shown::calm_outcomes, &Shown::done,
                                             &Shown::detail_head};
    for (auto part = parts.begin(); !fits(line) && part != parts.end(); ++part) {
        shown.*(*part) = false;
        line = compose(s, since_report_us, in_phase_us, per_second, shown);
    }
    for (shown.failures = outcome_count - 1; !fits(line) && shown.failures >= 1; --shown.failures) {
        line = compose(s, since_report_us, in_phase_us, per_second, shown);
    }
    if (!fits(line)) line.resize(style.width - 1);  // a wrapped line cannot be redrawn
    if (style.colour) {
        const std::string phase(to_string(s.phase));
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

#include "timeline.hpp"

#include <algorithm>
#include <csignal>
#include <random>

namespace lastcall::harness {

Timeline::Timeline(const std::vector<TimelineEntry>& entries, Duration jitter, std::uint64_t seed) {
    std::mt19937_64 rng(seed);
    std::uniform_real_distribution<double> spread(-1.0, 1.0);
    for (const auto& entry : entries) {
        // One draw per entry, whatever its count: a repeated entry keeps its period, and the draws
        // of the entries after it stay what they were.
        Duration moved{};
        if (entry.at && jitter > Duration::zero()) moved = Duration(static_cast<Duration::rep>(spread(rng) * static_cast<double>(jitter.count())));
        for (int k = 0; k < std::max(entry.count, 1); ++k) {
            Slot slot{&entry, std::nullopt, entry.every * k};
            if (entry.at) slot.due = std::max(*entry.at + entry.delay + moved, Duration::zero()) + slot.offset;
            slots_.push_back(slot);
        }
    }
}

bool Timeline::holds(const Condition& c, const TimelineConditions& now) {
    switch (c.kind) {
    case Condition::Kind::in_flight_at_least: return now.in_flight >= c.threshold;
    case Condition::Kind::not_ready: return !now.ready;
    case Condition::Kind::exited: return now.exited;
    case Condition::Kind::after_signal: return now.signal_sent;
    }
    return false;
}

std::vector<DueAction> Timeline::advance(Duration now, const TimelineConditions& conditions) {
    std::vector<DueAction> due;
    for (auto it = resumes_.begin(); it != resumes_.end();) {
        if (it->due <= now) {
            due.push_back(*it);
            it = resumes_.erase(it);
        } else {
            ++it;
        }
    }
    for (auto& slot : slots_) {
        if (slot.fired) continue;
        if (!slot.due && slot.entry->when && holds(*slot.entry->when, conditions)) slot.due = now + slot.entry->delay + slot.offset;
        if (!slot.due || *slot.due > now) continue;
        slot.fired = true;
        if (const auto* pause = std::get_if<PauseAction>(&slot.entry->action)) {
            due.push_back(DueAction{SignalAction{SIGSTOP, SignalTarget::main, 0, SignalPurpose::pause}, slot.entry, *slot.due});
            resumes_.push_back(DueAction{SignalAction{SIGCONT, SignalTarget::main, 0, SignalPurpose::pause}, slot.entry, now + pause->duration, true});
        } else {
            due.push_back(DueAction{slot.entry->action, slot.entry, *slot.due});
        }
    }
    return due;
}

bool Timeline::done() const {
    return resumes_.empty() && std::all_of(slots_.begin(), slots_.end(), [](const Slot& s) { return s.fired; });
}

bool Timeline::restart_planned() const {
    return std::any_of(slots_.begin(), slots_.end(),
                       [](const Slot& s) { return !s.fired && std::holds_alternative<RestartTargetAction>(s.entry->action); });
}

std::vector<std::optional<Duration>> Timeline::scheduled() const {
    std::vector<std::optional<Duration>> out;
    for (const auto& slot : slots_) {
        if (slot.offset == Duration::zero()) out.push_back(slot.entry->at ? slot.due : std::nullopt);  // the first firing of each
    }
    return out;
}

} // namespace lastcall::harness

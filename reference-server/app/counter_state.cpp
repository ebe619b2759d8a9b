#include "counter_state.hpp"

#include <fmt/format.h>

#include <charconv>
#include <limits>
#include <stdexcept>

namespace lastcall::server {

namespace {

template <class Number>
Number parse_line(std::string_view& text, std::string_view key) {
    const auto prefix = fmt::format("{} ", key);
    const auto end = text.find('\n');
    if (text.substr(0, prefix.size()) != prefix || end == std::string_view::npos) {
        throw std::runtime_error(fmt::format("expected a line '{} N'", key));
    }
    const auto digits = text.substr(prefix.size(), end - prefix.size());
    Number value{};
    const auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
    if (ec != std::errc{} || ptr != digits.data() + digits.size()) {
        throw std::runtime_error(fmt::format("bad {} '{}'", key, digits));
    }
    text.remove_prefix(end + 1);
    return value;
}

void put_i64(std::string& out, std::int64_t value) {
    const auto bits = static_cast<std::uint64_t>(value);
    for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>((bits >> (8 * i)) & 0xff));
}

std::int64_t get_i64(std::string_view in, std::size_t at) {
    std::uint64_t bits = 0;
    for (std::size_t i = 0; i < 8; ++i) bits |= std::uint64_t{static_cast<unsigned char>(in[at + i])} << (8 * i);
    return static_cast<std::int64_t>(bits);
}

bool adds_up(std::int64_t before, const Increment& step) {
    std::int64_t sum = 0;
    return !__builtin_add_overflow(before, step.by, &sum) && sum == step.value;
}

} // namespace

std::string encode_checkpoint(const CounterState& state) {
    return fmt::format("counter {}\njournal_seq {}\n", state.value, state.seq);
}

CounterState decode_checkpoint(const std::string& payload, std::string* rest) {
    std::string_view text(payload);
    CounterState state;
    state.value = parse_line<std::int64_t>(text, "counter");
    if (!text.empty()) state.seq = parse_line<std::uint64_t>(text, "journal_seq");
    if (rest) *rest = std::string(text);
    else if (!text.empty()) throw std::runtime_error("unexpected content after journal_seq");
    return state;
}

std::string encode_increment(const Increment& increment) {
    std::string out;
    put_i64(out, increment.by);
    put_i64(out, increment.value);
    return out;
}

Increment decode_increment(std::string_view payload) {
    if (payload.size() != 16) throw std::runtime_error(fmt::format("an increment record has {} bytes, not 16", payload.size()));
    return Increment{get_i64(payload, 0), get_i64(payload, 8)};
}

Replay replay(const CounterState& from, const std::vector<coordinator::Journal::Record>& records,
              const std::filesystem::path& journal_file) {
    const auto refuse = [&journal_file](std::uint64_t seq, const std::string& why) {
        return std::runtime_error(fmt::format("journal {} record {}: {}; refusing to start", journal_file.string(), seq, why));
    };
    Replay result{from, 0};
    for (const auto& record : records) {
        Increment step;
        try {
            step = decode_increment(record.payload);
        } catch (const std::exception& e) {
            throw refuse(record.seq, e.what());
        }
        if (record.seq < from.seq) continue;  // kept from before the checkpoint (see CounterStore)
        if (record.seq == from.seq) {
            if (step.value != from.value) {
                throw refuse(record.seq, fmt::format("says the counter was {}, the checkpoint says {}", step.value, from.value));
            }
            continue;
        }
        auto& state = result.state;
        if (record.seq != state.seq + 1) {
            throw refuse(record.seq, fmt::format("records {}..{} are missing (the checkpoint covers up to {})",
                                                 state.seq + 1, record.seq - 1, from.seq));
        }
        if (!adds_up(state.value, step)) {
            throw refuse(record.seq, fmt::format("{} + {} is not {}", state.value, step.by, step.value));
        }
        state = CounterState{step.value, record.seq};
        ++result.applied;
    }
    return result;
}

} // namespace lastcall::server

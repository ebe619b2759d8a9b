#include "sse_parser.hpp"

#include <algorithm>
#include <charconv>
#include <utility>

namespace lastcall::harness {

namespace {
constexpr std::string_view bom = "\xEF\xBB\xBF";

std::size_t find_line_end(std::string_view text, std::size_t from) {
    const auto it = std::find_if(text.begin() + static_cast<std::ptrdiff_t>(from), text.end(),
                                 [](char c) { return c == '\n' || c == '\r'; });
    return it == text.end() ? std::string_view::npos : static_cast<std::size_t>(it - text.begin());
}
} // namespace

SseParser::SseParser(SseEventSink& sink, std::size_t field_limit) : sink_(sink), field_limit_(field_limit) {}

void SseParser::feed(std::string_view in) {
    std::size_t at = 0;
    if (after_cr_ && !in.empty()) {
        after_cr_ = false;
        if (in[0] == '\n') at = 1;  // the LF of a CRLF split across reads
    }
    while (at < in.size()) {
        const auto end = find_line_end(in, at);
        if (end == std::string_view::npos) {
            append_partial(in.substr(at));
            return;
        }
        const auto piece = in.substr(at, end - at);
        if (line_.empty()) {
            process_line(piece);  // the common case: the whole line is in this read, no copy
        } else {
            append_partial(piece);
            process_line(line_);
            line_.clear();
        }
        if (in[end] == '\r') {
            if (end + 1 == in.size()) after_cr_ = true;
            else if (in[end + 1] == '\n') at = end + 1;  // CRLF is one line end
        }
        at = std::max(at, end) + 1;
    }
}

void SseParser::append_partial(std::string_view piece) {
    if (!keep(line_, piece)) line_truncated_ = true;
}

bool SseParser::keep(std::string& into, std::string_view text) {
    const auto room = field_limit_ > into.size() ? field_limit_ - into.size() : 0;
    into.append(text.substr(0, room));
    return text.size() <= room;
}

void SseParser::process_line(std::string_view line) {
    const bool cut = std::exchange(line_truncated_, false);
    if (first_line_) {
        first_line_ = false;
        if (line.substr(0, bom.size()) == bom) line.remove_prefix(bom.size());
    }
    if (line.empty()) return dispatch();
    if (line.front() == ':') return;  // a comment (often a keep-alive)
    const auto colon = line.find(':');
    if (colon == std::string_view::npos) return process_field(line, {}, cut);
    auto value = line.substr(colon + 1);
    if (!value.empty() && value.front() == ' ') value.remove_prefix(1);
    process_field(line.substr(0, colon), value, cut);
}

void SseParser::process_field(std::string_view name, std::string_view value, bool cut) {
    if (name == "data") {
        if (!keep(data_, value) || !keep(data_, "\n") || cut) truncated_ = true;
    } else if (name == "event") {
        type_.assign(value);  // bounded: a line is
        truncated_ = truncated_ || cut;
    } else if (name == "id") {
        if (value.find('\0') == std::string_view::npos) id_buffer_.assign(value);
    } else if (name == "retry") {
        std::uint64_t ms = 0;
        const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), ms);
        const bool digits_only = !value.empty() && std::all_of(value.begin(), value.end(), [](char c) { return c >= '0' && c <= '9'; });
        if (digits_only && ec == std::errc{} && end == value.data() + value.size()) retry_ms_ = ms;
    }
    // Any other field is ignored, as the standard says.
}

void SseParser::dispatch() {
    last_event_id_ = id_buffer_;
    if (data_.empty()) {
        type_.clear();
        truncated_ = false;
        return;
    }
    std::string_view data = data_;
    if (data.back() == '\n') data.remove_suffix(1);
    ++dispatched_;
    sink_.on_event(SseEvent{type_.empty() ? std::string_view("message") : std::string_view(type_), data, last_event_id_, truncated_});
    data_.clear();
    type_.clear();
    truncated_ = false;
}

} // namespace lastcall::harness

#pragma once
// A text/event-stream tokenizer as the WHATWG HTML standard specifies it ("Interpreting an event
// stream", section 9.2.6): lines end in CRLF, LF or a lone CR; one leading BOM is ignored; lines
// starting with ':' are comments; `event`, `data` (multi-line, joined by LF), `id` and `retry`
// fields; an empty line dispatches the event, and only when it has data; an event cut by the end
// of the stream is never dispatched. Fed incrementally, in pieces of any size (a line or a CRLF
// may be split across reads), it keeps only the event being assembled, each field bounded: a
// stream of any length costs constant memory.
//
// What an event means (a completion marker, a shutdown notice) is a convention of the target,
// not of the format: it sits on top as an SseEventSink (see stream_end.hpp).
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace lastcall::harness {

struct SseEvent {
    std::string_view type;           // "message" when the event had no `event` field
    std::string_view data;           // the data lines joined by LF, without the last LF
    std::string_view last_event_id;  // as of this event (ids persist across events)
    bool truncated = false;          // a field was longer than the parser keeps; the data is its start
};

class SseEventSink {
public:
    virtual void on_event(const SseEvent& event) = 0;

protected:
    ~SseEventSink() = default;
};

class SseParser {
public:
    static constexpr std::size_t default_field_limit = 64 * 1024;

    // `field_limit` bounds a line and an event's data: longer ones are kept up to the limit and the
    // event is marked truncated.
    explicit SseParser(SseEventSink& sink, std::size_t field_limit = default_field_limit);

    void feed(std::string_view bytes);

    std::uint64_t dispatched() const { return dispatched_; }
    // The last valid `retry` field, in milliseconds.
    std::optional<std::uint64_t> reconnection_time_ms() const { return retry_ms_; }
    // True while an event is being assembled (data or type seen, no blank line yet): at the end
    // of the stream it is lost, as the standard says.
    bool event_pending() const { return !data_.empty() || !type_.empty() || !line_.empty(); }

private:
    void append_partial(std::string_view piece);
    void process_line(std::string_view line);
    void process_field(std::string_view name, std::string_view value, bool cut);
    void dispatch();
    bool keep(std::string& into, std::string_view text);  // false: cut at the limit

    SseEventSink& sink_;
    std::size_t field_limit_;
    std::string line_;           // a line split across feeds
    std::string data_;
    std::string type_;
    std::string id_buffer_;
    std::string last_event_id_;
    std::optional<std::uint64_t> retry_ms_;
    std::uint64_t dispatched_ = 0;
    bool after_cr_ = false;      // the last feed ended in CR: a leading LF of the next belongs to it
    bool first_line_ = true;     // where a BOM may sit
    bool line_truncated_ = false;  // the line being assembled went past the limit
    bool truncated_ = false;       // the event being assembled lost bytes
};

} // namespace lastcall::harness

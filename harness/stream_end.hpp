#pragma once
// How a stream tells its end, on top of the SSE tokenizer. Today one convention, the reference
// server's (DESIGN.md): an event named `end` whose data is JSON with "reason": "shutdown" (ended
// early, cleanly) or "complete". The last `end` event wins. A later issue makes the convention a
// scenario setting (`data: [DONE]` markers and the like): another SseEventSink of the same shape.
#include "history.hpp"
#include "sse_parser.hpp"

#include <cstdint>

namespace lastcall::harness {

class EndEventConvention final : public SseEventSink {
public:
    void on_event(const SseEvent& event) override;

    std::uint32_t events() const { return events_; }  // every dispatched event, data-only ones too
    StreamEnd end() const { return end_; }

private:
    std::uint32_t events_ = 0;
    StreamEnd end_ = StreamEnd::none;
};

} // namespace lastcall::harness

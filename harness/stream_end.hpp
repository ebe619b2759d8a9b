#pragma once
// How a stream tells its end, on top of the SSE tokenizer: the scenario's StreamContract
// (scenario.hpp). Every dispatched event counts, data-only ones too (type "message"). The last
// matching marker wins: an `end` marker makes the stream complete, a shutdown notice makes it
// ended by shutdown. Without an `end` marker in the contract, the end of the HTTP message is the
// end of the stream (request_exchange.cpp decides that; this only reports markers).
#include "history.hpp"
#include "scenario.hpp"
#include "sse_parser.hpp"

#include <cstdint>
#include <string>

namespace lastcall::harness {

bool matches(const EventMatcher& matcher, const SseEvent& event);

// "data: [DONE]", "event: end data containing shutdown": for reports.
std::string describe(const EventMatcher& matcher);

class StreamConvention final : public SseEventSink {
public:
    explicit StreamConvention(const StreamContract& contract) : contract_(contract) {}

    void on_event(const SseEvent& event) override;

    std::uint32_t events() const { return events_; }
    StreamEnd end() const { return end_; }  // from markers only: none, complete or shutdown

private:
    const StreamContract& contract_;
    std::uint32_t events_ = 0;
    StreamEnd end_ = StreamEnd::none;
};

} // namespace lastcall::harness

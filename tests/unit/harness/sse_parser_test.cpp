// The text/event-stream tokenizer against the WHATWG standard's rules ("Interpreting an event
// stream"), fed whole and split at every byte; and today's end-of-stream convention on top of it.
#include "sse_parser.hpp"
#include "stream_end.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace lastcall::harness {
namespace {

struct Seen {
    std::string type, data, id;
    bool truncated = false;
    bool operator==(const Seen&) const = default;
};

void PrintTo(const Seen& s, std::ostream* out) { *out << "{" << s.type << ", '" << s.data << "', id '" << s.id << "'}"; }

class Collector final : public SseEventSink {
public:
    void on_event(const SseEvent& e) override {
        events.push_back({std::string(e.type), std::string(e.data), std::string(e.last_event_id), e.truncated});
    }
    std::vector<Seen> events;
};

std::vector<Seen> parse(std::string_view stream, std::size_t limit = SseParser::default_field_limit) {
    Collector sink;
    SseParser parser(sink, limit);
    parser.feed(stream);
    return sink.events;
}

// The same stream fed in two pieces, split at every position: the result never depends on where
// reads end.
void expect_split_invariant(std::string_view stream) {
    const auto whole = parse(stream);
    for (std::size_t at = 0; at <= stream.size(); ++at) {
        Collector sink;
        SseParser parser(sink);
        parser.feed(stream.substr(0, at));
        parser.feed(stream.substr(at));
        EXPECT_EQ(sink.events, whole) << "split at " << at;
    }
    Collector sink;  // and byte by byte
    SseParser parser(sink);
    for (const char c : stream) parser.feed(std::string_view(&c, 1));
    EXPECT_EQ(sink.events, whole) << "byte by byte";
}

TEST(SseParser, FieldsOfOneEvent) {
    const auto events = parse("id: 7\nevent: tick\ndata: {\"seq\":1}\n\n");
    ASSERT_EQ(events.size(), 1u);
    EXPECT_EQ(events[0], (Seen{"tick", "{\"seq\":1}", "7"}));
}

TEST(SseParser, DataOnlyEventsAreMessages) {
    const auto events = parse("data: a\n\ndata: b\n\n");
    ASSERT_EQ(events.size(), 2u);
    EXPECT_EQ(events[0], (Seen{"message", "a", ""}));
    EXPECT_EQ(events[1], (Seen{"message", "b", ""}));
}

TEST(SseParser, MultiLineDataIsJoinedWithLineFeeds) {
    const auto events = parse("data: one\ndata:two\ndata\ndata:  three\n\n");
    ASSERT_EQ(events.size(), 1u);
    EXPECT_EQ(events[0].data, "one\ntwo\n\n three");  // one leading space is removed, not two
}

TEST(SseParser, CommentsAndUnknownFieldsAreIgnored) {
    const auto events = parse(": keep-alive\nfoo: bar\n:\ndata: x\n\n");
    ASSERT_EQ(events.size(), 1u);
    EXPECT_EQ(events[0].data, "x");
}

TEST(SseParser, AnEventWithoutDataIsNotDispatchedAndItsTypeIsForgotten) {
    const auto events = parse("event: end\n\ndata: x\n\n");
    ASSERT_EQ(events.size(), 1u);
    EXPECT_EQ(events[0].type, "message");
}

TEST(SseParser, AllThreeLineEndsAndTheirMixes) {
    const std::string lf = "event: a\ndata: 1\n\n";
    const std::string crlf = "event: a\r\ndata: 1\r\n\r\n";
    const std::string cr = "event: a\rdata: 1\r\r";
    const std::string mixed = "event: a\rdata: 1\n\r\n";
    for (const auto& stream : {lf, crlf, cr, mixed}) {
        const auto events = parse(stream);
        ASSERT_EQ(events.size(), 1u) << stream;
        EXPECT_EQ(events[0], (Seen{"a", "1", ""}));
    }
    EXPECT_EQ(parse("data: 1\n\rdata: 2\r\n\r\n").size(), 2u);  // LF then CR: two line ends, the second blank
}

TEST(SseParser, EventsSplitAcrossReadsAtAnyByte) {
    expect_split_invariant("event: a\r\ndata: 1\r\n\r\nid: 9\rdata: 2\r\rdata: x\ndata: y\n\n: c\r\n");
    expect_split_invariant("\xEF\xBB\xBF" "data: bom\r\n\r\n");
}

TEST(SseParser, OneLeadingByteOrderMarkIsIgnored) {
    auto events = parse("\xEF\xBB\xBF" "data: x\n\n");
    ASSERT_EQ(events.size(), 1u);
    EXPECT_EQ(events[0].data, "x");
    // Only at the start: a second one is part of the field name, which is then unknown.
    events = parse("\xEF\xBB\xBF\xEF\xBB\xBF" "data: x\n\n");
    EXPECT_TRUE(events.empty());
}

TEST(SseParser, IdsPersistAndAreSetEvenWithoutData) {
    const auto events = parse("id: 1\ndata: a\n\nid: 2\n\ndata: b\n\nid\ndata: c\n\n");
    ASSERT_EQ(events.size(), 3u);
    EXPECT_EQ(events[0].id, "1");
    EXPECT_EQ(events[1].id, "2");  // set by the blank-line dispatch of an event that had no data
    EXPECT_EQ(events[2].id, "");   // an empty id resets it
}

TEST(SseParser, AnIdWithNullIsIgnored) {
    using namespace std::string_literals;
    const auto events = parse("id: 5\ndata: a\n\nid: x\0y\ndata: b\n\n"s);
    ASSERT_EQ(events.size(), 2u);
    EXPECT_EQ(events[1].id, "5");
}

TEST(SseParser, RetryTakesDigitsOnly) {
    Collector sink;
    SseParser parser(sink);
    parser.feed("retry: 1500\n\nretry: 12x\n\nretry: -1\n\n");
    EXPECT_EQ(parser.reconnection_time_ms(), 1500u);
}

TEST(SseParser, AnEventCutByTheEndOfTheStreamIsNeverDispatched) {
    Collector sink;
    SseParser parser(sink);
    parser.feed("data: complete\n\ndata: cut");
    EXPECT_EQ(sink.events.size(), 1u);
    EXPECT_TRUE(parser.event_pending());
    parser.feed("\n");
    EXPECT_EQ(sink.events.size(), 1u);  // a line, but no blank line yet
    EXPECT_EQ(parser.dispatched(), 1u);
}

TEST(SseParser, LongFieldsAreBoundedAndTheEventMarkedTruncated) {
    const std::string huge(1000, 'x');
    const auto events = parse("data: " + huge + "\n\ndata: small\n\n", 100);
    ASSERT_EQ(events.size(), 2u);
    EXPECT_EQ(events[0].data.size(), 100u);
    EXPECT_TRUE(events[0].truncated);
    EXPECT_EQ(events[1].data, "small");
    EXPECT_FALSE(events[1].truncated);
    // Split across reads too: the partial line stops growing at the limit.
    Collector sink;
    SseParser parser(sink, 100);
    parser.feed("data: ");
    for (int i = 0; i < 100; ++i) parser.feed(huge);
    parser.feed("\n\n");
    ASSERT_EQ(sink.events.size(), 1u);
    EXPECT_LE(sink.events[0].data.size(), 100u);
    EXPECT_TRUE(sink.events[0].truncated);
}

StreamEnd end_of(const StreamContract& contract, std::string_view stream, std::uint32_t* events = nullptr) {
    StreamConvention convention(contract);
    SseParser parser(convention);
    parser.feed(stream);
    if (events) *events = convention.events();
    return convention.end();
}

// lastcall-server's convention, as scenarios/sse-streams.yaml spells it.
StreamContract end_event_contract() {
    StreamContract c;
    c.end = EventMatcher{"end", std::nullopt, R"("reason":"complete")"};
    c.shutdown_notice = EventMatcher{"end", std::nullopt, R"("reason":"shutdown")"};
    return c;
}

TEST(StreamConvention, EndEventWithAReason) {
    const auto c = end_event_contract();
    std::uint32_t events = 0;
    EXPECT_EQ(end_of(c, "event: tick\ndata: 1\n\ndata: 2\n\nevent: end\ndata: {\"reason\":\"shutdown\",\"events\":2}\n\n", &events),
              StreamEnd::shutdown);
    EXPECT_EQ(events, 3u);  // data-only events count
    EXPECT_EQ(end_of(c, "event: end\ndata: {\"reason\":\"complete\"}\n\n"), StreamEnd::complete);
    EXPECT_EQ(end_of(c, "event: end\ndata: {\"reason\":\"bored\"}\n\n"), StreamEnd::none);
    EXPECT_EQ(end_of(c, "event: tick\ndata: {\"reason\":\"complete\"}\n\n"), StreamEnd::none);  // not an end event
    EXPECT_EQ(end_of(c, "event: end\n\n"), StreamEnd::none);  // no data: never dispatched
}

TEST(StreamConvention, TheLastMarkerWins) {
    const auto c = end_event_contract();
    EXPECT_EQ(end_of(c, "event: end\ndata: {\"reason\":\"complete\"}\n\nevent: end\ndata: {\"reason\":\"shutdown\"}\n\n"), StreamEnd::shutdown);
    EXPECT_EQ(end_of(c, "event: end\ndata: {\"reason\":\"shutdown\"}\n\nevent: end\ndata: {\"reason\":\"complete\"}\n\n"), StreamEnd::complete);
}

TEST(StreamConvention, DoneMarkerMatchesDataOnlyEventsExactly) {
    StreamContract c;
    c.end = EventMatcher{std::nullopt, "[DONE]", std::nullopt};
    EXPECT_EQ(end_of(c, "data: {\"x\":1}\n\ndata: [DONE]\n\n"), StreamEnd::complete);
    EXPECT_EQ(end_of(c, "data: [DONE] \n\n"), StreamEnd::none);  // exact
    EXPECT_EQ(end_of(c, "data: [DONE\r\n\r\n"), StreamEnd::none);
    c.end->event = "message";  // a data-only event's type
    EXPECT_EQ(end_of(c, "data: [DONE]\r\n\r\n"), StreamEnd::complete);
    EXPECT_EQ(end_of(c, "event: other\ndata: [DONE]\n\n"), StreamEnd::none);
}

TEST(StreamConvention, NoMarkersReportsNothing) {
    std::uint32_t events = 0;
    EXPECT_EQ(end_of(StreamContract{}, "data: a\n\nevent: end\ndata: x\n\n", &events), StreamEnd::none);
    EXPECT_EQ(events, 2u);
}

TEST(StreamConvention, DescribesMatchers) {
    EXPECT_EQ(describe(EventMatcher{std::nullopt, "[DONE]", std::nullopt}), "data: [DONE]");
    EXPECT_EQ(describe(EventMatcher{"end", std::nullopt, "shutdown"}), "event: end data containing shutdown");
}

} // namespace
} // namespace lastcall::harness

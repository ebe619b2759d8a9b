// The sans-I/O response reader on bytes alone: framings, interim responses, exact byte counts,
// bounds and errors, fed whole and in pieces of every size (the wire splits anywhere). The same
// cases over real sockets are in integration/hostile_target_test.cpp.
#include "response_reader.hpp"

#include <gtest/gtest.h>

#include <optional>
#include <tuple>

namespace lastcall::harness {
namespace {

// Feeds `text` as a caller does: in pieces of `piece` bytes, keeping what the reader did not
// consume and offering it again with the next piece. Returns the bytes left unconsumed.
std::string feed_in_pieces(ResponseReader& reader, std::string_view text, std::size_t piece, bool eof = false) {
    std::string unread;
    for (std::size_t at = 0; at < text.size() && !reader.done() && !reader.failed(); at += piece) {
        unread.append(text.substr(at, piece));
        unread.erase(0, reader.feed(unread));
    }
    if (eof) reader.feed_eof();
    return unread;
}

struct Read {
    bool done = false;
    ReadError error = ReadError::none;
    int status = 0;
    std::uint64_t wire = 0, body = 0;
    std::string kept;
    bool operator==(const Read&) const = default;
};

void PrintTo(const Read& r, std::ostream* out) {
    *out << "{done " << r.done << ", " << to_string(r.error) << ", " << r.status << ", wire " << r.wire << ", body " << r.body << "}";
}

Read read(std::string_view text, std::size_t piece, bool eof = false, bool head_request = false) {
    ResponseReader reader(1024);
    BodyPrefix body(16);
    reader.begin(head_request, &body);
    feed_in_pieces(reader, text, piece, eof);
    return {reader.done(), reader.error(), reader.head().status, reader.wire_bytes(), reader.body_bytes(), body.text()};
}

// Whole, then byte by byte, then in threes: the same result.
Read read_every_way(std::string_view text, bool eof = false, bool head_request = false) {
    const auto whole = read(text, text.size() + 1, eof, head_request);
    EXPECT_EQ(read(text, 1, eof, head_request), whole);
    EXPECT_EQ(read(text, 3, eof, head_request), whole);
    return whole;
}

TEST(ResponseReader, ContentLengthCountedExactly) {
    const std::string text = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello";
    EXPECT_EQ(read_every_way(text), (Read{true, ReadError::none, 200, text.size(), 5, "hello"}));
}

TEST(ResponseReader, ChunkedWithExtensionsAndTrailers) {
    const std::string text = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nX-Trailer: t\r\n\r\n";
    EXPECT_EQ(read_every_way(text), (Read{true, ReadError::none, 200, text.size(), 11, "hello world"}));
}

TEST(ResponseReader, InterimResponsesAreCountedAndSkipped) {
    const std::string text = "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n";
    EXPECT_EQ(read_every_way(text), (Read{true, ReadError::none, 204, text.size(), 0, ""}));
    ResponseReader reader;
    reader.begin(false, nullptr);
    reader.feed(text);
    EXPECT_EQ(reader.interim_responses(), 2);
}

TEST(ResponseReader, ABodyDelimitedByTheCloseEndsAtEof) {
    const std::string text = "HTTP/1.0 200 OK\r\n\r\nuntil the end";
    EXPECT_EQ(read_every_way(text, true), (Read{true, ReadError::none, 200, text.size(), 13, "until the end"}));
    ResponseReader reader;
    reader.begin(false, nullptr);
    reader.feed(text);
    EXPECT_FALSE(reader.done());  // more could come
    reader.feed_eof();
    EXPECT_TRUE(reader.done());
    EXPECT_FALSE(reader.head().keep_alive);
}

TEST(ResponseReader, AHeadRequestsResponseHasNoBodyWhateverItSays) {
    const std::string text = "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n";
    EXPECT_EQ(read_every_way(text, false, true), (Read{true, ReadError::none, 200, text.size(), 0, ""}));
}

TEST(ResponseReader, StopsAtTheEndOfTheResponse) {
    ResponseReader reader;
    reader.begin(false, nullptr);
    const std::string one = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
    EXPECT_EQ(reader.feed(one + "HTTP/1.1 200"), one.size());
    EXPECT_TRUE(reader.done());
    EXPECT_EQ(reader.feed("more"), 0u);
    reader.begin(false, nullptr);  // the next response, same reader
    EXPECT_EQ(reader.feed(one), one.size());
    EXPECT_TRUE(reader.done());
    EXPECT_EQ(reader.wire_bytes(), one.size());
}

TEST(ResponseReader, HeadersOfInterest) {
    ResponseReader reader;
    reader.begin(false, nullptr, true);
    reader.feed("HTTP/1.1 503 Busy\r\nRetry-After: 120\r\nConnection: close\r\nX-Custom: v\r\nContent-Length: 0\r\n\r\n");
    ASSERT_TRUE(reader.done());
    EXPECT_EQ(reader.head().retry_after_s, 120);
    EXPECT_FALSE(reader.head().keep_alive);
    EXPECT_EQ(reader.header("x-custom"), "v");
    EXPECT_EQ(reader.header("absent"), std::nullopt);
    reader.begin(false, nullptr);
    reader.feed("HTTP/1.1 503 Busy\r\nRetry-After: 99999999\r\nContent-Length: 0\r\n\r\n");
    EXPECT_EQ(reader.head().retry_after_s, INT16_MAX);
    EXPECT_TRUE(reader.head().keep_alive);
    EXPECT_TRUE(reader.headers().empty());  // not asked to keep them
}

TEST(ResponseReader, TheHeadIsBoundedEvenWhenItArrivesLineByLine) {
    ResponseReader reader(1024);
    reader.begin(false, nullptr);
    std::string text = "HTTP/1.1 200 OK\r\n";
    for (int i = 0; i < 200; ++i) text += "X-Line: 0123456789\r\n";
    feed_in_pieces(reader, text, 20);
    EXPECT_TRUE(reader.failed());
    EXPECT_EQ(reader.error(), ReadError::header_too_large);
    EXPECT_EQ(reader.describe_error(), "response head larger than 1024 bytes");
}

TEST(ResponseReader, EveryEndOfTheConnectionIsNamed) {
    EXPECT_EQ(read("", 1, true).error, ReadError::eof_before_response);
    EXPECT_EQ(read("HTTP/1.1 200 OK\r\nContent-", 4, true).error, ReadError::eof_in_head);
    EXPECT_EQ(read("HTTP/1.1 100 Continue\r\n\r\n", 4, true).error, ReadError::eof_in_head);
    EXPECT_EQ(read("HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nhalf", 4, true).error, ReadError::eof_in_body);
    EXPECT_EQ(read("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nhalf\r\n", 4, true).error, ReadError::eof_in_body);
}

TEST(ResponseReader, MalformedAnswersAreErrorsWithTheOffendingLine) {
    struct Case {
        std::string text;
        ReadError error;
        std::string description;
    };
    const Case cases[] = {
        {"<html>", ReadError::bad_status_line, "malformed status line '<html>'"},
        {"HTTP/1.1 OK\r\n\r\n", ReadError::bad_status_line, "malformed status line 'HTTP/1.1 OK'"},
        {"HTTP/1.1 200 OK\r\nBad Header\r\n\r\n", ReadError::bad_header, "malformed header line 'Bad Header'"},
        {"HTTP/1.1 200 OK\r\nContent-Length: 1x\r\n\r\n", ReadError::bad_length, "bad message length in 'Content-Length: 1x'"},
        {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nq\r\n", ReadError::bad_chunk, "bad chunk at 'q'"},
        {"HTTP/1.1 101 Switching Protocols\r\n\r\n", ReadError::unexpected_switch, "101 Switching Protocols to a request that asked for no upgrade"},
        {"HTTP/1.1 200 \x01\x02\r\n\r\n", ReadError::bad_status_line, "malformed status line 'HTTP/1.1 200 ?" "?'"},
    };
    for (const auto& c : cases) {
        ResponseReader reader;
        reader.begin(false, nullptr);
        reader.feed(c.text);
        EXPECT_EQ(reader.error(), c.error) << c.text;
        EXPECT_EQ(reader.describe_error(), c.description) << c.text;
    }
}

// A reader keeps the head of its last whole response and reads a next one with the same head
// bytes without parsing it again: what it reads must be what a parse reads, in every case.
TEST(ResponseReader, ARepeatedHeadReadsAsItsFirstParse) {
    const std::string head = "HTTP/1.1 503 Service Unavailable\r\nRetry-After: 7\r\nContent-Length: 3\r\n\r\n";
    const std::string response = head + "ok\n";
    ResponseReader reader;
    BodyPrefix body(16);
    const auto read_one = [&](std::string_view text, bool head_request = false) {
        body = BodyPrefix(16);
        reader.begin(head_request, &body);
        const auto unread = feed_in_pieces(reader, text, text.size() + 1).size();
        return std::tuple{reader.done(), reader.head().status, reader.head().retry_after_s, reader.head().keep_alive,
                          reader.head().content_length, reader.wire_bytes(), reader.body_bytes(), body.text(), text.size() - unread};
    };
    const auto first = read_one(response);
    EXPECT_EQ(first, std::tuple(true, 503, std::int16_t{7}, true, std::optional<std::uint64_t>{3}, std::uint64_t{response.size()},
                                std::uint64_t{3}, std::string("ok\n"), response.size()));
    EXPECT_EQ(read_one(response), first);  // replayed
    // Bytes after the response stay unconsumed (they are the next response's, or unsolicited).
    const auto then_more = read_one(response + "HTTP/1.1 200 OK\r\n");
    EXPECT_EQ(std::get<5>(then_more), response.size());
    EXPECT_EQ(std::get<8>(then_more), response.size());
    // The same head with its body still to come is parsed as it arrives.
    body = BodyPrefix(16);
    reader.begin(false, &body);
    EXPECT_EQ(feed_in_pieces(reader, response, head.size() + 1), "");
    EXPECT_TRUE(reader.done());
    EXPECT_EQ(reader.body_bytes(), 3u);
    EXPECT_EQ(body.text(), "ok\n");
    // A head that differs in one byte near its end is parsed: its own length.
    const auto longer = read_one(head.substr(0, head.size() - 5) + "4\r\n\r\nok\n!");
    EXPECT_EQ(std::get<6>(longer), 4u);
    EXPECT_EQ(read_one(response), first);
    // The same head answering a HEAD request has no body, whatever it says: what follows is not its.
    const auto to_head = read_one(response, true);
    EXPECT_TRUE(std::get<0>(to_head));
    EXPECT_EQ(std::get<6>(to_head), 0u);
    EXPECT_EQ(std::get<5>(to_head), head.size());
    EXPECT_EQ(std::get<8>(to_head), head.size());
    // Another head is parsed (and then kept).
    const std::string other = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok";
    const auto parsed = read_one(other);
    EXPECT_EQ(std::get<1>(parsed), 200);
    EXPECT_FALSE(std::get<3>(parsed));
    EXPECT_EQ(std::get<6>(parsed), 2u);
    EXPECT_EQ(read_one(other), parsed);
    // A truncated repeat is an end inside the body, as parsed.
    reader.begin(false, nullptr);
    feed_in_pieces(reader, other.substr(0, other.size() - 1), other.size(), true);
    EXPECT_EQ(reader.error(), ReadError::eof_in_body);
}

// The repeated head is shared by the thread's readers (a load thread's connections all read the
// same one), so what one reader parsed another replays, but only under the same header limit:
// a head a larger limit let through is too large for a reader with a smaller one.
TEST(ResponseReader, AnotherReaderReplaysTheHeadOnlyUnderTheSameHeaderLimit) {
    const std::string head = "HTTP/1.1 200 OK\r\nX-Padding: " + std::string(200, 'p') + "\r\nContent-Length: 2\r\n\r\n";
    const std::string response = head + "ok";
    const auto read_with = [&](ResponseReader& reader) {
        reader.begin(false, nullptr);
        feed_in_pieces(reader, response, response.size() + 1);
        return std::tuple{reader.done(), reader.error(), reader.head().status, reader.body_bytes(), reader.wire_bytes()};
    };
    ResponseReader first;
    const auto parsed = read_with(first);
    EXPECT_EQ(parsed, std::tuple(true, ReadError::none, 200, std::uint64_t{2}, std::uint64_t{response.size()}));
    ResponseReader second;  // same limit: reads it as the first did
    EXPECT_EQ(read_with(second), parsed);
    ResponseReader small(128);
    EXPECT_EQ(std::get<1>(read_with(small)), ReadError::header_too_large);
}

TEST(BodyPrefix, KeepsTheStartAndSaysItCut) {
    BodyPrefix body(4);
    body.on_body("ab");
    body.on_body("cdef");
    EXPECT_EQ(body.text(), "abcd");
    EXPECT_TRUE(body.truncated());
}

} // namespace
} // namespace lastcall::harness

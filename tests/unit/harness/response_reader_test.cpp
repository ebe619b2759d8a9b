// The sans-I/O response reader on bytes alone: framings, interim responses, exact byte counts,
// bounds and errors, fed whole and in pieces of every size (the wire splits anywhere). The same
// cases over real sockets are in integration/hostile_target_test.cpp.
#include "response_reader.hpp"

#include <gtest/gtest.h>

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

TEST(BodyPrefix, KeepsTheStartAndSaysItCut) {
    BodyPrefix body(4);
    body.on_body("ab");
    body.on_body("cdef");
    EXPECT_EQ(body.text(), "abcd");
    EXPECT_TRUE(body.truncated());
}

} // namespace
} // namespace lastcall::harness

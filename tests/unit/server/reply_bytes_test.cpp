// reply_bytes() writes what Beast's serializer wrote before it (status line, field order, the
// Connection header by version, Content-Length, HEAD without the body): each reply the server
// sends, in each way it is sent, against Beast's own serialization of the same response.
#include "http_reply.hpp"

#include <boost/beast/http.hpp>
#include <gtest/gtest.h>

#include <sstream>

namespace lastcall::server {
namespace {

namespace http = boost::beast::http;

// What write_reply sent with Beast: the same response object, serialized by Beast.
std::string beast_bytes(const Reply& reply, ReplyOptions options) {
    http::response<http::string_body> res{static_cast<http::status>(reply.status), options.version};
    res.set(http::field::server, "lastcall-server");
    res.set(http::field::content_type, reply.content_type);
    for (const auto& [name, value] : reply.headers) res.set(name, value);
    res.keep_alive(!options.announce_close);
    res.body() = reply.body;
    res.prepare_payload();
    std::ostringstream out;
    if (options.head_only) out << res.base();
    else out << res;
    return out.str();
}

const Reply replies[] = {
    {200, "application/json", R"({"slept_ms":0})", {}},
    {200, "text/plain", "ready\n", {}},
    {503, "text/plain", "shutting down\n", {{"Retry-After", "1"}}},
    {204, "text/plain", "", {{"Allow", "GET, HEAD, OPTIONS"}}},
    {405, "application/json", R"({"error":"method not allowed"})", {{"Allow", "POST, OPTIONS"}}},
    {404, "application/json", R"({"error":"not found"})", {}},
    {413, "application/json", R"({"error":"body limit exceeded"})", {}},
    {505, "application/json", R"({"error":"bad version"})", {}},
    {507, "application/json", R"({"error":"too many"})", {}},
    {202, "application/json", std::string(70000, 'x'), {}},
    {200, "text/plain; version=0.0.4", "# HELP x\n", {}},
};

TEST(ReplyBytes, SameAsBeastForEveryReplyVersionAndConnection) {
    for (const auto& reply : replies) {
        for (const unsigned version : {10u, 11u}) {
            for (const bool announce_close : {false, true}) {
                for (const bool head_only : {false, true}) {
                    const ReplyOptions options{version, announce_close, head_only};
                    EXPECT_EQ(reply_bytes(reply, options), beast_bytes(reply, options))
                        << reply.status << " HTTP/" << version << (announce_close ? " close" : " keep-alive") << (head_only ? " HEAD" : "");
                }
            }
        }
    }
}

// The session builds a reply into a string it keeps between replies: appended, never cut.
TEST(ReplyBytes, AppendedAfterWhatTheStringHolds) {
    const Reply ok{200, "text/plain", "ok\n", {}};
    std::string out = "kept";
    append_reply_bytes(out, ok, {11, false, false});
    EXPECT_EQ(out, "kept" + reply_bytes(ok, {11, false, false}));
}

TEST(ReplyBytes, ClosesOnlyWhereAnnounced) {
    const Reply ok{200, "text/plain", "ok\n", {}};
    EXPECT_EQ(reply_bytes(ok, {11, false, false}),
              "HTTP/1.1 200 OK\r\nServer: lastcall-server\r\nContent-Type: text/plain\r\nContent-Length: 3\r\n\r\nok\n");
    EXPECT_EQ(reply_bytes(ok, {11, true, true}),
              "HTTP/1.1 200 OK\r\nServer: lastcall-server\r\nContent-Type: text/plain\r\nConnection: close\r\nContent-Length: 3\r\n\r\n");
}

} // namespace
} // namespace lastcall::server

#pragma once
// What RFC 9112 obliges a server to refuse, judged on a request's head before its body is read,
// apart from Beast so that it is tested as a table. Beast's parser already refuses malformed start
// lines and field lines, bad or conflicting Content-Length, and a duplicated chunked coding; these
// rules close what it lets through:
//   - Transfer-Encoding whose last coding is not chunked (Beast reads no body, so the body would run
//     as the next request: request smuggling) -> 400 and close (RFC 9112 6.3);
//   - Transfer-Encoding with Content-Length, or in an HTTP/1.0 request -> 400 and close (6.1);
//   - a coding other than chunked before it -> 501 and close (6.1: not understood);
//   - an HTTP/1.1 request without Host, or with more than one, or an invalid one -> 400 (3.2);
//   - a request-target in no form the method allows -> 400 (3.2); absolute-form is accepted and
//     reduced to origin-form, its authority winning over Host (3.2.2);
//   - a request-target over 8 KiB -> 414 (3); a major version other than 1 -> 505; an Expect
//     other than 100-continue -> 417 (RFC 9110 10.1.1).
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace lastcall::server {

struct RequestHead {
    std::string_view method;
    std::string_view target;
    unsigned version = 11;  // major * 10 + minor, as Beast gives it
    std::vector<std::pair<std::string_view, std::string_view>> fields;  // as sent, in order
};

struct RequestVerdict {
    int status = 0;           // 0: acceptable
    std::string reason;       // for the 4xx/5xx body
    bool close = false;       // the framing cannot be trusted: close after answering
    std::string target;       // origin-form ("/path?query"), or "*" for OPTIONS *
    bool expect_continue = false;
};

RequestVerdict judge_request(const RequestHead& head);

// "http://host:port/path?q" -> "/path?q"; nullopt if `target` is not absolute-form http(s).
std::optional<std::string> origin_form_of_absolute(std::string_view target);

} // namespace lastcall::server

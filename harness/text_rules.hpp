#pragma once
// What the strings of a scenario may hold. Requests go onto the wire verbatim, so a CR or LF in a
// header would smuggle a second header or request (RFC 9110 5.5, 5.6.2; RFC 9112 3.2); a scenario
// name becomes a directory that lastcall removes first, so it must stay one path component.
#include <string>
#include <string_view>

namespace lastcall::harness {

// RFC 9110 5.6.2 token: methods and header names. Not empty.
bool is_http_token(std::string_view text);
// RFC 9110 5.5 field value: visible characters, spaces and tabs inside, no CR, LF, NUL or other
// control character, no leading or trailing space (a parser would strip it). May be empty.
bool is_http_field_value(std::string_view text);
// RFC 9112 3.2.1 origin-form as lastcall sends it: "/" then visible ASCII, no space.
bool is_origin_form(std::string_view text);
// A scenario or workload name: 1 to ranges::max_name_length of [A-Za-z0-9._-], not starting with
// '.' (so never "." or "..", never hidden).
bool is_safe_name(std::string_view text);

// `text` for an error message: control characters and bytes outside printable ASCII escaped
// (\n, \x01), at most 60 characters then "...".
std::string printable(std::string_view text);

} // namespace lastcall::harness

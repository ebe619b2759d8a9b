#include "request_rules.hpp"

#include <algorithm>
#include <array>
#include <cctype>

namespace lastcall::server {

namespace {

// ASCII only, as field names and codings are (std::tolower asks the locale: a call per character,
// on every request).
constexpr char ascii_lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

bool iequals(std::string_view a, std::string_view b) {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) { return ascii_lower(x) == ascii_lower(y); });
}

// reg-name and IPv4 characters (RFC 3986 3.2.2: unreserved, pct-encoded's '%', sub-delims).
constexpr auto reg_name_chars = [] {
    std::array<bool, 256> table{};
    for (int c = '0'; c <= '9'; ++c) table[static_cast<std::size_t>(c)] = true;
    for (int c = 'a'; c <= 'z'; ++c) table[static_cast<std::size_t>(c)] = true;
    for (int c = 'A'; c <= 'Z'; ++c) table[static_cast<std::size_t>(c)] = true;
    for (const char c : std::string_view("-._~%!$&'()*+,;=")) table[static_cast<unsigned char>(c)] = true;
    return table;
}();

std::string_view trim(std::string_view text) {
    while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
    while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
    return text;
}

// Every element of every field line called `name`, comma lists split and trimmed (RFC 9110 5.3).
std::vector<std::string_view> elements(const RequestHead& head, std::string_view name, std::size_t* lines = nullptr) {
    std::vector<std::string_view> out;
    std::size_t count = 0;
    for (const auto& [field, value] : head.fields) {
        if (!iequals(field, name)) continue;
        ++count;
        auto rest = value;
        while (!rest.empty()) {
            const auto comma = rest.find(',');
            if (const auto element = trim(rest.substr(0, comma)); !element.empty()) out.push_back(element);
            rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
        }
    }
    if (lines) *lines = count;
    return out;
}

std::size_t count_lines(const RequestHead& head, std::string_view name) {
    return static_cast<std::size_t>(std::count_if(head.fields.begin(), head.fields.end(),
                                                   [name](const auto& field) { return iequals(field.first, name); }));
}

// uri-host [ ":" port ] (RFC 3986): reg-name and IPv4 characters, or an IP literal in brackets.
bool valid_host(std::string_view host) {
    if (!host.empty() && host.front() == '[') {
        const auto close = host.find(']');
        if (close == std::string_view::npos) return false;
        const auto literal = host.substr(1, close - 1);
        const bool ok = !literal.empty() && std::all_of(literal.begin(), literal.end(), [](char c) {
            return std::isxdigit(static_cast<unsigned char>(c)) || c == ':' || c == '.';
        });
        host.remove_prefix(close + 1);
        if (!ok) return false;
        if (host.empty()) return true;
        if (host.front() != ':') return false;
        host.remove_prefix(1);
        return std::all_of(host.begin(), host.end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)); });
    }
    const auto colon = host.find(':');
    const auto name = host.substr(0, colon);
    const bool name_ok = std::all_of(name.begin(), name.end(), [](char c) { return reg_name_chars[static_cast<unsigned char>(c)]; });
    if (!name_ok) return false;
    if (colon == std::string_view::npos) return true;
    const auto port = host.substr(colon + 1);
    return std::all_of(port.begin(), port.end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)); });
}

constexpr std::size_t max_target_length = 8 * 1024;

RequestVerdict refuse(int status, std::string reason, bool close = false) {
    return RequestVerdict{status, std::move(reason), close, {}, false};
}

std::optional<RequestVerdict> judge_framing(const RequestHead& head) {
    std::size_t te_lines = 0;
    const auto codings = elements(head, "transfer-encoding", &te_lines);
    if (te_lines == 0) return std::nullopt;
    if (head.version < 11) return refuse(400, "Transfer-Encoding in an HTTP/1.0 request", true);
    if (count_lines(head, "content-length") > 0) return refuse(400, "both Transfer-Encoding and Content-Length", true);
    if (codings.empty() || !iequals(codings.back(), "chunked")) {
        return refuse(400, "Transfer-Encoding does not end with chunked: the body length is unknown", true);
    }
    const auto chunked = std::count_if(codings.begin(), codings.end(), [](auto c) { return iequals(c, "chunked"); });
    if (chunked > 1) return refuse(400, "chunked applied more than once", true);
    if (codings.size() > 1) return refuse(501, "transfer coding not implemented: only chunked", true);
    return std::nullopt;
}

} // namespace

std::optional<std::string> origin_form_of_absolute(std::string_view target) {
    const auto scheme_end = target.find("://");
    if (scheme_end == std::string_view::npos) return std::nullopt;
    const auto scheme = target.substr(0, scheme_end);
    if (!iequals(scheme, "http") && !iequals(scheme, "https")) return std::nullopt;
    const auto rest = target.substr(scheme_end + 3);
    const auto path_start = rest.find_first_of("/?#");
    const auto authority = rest.substr(0, path_start);
    if (authority.empty() || authority.find('@') != std::string_view::npos || !valid_host(authority)) return std::nullopt;
    if (path_start == std::string_view::npos) return std::string("/");
    auto path = rest.substr(path_start);
    if (path.front() == '#') return std::string("/");
    path = path.substr(0, path.find('#'));
    return path.front() == '?' ? "/" + std::string(path) : std::string(path);
}

RequestVerdict judge_request(const RequestHead& head) {
    if (head.version / 10 != 1) return refuse(505, "only HTTP/1.x is served here", true);
    if (head.target.size() > max_target_length) return refuse(414, "request-target longer than 8192 bytes");
    if (auto framing = judge_framing(head)) return *framing;

    const auto host_lines = count_lines(head, "host");
    if (host_lines > 1) return refuse(400, "more than one Host");
    if (host_lines == 0 && head.version >= 11) return refuse(400, "an HTTP/1.1 request needs Host");
    for (const auto& [field, value] : head.fields) {
        if (iequals(field, "host") && !valid_host(trim(value))) return refuse(400, "invalid Host");
    }

    RequestVerdict verdict;
    if (!head.target.empty() && head.target.front() == '/') {
        verdict.target = std::string(head.target);
    } else if (head.target == "*") {
        if (head.method != "OPTIONS") return refuse(400, "the asterisk-form is for OPTIONS only");
        verdict.target = "*";
    } else if (auto origin = origin_form_of_absolute(head.target)) {
        verdict.target = std::move(*origin);
    } else if (head.method == "CONNECT") {
        return refuse(405, "CONNECT is not served: this is not a proxy");
    } else {
        return refuse(400, "bad request-target");
    }

    for (const auto expectation : elements(head, "expect")) {
        if (!iequals(expectation, "100-continue")) return refuse(417, "only 'Expect: 100-continue' is supported");
        verdict.expect_continue = head.version >= 11;
    }
    return verdict;
}

} // namespace lastcall::server

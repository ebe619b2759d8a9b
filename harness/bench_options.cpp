#include "bench_options.hpp"

#include "text_rules.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <fstream>
#include <iterator>
#include <stdexcept>

namespace lastcall::harness {

namespace {

[[noreturn]] void bad(const std::string& option, const std::string& value, const std::string& why) {
    throw std::invalid_argument(fmt::format("{} {}: {}", option, printable(value), why));
}

int whole_number(const std::string& option, const std::string& value, int at_least) {
    int n = 0;
    const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), n);
    if (ec == std::errc::result_out_of_range) bad(option, value, "too large");
    if (ec != std::errc{} || end != value.data() + value.size() || value.empty()) bad(option, value, "not a whole number");
    if (n < at_least) bad(option, value, fmt::format("must be at least {}", at_least));
    return n;
}

// Bytes, with an optional binary suffix: 1048576, 512k, 64M, 1G.
std::uint64_t byte_count(const std::string& option, const std::string& value) {
    std::uint64_t n = 0;
    const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), n);
    if (ec == std::errc::result_out_of_range) bad(option, value, "too large");
    if (ec != std::errc{} || value.empty()) bad(option, value, "not a size (like 1073741824, 512k, 64M or 1G)");
    const std::string_view suffix(end, static_cast<std::size_t>(value.data() + value.size() - end));
    int shift = 0;
    if (suffix == "k" || suffix == "K") shift = 10;
    else if (suffix == "M") shift = 20;
    else if (suffix == "G") shift = 30;
    else if (!suffix.empty()) bad(option, value, "not a size (like 1073741824, 512k, 64M or 1G)");
    if (n > (std::uint64_t{1} << 50) >> shift) bad(option, value, "too large (at most 1 PiB)");
    return n << shift;
}

// wrk's "-d 5" is five seconds: a bare number is seconds; "250ms", "1.5s", "2m" as in scenarios.
Duration duration(const std::string& option, const std::string& value, bool zero_allowed) {
    const bool bare = !value.empty() && value.find_first_not_of("0123456789.") == std::string::npos;
    const auto d = parse_duration(bare ? value + "s" : value);
    if (!d) bad(option, value, "not a duration (like 5, 5s, 250ms or 2m)");
    if (!zero_allowed && *d <= Duration::zero()) bad(option, value, "must be more than 0");
    return *d;
}

std::pair<std::string, std::string> header(const std::string& value) {
    const auto colon = value.find(':');
    if (colon == std::string::npos) bad("-H", value, "expected 'Name: value'");
    auto name = value.substr(0, colon);
    auto field = value.substr(colon + 1);
    const auto first = field.find_first_not_of(" \t");
    field = first == std::string::npos ? std::string{} : field.substr(first, field.find_last_not_of(" \t") - first + 1);
    if (!is_http_token(name)) bad("-H", value, "the name is not an HTTP token");
    if (!is_http_field_value(field)) bad("-H", value, "the value holds a control character (CR, LF, NUL...)");
    std::string lower;
    for (const char ch : name) lower += static_cast<char>(ch >= 'A' && ch <= 'Z' ? ch - 'A' + 'a' : ch);
    // lastcall frames the body itself (Content-Length from --body): a second framing makes a bad request.
    if (lower == "content-length" || lower == "transfer-encoding") bad("-H", value, "lastcall sets this header itself (from --body)");
    return {std::move(name), std::move(field)};
}

std::string file_text(const std::string& file) {
    std::ifstream in(file, std::ios::binary);
    if (!in) bad("--body-file", file, "cannot be read");
    return {std::istreambuf_iterator<char>(in), {}};
}

void parse_url(BenchOptions& o, const std::string& url) {
    const std::string scheme = "http://";
    if (url.rfind(scheme, 0) != 0) throw std::invalid_argument("expected a URL like http://127.0.0.1:8080/fast, not '" + printable(url) + "'");
    const auto rest = url.substr(scheme.size());
    const auto slash = rest.find('/');
    o.path = slash == std::string::npos ? "/" : rest.substr(slash);
    if (!is_origin_form(o.path)) bad("URL", url, "the path must be visible ASCII without spaces");
    const auto authority = rest.substr(0, slash);
    const auto bracket = authority.rfind(']');  // an IPv6 literal: [::1]:8080
    const auto colon = authority.find(':', bracket == std::string::npos ? 0 : bracket);
    o.host = authority.substr(0, colon);
    if (o.host.size() > 2 && o.host.front() == '[' && o.host.back() == ']') o.host = o.host.substr(1, o.host.size() - 2);
    if (o.host.empty()) bad("URL", url, "no host");
    if (colon != std::string::npos) {
        const int port = whole_number("URL port", authority.substr(colon + 1), 1);
        if (port > 65535) bad("URL", url, "the port is past 65535");
        o.port = static_cast<std::uint16_t>(port);
    }
    if (o.host == "localhost") o.host = "127.0.0.1";
}

} // namespace

std::string BenchOptions::url() const {
    const bool v6 = host.find(':') != std::string::npos;
    return fmt::format("http://{}{}{}:{}{}", v6 ? "[" : "", host, v6 ? "]" : "", port, path);
}

BenchOptions parse_bench_options(const std::vector<std::string>& args) {
    BenchOptions o;
    std::string url;
    bool body_given = false;
    for (std::size_t i = 0; i < args.size(); ++i) {
        const auto& a = args[i];
        const auto value = [&]() -> const std::string& {
            if (i + 1 >= args.size()) throw std::invalid_argument(a + " needs a value");
            return args[++i];
        };
        if (a == "-c" || a == "--connections") {
            o.connections = whole_number(a, value(), 1);
            o.connections_given = true;
        } else if (a == "-t" || a == "--threads") {
            o.threads = whole_number(a, value(), 1);
            o.threads_given = true;
        }
        else if (a == "-d" || a == "--duration") o.duration = duration(a, value(), false);
        else if (a == "--timeout") o.timeout = duration(a, value(), false);
        else if (a == "-R" || a == "--rate") {
            const auto& v = value();
            const auto r = parse_rate(v.find('/') == std::string::npos ? v + "/s" : v);
            if (!r) bad(a, v, "not a rate (like 1000 or 1000/s)");
            o.rate = *r;
        } else if (a == "-H" || a == "--header") o.headers.push_back(header(value()));
        else if (a == "-m" || a == "--method") {
            o.method = value();
            if (!is_http_token(o.method)) bad(a, o.method, "not an HTTP method (a token like GET or POST)");
        } else if (a == "--body" || a == "--body-file") {
            if (body_given) throw std::invalid_argument("--body and --body-file: give one body only");
            body_given = true;
            o.body = a == "--body" ? value() : file_text(value());
        } else if (a == "--latency") o.latency_distribution = true;
        else if (a == "--json") o.json = true;
        else if (a == "--max-history") o.max_history = byte_count(a, value());
        else if (a == "--history") o.history_file = value();
        else if (a == "-h" || a == "--help") o.help = true;
        else if (!a.empty() && a[0] == '-') throw std::invalid_argument("unknown option " + printable(a));
        else if (!url.empty()) throw std::invalid_argument("one URL only: '" + printable(url) + "' and '" + printable(a) + "'");
        else url = a;
    }
    if (o.help) return o;
    if (url.empty()) throw std::invalid_argument("bench needs a URL, like http://127.0.0.1:8080/fast");
    parse_url(o, url);
    const bool connections_matter = o.rate <= 0 || o.connections_given;  // open loop without -c: as many as needed
    if (connections_matter && !o.threads_given) o.threads = std::min(o.threads, o.connections);
    if (connections_matter && o.connections < o.threads) {
        throw std::invalid_argument(fmt::format("-c {} with -t {}: every thread needs a connection (-c at least -t)", o.connections, o.threads));
    }
    return o;
}

std::string bench_usage() {
    return "usage: lastcall bench URL [options]\n"
           "  -c, --connections N  closed loop: N keep-alive connections, each sending its next request when\n"
           "                       the last is answered (default 10). With --rate: at most N connections\n"
           "                       (requests outstanding); arrivals past them are skipped and counted\n"
           "  -t, --threads N      threads (default 2, or -c when less; at most -c)\n"
           "  -d, --duration D     5 (seconds), 5s, 250ms, 2m (default 10s)\n"
           "  -R, --rate R         open loop: R requests/s on schedule, latency from each intended start\n"
           "      --timeout D      for a connect, and for a request's write and response (default 10s)\n"
           "  -H, --header 'Name: value'  repeatable\n"
           "  -m, --method M       (default GET)\n"
           "      --body TEXT, --body-file FILE   the request body (Content-Length is set)\n"
           "      --latency        the latency distribution (50% to 99.99%)\n"
           "      --json           the summary as JSON (fields: harness/README.md)\n"
           "      --max-history SIZE  the per-request history on disk (unlinked files in $TMPDIR, else\n"
           "                       /var/tmp) at most SIZE bytes, like 512M (default 1G; at most half the\n"
           "                       free space); past it records are dropped, and the summary says how\n"
           "                       many (its figures stay exact)\n"
           "      --history FILE   write the history kept as JSON lines (history.jsonl's format) to FILE\n"
           "exit codes: 0 every request answered 2xx or 3xx, 1 some failed or were answered otherwise,\n"
           "  2 command line wrong, 3 no response at all, 130 interrupted (SIGINT), 143 (SIGTERM)\n";
}

} // namespace lastcall::harness

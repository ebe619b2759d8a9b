#include "bench_options.hpp"

#include "command_line.hpp"
#include "text_rules.hpp"

#include <CLI/CLI.hpp>

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
    if (url.rfind("https://", 0) == 0) bad("URL", url, "https is not supported; lastcall bench speaks plain HTTP (http://...)");
    if (url.rfind(scheme, 0) != 0) throw std::invalid_argument("expected a URL like http://127.0.0.1:8080/fast, not '" + printable(url) + "'");
    o.given_url = url;
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

std::string BenchOptions::address() const {
    const bool v6 = host.find(':') != std::string::npos;
    return fmt::format("{}{}{}:{}", v6 ? "[" : "", host, v6 ? "]" : "", port);
}

std::string BenchOptions::url() const { return given_url.empty() ? fmt::format("http://{}{}", address(), path) : given_url; }

struct BenchCommandLine::Words {
    std::vector<std::string> urls;
    std::string connections, threads, duration, timeout, rate, method, body, body_file, max_history, history_file;
    std::vector<std::string> headers;
    bool latency = false;
    bool json = false;
    CLI::Option* connections_given = nullptr;
    CLI::Option* threads_given = nullptr;
    CLI::Option* duration_given = nullptr;
    CLI::Option* timeout_given = nullptr;
    CLI::Option* rate_given = nullptr;
    CLI::Option* rate_long_given = nullptr;
    std::string rate_long;
    const CLI::App* app = nullptr;  // its parse order says which of -R and --rate came last
    CLI::Option* method_given = nullptr;
    CLI::Option* body_given = nullptr;
    CLI::Option* body_file_given = nullptr;
    CLI::Option* max_history_given = nullptr;
    CLI::Option* history_file_given = nullptr;
};

BenchCommandLine::BenchCommandLine(CLI::App& app) : words_(std::make_unique<Words>()) {
    auto& w = *words_;
    if (app.get_description().empty()) app.description("load a URL as wrk does, on lastcall's engine: what was answered, failed or cut, and the latency");
    take_last_by_default(app);
    usage_needs(app, "URL");
    app.add_option("URL", w.urls, "http://HOST[:PORT]/PATH (localhost is 127.0.0.1; [::1] for IPv6)")
        ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
    w.connections_given = app.add_option("-c,--connections", w.connections,
                                         "closed loop: N keep-alive connections, each sending its next request when the last is "
                                         "answered (default 10). With --rate: at most N connections (requests outstanding); "
                                         "arrivals past them are skipped and counted")
                              ->type_name("N");
    w.threads_given = app.add_option("-t,--threads", w.threads, "threads (default 2, or -c when less; at most -c)")->type_name("N");
    w.duration_given = app.add_option("-d,--duration", w.duration, "5 (seconds), 5s, 250ms, 2m (default 10s)")->type_name("D");
    // -R and --rate are two options so that an error names the one the user wrote ("--rate 0",
    // not "-R 0"): CLI11 keeps no record of which name matched.
    w.app = &app;
    w.rate_given = app.add_option("-R", w.rate, "open loop: R requests/s on schedule, latency from each intended start (1000 or 1000/s)")
                       ->type_name("R");
    w.rate_long_given = app.add_option("--rate", w.rate_long, "the same as -R")->type_name("R");
    w.timeout_given = app.add_option("--timeout", w.timeout, "for a connect, and for a request's write and response (default 10s)")->type_name("D");
    app.add_option("-H,--header", w.headers, "'Name: value', repeatable")
        ->type_name("HEADER")
        ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll)
        ->allow_extra_args(false);
    w.method_given = app.add_option("-m,--method", w.method, "the request method (default GET)")->type_name("M");
    w.body_given = app.add_option("--body", w.body, "the request body (Content-Length is set)")->type_name("TEXT");
    w.body_file_given = app.add_option("--body-file", w.body_file, "the request body, from a file")->type_name("FILE");
    app.add_flag("--latency", w.latency, "the latency distribution (50% to 99.99%)");
    app.add_flag("--json", w.json, "the summary as JSON on stdout, the header on stderr (fields: harness/README.md)");
    w.max_history_given = app.add_option("--max-history", w.max_history,
                                         "the per-request history on disk (unlinked files in $TMPDIR, else /var/tmp) at most SIZE "
                                         "bytes, like 512M (default 1G; at most half the free space); past it records are dropped, "
                                         "and the summary says how many (its figures stay exact)")
                              ->type_name("SIZE");
    w.history_file_given = app.add_option("--history", w.history_file, "write the history kept as JSON lines (history.jsonl's format) to FILE")
                               ->type_name("FILE");
    app.footer("Exit codes: 0 every request answered 2xx or 3xx, 1 some failed or were answered otherwise, 2 command line\n"
               "wrong, 3 no response at all, 130 interrupted (SIGINT), 143 (SIGTERM).");
}

BenchCommandLine::~BenchCommandLine() = default;

BenchOptions BenchCommandLine::options() const {
    const auto& w = *words_;
    BenchOptions o;
    if (w.connections_given->count() > 0) {
        o.connections = whole_number("-c", w.connections, 1);
        o.connections_given = true;
    }
    if (w.threads_given->count() > 0) {
        o.threads = whole_number("-t", w.threads, 1);
        o.threads_given = true;
    }
    if (w.duration_given->count() > 0) o.duration = duration("-d", w.duration, false);
    if (w.timeout_given->count() > 0) o.timeout = duration("--timeout", w.timeout, false);
    if (w.rate_given->count() > 0 || w.rate_long_given->count() > 0) {
        // The last one given wins, whichever its spelling, as with one option.
        const auto& order = w.app->parse_order();
        const auto last = std::find_if(order.rbegin(), order.rend(), [&w](const CLI::Option* o) { return o == w.rate_given || o == w.rate_long_given; });
        const bool long_form = last != order.rend() && *last == w.rate_long_given;
        const auto& rate = long_form ? w.rate_long : w.rate;
        const auto r = parse_rate(rate.find('/') == std::string::npos ? rate + "/s" : rate);
        if (!r) bad(long_form ? "--rate" : "-R", rate, "not a rate of more than 0 (like 1000 or 1000/s)");
        o.rate = *r;
    }
    for (const auto& h : w.headers) o.headers.push_back(header(h));
    if (w.method_given->count() > 0) {
        o.method = w.method;
        if (!is_http_token(o.method)) bad("-m", o.method, "not an HTTP method (a token like GET or POST)");
    }
    if (w.body_given->count() > 0 && w.body_file_given->count() > 0) throw std::invalid_argument("--body and --body-file: give one body only");
    if (w.body_given->count() > 0) o.body = w.body;
    if (w.body_file_given->count() > 0) o.body = file_text(w.body_file);
    o.latency_distribution = w.latency;
    o.json = w.json;
    if (w.max_history_given->count() > 0) o.max_history = byte_count("--max-history", w.max_history);
    if (w.history_file_given->count() > 0) o.history_file = w.history_file;
    if (w.urls.empty()) throw std::invalid_argument("bench needs a URL, like http://127.0.0.1:8080/fast");
    if (w.urls.size() > 1) throw std::invalid_argument("one URL only: '" + printable(w.urls[0]) + "' and '" + printable(w.urls[1]) + "'");
    parse_url(o, w.urls.front());
    const bool connections_matter = o.rate <= 0 || o.connections_given;  // open loop without -c: as many as needed
    if (connections_matter && !o.threads_given) o.threads = std::min(o.threads, o.connections);
    if (connections_matter && o.connections < o.threads) {
        throw std::invalid_argument(fmt::format("-c {} with -t {}: every thread needs a connection (-c at least -t)", o.connections, o.threads));
    }
    return o;
}

BenchOptions parse_bench_options(const std::vector<std::string>& arguments) {
    CLI::App app("", "lastcall bench");
    const BenchCommandLine command_line(app);
    if (!parse_arguments(app, arguments)) {
        BenchOptions help;
        help.help = true;
        return help;
    }
    return command_line.options();
}

std::string bench_usage() {
    CLI::App app("", "lastcall bench");
    const BenchCommandLine command_line(app);
    return app.help();
}

} // namespace lastcall::harness

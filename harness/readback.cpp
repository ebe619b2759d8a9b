#include "readback.hpp"

#include "probe_client.hpp"

#include <fmt/format.h>

#include <charconv>
#include <thread>

namespace lastcall::harness {

using Clock = std::chrono::steady_clock;

namespace {

// Where the value of "key": starts in `body`, past spaces.
std::optional<std::size_t> value_start(const std::string& body, const std::string& key) {
    const auto quoted = fmt::format("\"{}\"", key);
    for (auto at = body.find(quoted); at != std::string::npos; at = body.find(quoted, at + 1)) {
        auto pos = at + quoted.size();
        while (pos < body.size() && (body[pos] == ' ' || body[pos] == '\t')) ++pos;
        if (pos >= body.size() || body[pos] != ':') continue;
        ++pos;
        while (pos < body.size() && (body[pos] == ' ' || body[pos] == '\t')) ++pos;
        return pos;
    }
    return std::nullopt;
}

std::string shown(const std::string& body) { return body.size() > 200 ? body.substr(0, 200) + "..." : body; }

} // namespace

std::optional<std::int64_t> json_integer_field(const std::string& body, const std::string& key) {
    const auto start = value_start(body, key);
    if (!start) return std::nullopt;
    std::int64_t value = 0;
    const auto [end, ec] = std::from_chars(body.data() + *start, body.data() + body.size(), value);
    if (ec != std::errc{}) return std::nullopt;
    if (end < body.data() + body.size() && (*end == '.' || *end == 'e' || *end == 'E')) return std::nullopt;  // not an integer
    return value;
}

std::optional<std::string> json_string_field(const std::string& body, const std::string& key) {
    const auto start = value_start(body, key);
    if (!start || *start >= body.size() || body[*start] != '"') return std::nullopt;
    const auto end = body.find('"', *start + 1);
    if (end == std::string::npos) return std::nullopt;
    return body.substr(*start + 1, end - *start - 1);
}

CounterReadback read_counter(const std::string& host, std::uint16_t port, const std::string& path) {
    ProbeClient client(host, port);
    CounterReadback out;
    out.status = client.get(path, std::chrono::milliseconds(2000), &out.body);
    out.body = shown(out.body);
    if (out.status != 200) {
        out.error = out.status < 0 ? fmt::format("GET {} got no answer", path) : fmt::format("GET {} answered {} '{}'", path, out.status, out.body);
        return out;
    }
    out.value = json_integer_field(out.body, "value");
    if (!out.value) out.error = fmt::format("GET {} answered 200 without an integer \"value\": '{}'", path, out.body);
    return out;
}

std::map<std::int64_t, std::string> read_job_states(const std::string& host, std::uint16_t port, const std::vector<std::int64_t>& ids,
                                                    Clock::time_point deadline, const std::atomic<bool>* interrupted) {
    ProbeClient client(host, port);
    std::map<std::int64_t, std::string> states;
    for (const auto id : ids) {
        std::string state = "not read back";
        while (Clock::now() < deadline && !(interrupted && interrupted->load())) {
            std::string body;
            const int status = client.get(fmt::format("/jobs/{}", id), std::chrono::milliseconds(1000), &body);
            state = status == 200 ? json_string_field(body, "state").value_or("unreadable: " + shown(body)) : fmt::format("http {}", status);
            if (state == "completed") break;
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
        states[id] = state;
    }
    return states;
}

} // namespace lastcall::harness

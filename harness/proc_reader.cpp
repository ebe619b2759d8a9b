#include "proc_reader.hpp"

#include <csignal>
#include <cstdlib>
#include <string_view>

#include <fmt/format.h>

#include <charconv>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <unistd.h>

namespace lastcall::harness {

namespace fs = std::filesystem;

namespace {

// One read of a small /proc file (they are generated at once; a short read is the whole file).
std::string read_small_file(const std::string& path, std::size_t limit) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return {};
    std::string text(limit, '\0');
    std::size_t size = 0;
    while (size < limit) {
        const auto n = ::read(fd, text.data() + size, limit - size);
        if (n <= 0) break;
        size += static_cast<std::size_t>(n);
    }
    ::close(fd);
    text.resize(size);
    return text;
}

template <typename Number>
bool next_number(std::string_view& text, Number& out) {
    while (!text.empty() && text.front() == ' ') text.remove_prefix(1);
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
    if (ec != std::errc{}) return false;
    text.remove_prefix(static_cast<std::size_t>(end - text.data()));
    return true;
}

bool skip_fields(std::string_view& text, int count) {
    for (int i = 0; i < count; ++i) {
        while (!text.empty() && text.front() == ' ') text.remove_prefix(1);
        const auto space = text.find(' ');
        if (space == std::string_view::npos) return false;
        text.remove_prefix(space);
    }
    return true;
}

} // namespace

std::optional<ProcStat> read_proc_stat(pid_t pid) {
    const auto line = read_small_file(fmt::format("/proc/{}/stat", pid), 1024);
    // The command name may hold spaces and parentheses: fields start after the last ')'.
    const auto open = line.find('(');
    const auto close = line.rfind(')');
    if (open == std::string::npos || close == std::string::npos || close < open || close + 2 >= line.size()) return std::nullopt;
    ProcStat s;
    s.pid = pid;
    s.comm = line.substr(open + 1, close - open - 1);
    std::string_view rest(line);
    rest.remove_prefix(close + 2);
    s.state = rest.front();
    rest.remove_prefix(1);
    // Fields (man 5 proc): 4 ppid, 5 pgrp, 6 session, then 7..19, 20 num_threads, 21, 22 starttime, 23, 24 rss.
    if (!next_number(rest, s.ppid) || !next_number(rest, s.pgrp) || !next_number(rest, s.session)) return std::nullopt;
    if (!skip_fields(rest, 13) || !next_number(rest, s.threads)) return std::nullopt;
    if (!skip_fields(rest, 1) || !next_number(rest, s.start_ticks)) return std::nullopt;
    if (!skip_fields(rest, 1) || !next_number(rest, s.rss_pages)) return std::nullopt;
    return s;
}

std::vector<ProcStat> all_processes() {
    std::vector<ProcStat> out;
    std::error_code ec;
    for (fs::directory_iterator it("/proc", ec), end; !ec && it != end; it.increment(ec)) {
        const auto name = it->path().filename().string();
        pid_t pid = 0;
        const auto [last, parse_ec] = std::from_chars(name.data(), name.data() + name.size(), pid);
        if (parse_ec != std::errc{} || last != name.data() + name.size()) continue;
        if (auto stat = read_proc_stat(pid)) out.push_back(std::move(*stat));
    }
    return out;
}

int count_open_fds(pid_t pid) {
    std::error_code ec;
    int count = 0;
    for (fs::directory_iterator it(fmt::format("/proc/{}/fd", pid), ec), end; !ec && it != end; it.increment(ec)) ++count;
    return ec ? -1 : count;
}

int count_threads_waiting_on_disk(pid_t pid) {
    std::error_code ec;
    int count = 0;
    for (fs::directory_iterator it(fmt::format("/proc/{}/task", pid), ec), end; !ec && it != end; it.increment(ec)) {
        const auto line = read_small_file((it->path() / "stat").string(), 1024);
        const auto close = line.rfind(')');  // the state follows the command name, which may hold ')'
        if (close != std::string::npos && close + 2 < line.size() && line[close + 2] == 'D') ++count;
    }
    return ec ? -1 : count;
}

bool sigkill_pending(pid_t pid) {
    const auto status = read_small_file(fmt::format("/proc/{}/status", pid), 4096);
    constexpr unsigned long long kill_bit = 1ULL << (SIGKILL - 1);
    for (const std::string_view field : {"\nSigPnd:", "\nShdPnd:"}) {
        const auto at = status.find(field);
        if (at == std::string::npos) continue;
        const auto mask = std::strtoull(status.c_str() + at + field.size(), nullptr, 16);
        if (mask & kill_bit) return true;
    }
    return false;
}

std::string read_cmdline(pid_t pid, std::size_t limit) {
    auto text = read_small_file(fmt::format("/proc/{}/cmdline", pid), limit + 1);
    const bool cut = text.size() > limit;
    if (cut) text.resize(limit);
    while (!text.empty() && text.back() == '\0') text.pop_back();
    for (auto& c : text) {
        if (c == '\0') c = ' ';
        else if (static_cast<unsigned char>(c) < 0x20) c = '?';
    }
    // A cut says so: "--drain-delay 300m" read as 300 minutes where the command said 300ms.
    return cut ? text + "..." : text;
}

} // namespace lastcall::harness

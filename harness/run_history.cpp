#include "run_history.hpp"

#include "history_codec.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <queue>
#include <stdexcept>
#include <utility>
#include <vector>

namespace lastcall::harness {

namespace {

constexpr std::size_t write_buffer_bytes = 256 * 1024;
constexpr std::size_t merge_buffer_bytes = 32 * 1024;
constexpr std::size_t pass_buffer_bytes = 1024 * 1024;

std::string errno_text(const std::string& what) { return what + ": " + std::strerror(errno); }

// An unlinked file in `dir`: it takes disk space only while lastcall holds it.
int anonymous_file(const std::filesystem::path& dir) {
    auto name = (dir / "lastcall-history-sorted-XXXXXX").string();
    const int fd = ::mkostemp(name.data(), O_CLOEXEC);
    if (fd < 0) throw std::runtime_error(errno_text("cannot create the sorted history file in " + dir.string()));
    ::unlink(name.c_str());
    return fd;
}

class FileCloser {
public:
    explicit FileCloser(int fd) : fd_(fd) {}
    ~FileCloser() {
        if (fd_ >= 0) ::close(fd_);
    }
    FileCloser(const FileCloser&) = delete;
    FileCloser& operator=(const FileCloser&) = delete;
    int get() const { return fd_; }
    int release() { return std::exchange(fd_, -1); }
    void reset(int fd) {
        if (fd_ >= 0) ::close(fd_);
        fd_ = fd;
    }

private:
    int fd_;
};

// Records appended to a file at its current end, written a buffer at a time.
class RecordWriter {
public:
    explicit RecordWriter(int fd) : fd_(fd) { buffer_.reserve(write_buffer_bytes + max_encoded_record); }
    void add(const RequestRecord& r) {
        encode_record(r, buffer_);
        ++records_;
        if (buffer_.size() >= write_buffer_bytes) flush();
    }
    void flush() {  // throws std::runtime_error (a full disk)
        std::size_t done = 0;
        while (done < buffer_.size()) {
            const auto n = ::pwrite(fd_, buffer_.data() + done, buffer_.size() - done, static_cast<off_t>(offset_ + done));
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0) throw std::runtime_error(errno_text("writing the sorted history file"));
            done += static_cast<std::size_t>(n);
        }
        offset_ += buffer_.size();
        buffer_.clear();
    }
    std::uint64_t offset() const { return offset_ + buffer_.size(); }
    std::uint64_t records() const { return records_; }

private:
    int fd_;
    std::string buffer_;
    std::uint64_t offset_ = 0;
    std::uint64_t records_ = 0;
};

// The records in [begin, end) of a file, decoded one by one through a buffer of `buffer_bytes`.
class RecordReader {
public:
    RecordReader(int fd, std::uint64_t begin, std::uint64_t end, std::size_t buffer_bytes)
        : fd_(fd), next_read_(begin), end_(end), buffer_bytes_(buffer_bytes) {}

    // False at the end, or on an error (error() is then set).
    bool next(RequestRecord& r) {
        if (start_ == chunk_.size() || (next_read_ < end_ && chunk_.size() - start_ < max_encoded_record)) {
            if (!refill()) return false;
            if (start_ == chunk_.size()) return false;
        }
        const auto used = decode_record(std::string_view(chunk_).substr(start_), r);
        if (used == 0) {
            error_ = "the sorted history file holds bytes that are not a record";
            return false;
        }
        start_ += used;
        return true;
    }
    const std::string& error() const { return error_; }

private:
    bool refill() {
        chunk_.erase(0, start_);
        start_ = 0;
        while (next_read_ < end_ && chunk_.size() < buffer_bytes_) {
            const auto kept = chunk_.size();
            const auto want = static_cast<std::size_t>(std::min<std::uint64_t>(buffer_bytes_, end_ - next_read_));
            chunk_.resize(kept + want);
            const auto n = ::pread(fd_, chunk_.data() + kept, want, static_cast<off_t>(next_read_));
            if (n < 0 && errno == EINTR) {
                chunk_.resize(kept);
                continue;
            }
            if (n <= 0) {
                chunk_.resize(kept);
                error_ = n < 0 ? errno_text("reading the sorted history file") : "the sorted history file ended early";
                return false;
            }
            chunk_.resize(kept + static_cast<std::size_t>(n));
            next_read_ += static_cast<std::uint64_t>(n);
        }
        return true;
    }

    int fd_;
    std::uint64_t next_read_, end_;
    std::size_t buffer_bytes_;
    std::string chunk_;
    std::size_t start_ = 0;
    std::string error_;
};

struct SortedRun {
    std::uint64_t begin = 0, end = 0;  // bytes in its file
};

bool earlier(const RequestRecord& a, const RequestRecord& b) { return a.intended_us < b.intended_us; }

// Merges `runs` of file `in` into `out`, in order of intended start; a tie goes to the earlier run
// (runs hold the source's order), which keeps the merge stable. Throws on a read or write error.
void merge(int in, const std::vector<SortedRun>& runs, RecordWriter& out) {
    std::vector<RecordReader> readers;
    std::vector<RequestRecord> heads(runs.size());
    readers.reserve(runs.size());
    for (const auto& run : runs) readers.emplace_back(in, run.begin, run.end, merge_buffer_bytes);
    const auto later = [&heads](std::size_t a, std::size_t b) {
        return heads[a].intended_us != heads[b].intended_us ? heads[a].intended_us > heads[b].intended_us : a > b;
    };
    std::priority_queue<std::size_t, std::vector<std::size_t>, decltype(later)> queue(later);
    const auto advance = [&](std::size_t i) {
        if (readers[i].next(heads[i])) queue.push(i);
        else if (!readers[i].error().empty()) throw std::runtime_error(readers[i].error());
    };
    for (std::size_t i = 0; i < runs.size(); ++i) advance(i);
    while (!queue.empty()) {
        const auto i = queue.top();
        queue.pop();
        out.add(heads[i]);
        advance(i);
    }
}

} // namespace

std::shared_ptr<const RunHistory> RunHistory::sort(const std::filesystem::path& dir, const RecordSource& source,
                                                   const std::function<void(RequestRecord&)>& adjust, std::size_t chunk_records) {
    chunk_records = std::max<std::size_t>(chunk_records, 1);
    std::shared_ptr<RunHistory> history(new RunHistory());
    FileCloser runs_file(anonymous_file(dir));
    RecordWriter runs_out(runs_file.get());
    std::vector<SortedRun> runs;
    std::vector<RequestRecord> chunk;
    // Reserved whole: growing by doubling would hold the old and the new array at once. Pages
    // never written take no memory, so a short run pays for what it holds.
    chunk.reserve(chunk_records);
    std::string write_error;
    const auto spill = [&] {
        if (chunk.empty() || !write_error.empty()) return;
        std::stable_sort(chunk.begin(), chunk.end(), earlier);
        const auto begin = runs_out.offset();
        try {
            for (const auto& r : chunk) runs_out.add(r);
            runs_out.flush();
        } catch (const std::runtime_error& e) {
            write_error = e.what();
        }
        runs.push_back({begin, runs_out.offset()});
        chunk.clear();
    };
    const bool read_whole = source([&](const RequestRecord& r) {
        chunk.push_back(r);
        adjust(chunk.back());
        if (chunk.size() >= chunk_records) spill();
    });
    spill();
    std::vector<RequestRecord>().swap(chunk);  // its memory back before the merge
    if (!write_error.empty()) throw std::runtime_error(write_error);
    if (!read_whole) history->error_ = "the history could not be read whole: the checks judged what was read";

    // Rounds of at most merge_fan_in runs each until one is left; the last round writes the file kept.
    FileCloser current(runs_file.release());
    while (runs.size() > 1) {
        FileCloser next(anonymous_file(dir));
        RecordWriter out(next.get());
        std::vector<SortedRun> merged;
        for (std::size_t i = 0; i < runs.size(); i += merge_fan_in) {
            const std::vector<SortedRun> group(runs.begin() + static_cast<std::ptrdiff_t>(i),
                                               runs.begin() + static_cast<std::ptrdiff_t>(std::min(runs.size(), i + merge_fan_in)));
            const auto begin = out.offset();
            merge(current.get(), group, out);
            out.flush();
            merged.push_back({begin, out.offset()});
        }
        runs = std::move(merged);
        current.reset(next.release());
    }
    history->fd_ = current.release();
    history->records_ = runs_out.records();
    history->bytes_ = runs.empty() ? 0 : runs.front().end;
    return history;
}

RunHistory::~RunHistory() {
    if (fd_ >= 0) ::close(fd_);
}

bool RunHistory::for_each(const RecordVisitor& visit) const {
    RecordReader reader(fd_, 0, bytes_, pass_buffer_bytes);
    RequestRecord r;
    while (reader.next(r)) visit(r);
    if (!reader.error().empty()) {
        error_ = reader.error();
        return false;
    }
    return true;
}

} // namespace lastcall::harness

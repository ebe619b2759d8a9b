#include "history_spool.hpp"

#include "history_codec.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace lastcall::harness {

namespace {

constexpr std::size_t buffer_bytes = 256 * 1024;
constexpr std::size_t read_chunk = 1024 * 1024;

std::string errno_text(const char* what) { return std::string(what) + ": " + std::strerror(errno); }

} // namespace

HistorySpool::HistorySpool(const std::filesystem::path& dir, std::uint64_t cap_bytes) : cap_(cap_bytes) {
    auto name = (dir / "lastcall-history-XXXXXX").string();
    fd_ = ::mkostemp(name.data(), O_CLOEXEC);
    if (fd_ < 0) throw std::runtime_error(errno_text(("cannot create the history file in " + dir.string()).c_str()));
    ::unlink(name.c_str());  // the open descriptor keeps it while lastcall runs
    buffer_ = std::make_unique_for_overwrite<char[]>(buffer_bytes + max_encoded_record);
}

HistorySpool::~HistorySpool() {
    if (fd_ >= 0) ::close(fd_);
}

void HistorySpool::append(const RequestRecord& record) {
    ++appended_by_outcome_[static_cast<std::size_t>(record.outcome)];
    if (record.retry_of == 0) {
        if (record.workload >= appended_by_workload_.size()) appended_by_workload_.resize(record.workload + std::size_t{1});
        ++appended_by_workload_[record.workload];
    }
    const auto size = encode_record(record, buffer_.get() + used_);
    if (!error_.empty() || bytes_ + used_ + size > cap_) {
        ++dropped_;
        return;
    }
    used_ += size;
    ++records_;
    ++buffered_records_;
    if (used_ >= buffer_bytes) write_buffer();
}

void HistorySpool::flush() {
    if (used_ > 0) write_buffer();
}

void HistorySpool::write_buffer() {
    std::size_t done = 0;
    while (done < used_) {
        const auto n = ::write(fd_, buffer_.get() + done, used_ - done);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            // A full disk: what is in the file stays readable; the rest of the run is dropped, and said.
            error_ = errno_text("writing the history file");
            if (::ftruncate(fd_, static_cast<off_t>(bytes_)) != 0) error_ += " (and truncating it back failed)";
            records_ -= buffered_records_;
            dropped_ += buffered_records_;
            buffered_records_ = 0;
            used_ = 0;
            return;
        }
        done += static_cast<std::size_t>(n);
    }
    bytes_ += used_;
    buffered_records_ = 0;
    used_ = 0;
}

bool HistorySpool::for_each(const std::function<void(const RequestRecord&)>& visit) const {
    std::string chunk;
    std::size_t start = 0;  // the first undecoded byte in chunk
    std::uint64_t offset = 0;
    RequestRecord record;
    for (;;) {
        chunk.erase(0, start);
        start = 0;
        const auto kept = chunk.size();
        chunk.resize(kept + read_chunk);
        const auto n = ::pread(fd_, chunk.data() + kept, read_chunk, static_cast<off_t>(offset));
        if (n < 0 && errno == EINTR) {
            chunk.resize(kept);
            continue;
        }
        if (n < 0) {
            error_ = errno_text("reading the history file");
            return false;
        }
        chunk.resize(kept + static_cast<std::size_t>(n));
        offset += static_cast<std::uint64_t>(n);
        const bool at_end = n == 0;
        // A record may straddle two reads: decode only while a whole one must be there.
        while (start < chunk.size() && (at_end || chunk.size() - start >= max_encoded_record)) {
            const auto used = decode_record(std::string_view(chunk).substr(start), record);
            if (used == 0) {
                error_ = "the history file holds bytes that are not a record at offset " + std::to_string(offset - chunk.size() + start);
                return false;
            }
            visit(record);
            start += used;
        }
        if (at_end) return true;
    }
}

} // namespace lastcall::harness

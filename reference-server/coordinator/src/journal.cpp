#include "lastcall/coordinator/journal.hpp"

#include "posix_file.hpp"

#include <boost/crc.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <fcntl.h>
#include <unistd.h>

namespace lastcall::coordinator {

namespace {

constexpr std::size_t record_header_size = 16;  // length, crc32, sequence number

void put_le(std::string& out, std::uint64_t value, int bytes) {
    for (int i = 0; i < bytes; ++i) out.push_back(static_cast<char>((value >> (8 * i)) & 0xff));
}

std::uint64_t get_le(std::string_view in, std::size_t at, int bytes) {
    std::uint64_t value = 0;
    for (int i = 0; i < bytes; ++i) value |= std::uint64_t{static_cast<unsigned char>(in[at + static_cast<std::size_t>(i)])} << (8 * i);
    return value;
}

std::uint32_t record_crc(std::uint64_t seq, std::string_view payload) {
    std::string seq_bytes;
    put_le(seq_bytes, seq, 8);
    boost::crc_32_type crc;
    crc.process_bytes(seq_bytes.data(), seq_bytes.size());
    crc.process_bytes(payload.data(), payload.size());
    return crc.checksum();
}

bool all_zero(std::string_view bytes) {
    return std::all_of(bytes.begin(), bytes.end(), [](char c) { return c == '\0'; });
}

[[noreturn]] void refuse(const std::filesystem::path& file, std::size_t at, std::string_view why) {
    throw JournalError(fmt::format("journal {} is corrupt at byte {}: {}", file.string(), at, why));
}

struct Parsed {
    std::vector<Journal::Record> records;
    std::size_t valid_length = 0;  // bytes worth keeping; less than the file when its tail is torn
};

Parsed parse(std::string_view bytes, const std::filesystem::path& file) {
    Parsed parsed;
    const auto header = Journal::header;
    if (bytes.size() < header.size() && header.substr(0, bytes.size()) == bytes) return parsed;  // torn creation
    if (bytes.substr(0, header.size()) != header) {
        throw JournalError(fmt::format("journal {} is not a lastcall journal: it does not start with '{}'",
                                       file.string(), header.substr(0, header.size() - 1)));
    }
    std::size_t pos = header.size();
    while (pos < bytes.size()) {
        const auto rest = bytes.substr(pos);
        if (rest.size() < record_header_size || all_zero(rest)) break;  // torn tail
        const auto length = get_le(bytes, pos, 4);
        const auto crc = static_cast<std::uint32_t>(get_le(bytes, pos + 4, 4));
        const auto seq = get_le(bytes, pos + 8, 8);
        if (length > Journal::max_payload) {
            refuse(file, pos, fmt::format("a record claims {} bytes, more than the {} byte limit", length, Journal::max_payload));
        }
        if (rest.size() < record_header_size + length) break;  // torn tail
        const auto payload = rest.substr(record_header_size, length);
        if (const auto actual = record_crc(seq, payload); actual != crc) {
            refuse(file, pos, fmt::format("record {} has crc32 {:08x}, it says {:08x}", seq, actual, crc));
        }
        if (seq == 0 || (!parsed.records.empty() && seq != parsed.records.back().seq + 1)) {
            refuse(file, pos, fmt::format("sequence number {} follows {}", seq, parsed.records.empty() ? 0 : parsed.records.back().seq));
        }
        parsed.records.push_back(Journal::Record{seq, std::string(payload)});
        pos += record_header_size + length;
    }
    parsed.valid_length = pos;
    return parsed;
}


} // namespace

Journal::Journal(std::filesystem::path file) : file_(std::move(file)), sync_([](int fd) { return ::fdatasync(fd); }) {}

Journal::~Journal() {
    close();
    if (fd_ >= 0) ::close(fd_);
}

std::string Journal::encode(std::uint64_t seq, std::string_view payload) {
    std::string out;
    out.reserve(record_header_size + payload.size());
    put_le(out, payload.size(), 4);
    put_le(out, record_crc(seq, payload), 4);
    put_le(out, seq, 8);
    out.append(payload);
    return out;
}

Journal::Recovery Journal::open() {
    return posix::rethrow_as<JournalError>("journal", [this] {
        posix::require_regular_or_absent(file_, "journal");
        posix::require_regular_or_absent(temp_file(), "journal temp file");
        Recovery recovery;
        const auto bytes = posix::read_if_exists(file_);
        auto parsed = bytes ? parse(*bytes, file_) : Parsed{};
        if (!bytes || parsed.valid_length < header.size()) {
            posix::replace_durably(file_, temp_file(), header);  // a first start, or a creation cut short
            recovery.torn_bytes = bytes ? bytes->size() : 0;
            parsed.valid_length = header.size();
        } else if (parsed.valid_length < bytes->size()) {
            // Never acknowledged (see the header comment): cut it, durably, before appending after it.
            recovery.torn_bytes = bytes->size() - parsed.valid_length;
            if (::truncate(file_.c_str(), static_cast<off_t>(parsed.valid_length)) != 0) posix::fail_errno("cannot cut the torn tail of", file_);
            auto fd = posix::open_or_fail(file_, O_WRONLY, "cannot open");
            posix::sync_or_fail(fd.get(), file_);
        }
        recovery.records = std::move(parsed.records);
        size_ = size_at_compaction_ = parsed.valid_length;
        open_for_append();
        return recovery;
    });
}

void Journal::open_for_append() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = ::open(file_.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC);
    if (fd_ < 0) posix::fail_errno("cannot open for appending", file_);
}

void Journal::start(std::uint64_t last_seq) {
    std::lock_guard lock(mutex_);
    if (started_) return;
    last_seq_ = last_seq;
    started_ = true;
    writer_ = std::thread([this] { run(); });
}

std::uint64_t Journal::append(std::string payload, Durable durable) {
    std::string error;
    std::uint64_t seq = 0;
    {
        std::lock_guard lock(mutex_);
        if (!failure_.empty()) error = failure_;
        else if (!started_ || stopping_) error = fmt::format("journal {} is closed", file_.string());
        else if (payload.size() > max_payload) error = "journal record too large";
        if (error.empty()) {
            seq = ++last_seq_;
            pending_.push_back(Pending{seq, std::move(payload), std::move(durable)});
        }
    }
    if (!error.empty()) {
        durable(0, error);
        return 0;
    }
    wake_.notify_one();
    return seq;
}

void Journal::run() {
    std::unique_lock lock(mutex_);
    for (;;) {
        wake_.wait(lock, [this] { return !pending_.empty() || stopping_; });
        if (pending_.empty()) return;  // stopping, nothing left
        std::vector<Pending> batch;
        batch.swap(pending_);
        std::string error = failure_;
        lock.unlock();
        if (error.empty()) {
            error = commit(batch);
            if (!error.empty()) fail(error);
        }
        for (auto& record : batch) record.durable(record.seq, error);
        bool grown = false;
        {
            std::lock_guard size_lock(mutex_);
            grown = on_grown_ && failure_.empty() && size_ - size_at_compaction_ >= grown_threshold_;
        }
        if (grown) on_grown_();
        lock.lock();
    }
}

std::string Journal::commit(const std::vector<Pending>& batch) {
    std::string bytes;
    for (const auto& record : batch) bytes += encode(record.seq, record.payload);
    try {
        posix::write_all(fd_, bytes, file_);
        if (sync_(fd_) != 0) posix::fail_errno("fdatasync failed (not retried) for", file_);
    } catch (const posix::FileError& e) {
        return fmt::format("journal: {}", e.what());
    }
    std::lock_guard lock(mutex_);
    size_ += bytes.size();
    ++syncs_;
    records_synced_ += batch.size();
    return {};
}

void Journal::fail(const std::string& error) {
    {
        std::lock_guard lock(mutex_);
        if (!failure_.empty()) return;
        failure_ = error;
    }
    if (on_failure_) on_failure_(error);
}

void Journal::close() {
    {
        std::lock_guard lock(mutex_);
        if (!started_ || stopping_) {
            stopping_ = true;
            return;
        }
        stopping_ = true;
    }
    wake_.notify_one();
    if (writer_.joinable()) writer_.join();
}

void Journal::compact(std::uint64_t keep_after) {
    if (failed()) return;
    posix::rethrow_as<JournalError>("journal", [&] {
        const auto bytes = posix::read_if_exists(file_);
        std::string kept(header);
        if (bytes) {
            for (const auto& record : parse(*bytes, file_).records) {
                if (record.seq > keep_after) kept += encode(record.seq, record.payload);
            }
        }
        // Nothing to drop (no record since the last compaction: an idle server's shutdown): the
        // file already holds these bytes, durably (every record was synced before it was
        // acknowledged), so rewriting it would only cost two fsyncs on the way to exit.
        if (!bytes || *bytes != kept) posix::replace_durably(file_, temp_file(), kept);
        open_for_append();
        std::lock_guard lock(mutex_);
        size_ = size_at_compaction_ = kept.size();
    });
}

void Journal::on_grown(std::uint64_t threshold_bytes, std::function<void()> hook) {
    grown_threshold_ = threshold_bytes;
    on_grown_ = std::move(hook);
}

void Journal::on_failure(std::function<void(const std::string&)> hook) { on_failure_ = std::move(hook); }
void Journal::set_sync(Sync sync) { sync_ = std::move(sync); }

bool Journal::failed() const {
    std::lock_guard lock(mutex_);
    return !failure_.empty();
}

std::uint64_t Journal::size_bytes() const {
    std::lock_guard lock(mutex_);
    return size_;
}

std::uint64_t Journal::syncs() const {
    std::lock_guard lock(mutex_);
    return syncs_;
}

std::uint64_t Journal::records_synced() const {
    std::lock_guard lock(mutex_);
    return records_synced_;
}

} // namespace lastcall::coordinator

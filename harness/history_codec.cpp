#include "history_codec.hpp"

#include <cstdint>
#include <cstring>
#include <limits>

namespace lastcall::harness {

namespace {

// Field flags, one byte after the leading id.
constexpr std::uint8_t flag_connection_close = 1;
constexpr std::uint8_t flag_retried = 2;
constexpr std::uint8_t flag_closed_after = 4;
constexpr std::uint8_t flag_unsolicited_after = 8;
constexpr std::uint8_t flag_syn_retried = 16;

char* put_varint(char* out, std::uint64_t v) {
    while (v >= 0x80) {
        *out++ = static_cast<char>(static_cast<std::uint8_t>(v) | 0x80);
        v >>= 7;
    }
    *out++ = static_cast<char>(v);
    return out;
}

std::uint64_t zigzag(std::int64_t v) { return (static_cast<std::uint64_t>(v) << 1) ^ static_cast<std::uint64_t>(v >> 63); }
std::int64_t unzigzag(std::uint64_t v) { return static_cast<std::int64_t>(v >> 1) ^ -static_cast<std::int64_t>(v & 1); }

// -1 ("never happened") and a time after the intended start both stay small this way; any other
// time (one before t = 0 too) keeps its exact value.
std::uint64_t time_delta(std::int64_t t, std::int64_t intended) { return t == -1 ? 0 : zigzag(t - intended) + 1; }
std::int64_t time_from(std::uint64_t delta, std::int64_t intended) { return delta == 0 ? -1 : unzigzag(delta - 1) + intended; }

class Cursor {
public:
    explicit Cursor(std::string_view in) : in_(in) {}
    bool varint(std::uint64_t& v) {
        v = 0;
        for (int shift = 0; shift < 64; shift += 7) {
            if (at_ >= in_.size()) return false;
            const auto byte = static_cast<std::uint8_t>(in_[at_++]);
            v |= static_cast<std::uint64_t>(byte & 0x7f) << shift;
            if ((byte & 0x80) == 0) return true;
        }
        return false;  // more than 10 bytes: not ours
    }
    template <class T>
    bool small(T& v) {  // a varint that must fit T
        std::uint64_t raw = 0;
        if (!varint(raw) || raw > static_cast<std::uint64_t>(std::numeric_limits<T>::max())) return false;
        v = static_cast<T>(raw);
        return true;
    }
    bool byte(std::uint8_t& v) {
        if (at_ >= in_.size()) return false;
        v = static_cast<std::uint8_t>(in_[at_++]);
        return true;
    }
    bool bytes(std::size_t n, std::string& out) {
        if (in_.size() - at_ < n) return false;
        out.assign(in_.substr(at_, n));
        at_ += n;
        return true;
    }
    std::size_t used() const { return at_; }

private:
    std::string_view in_;
    std::size_t at_ = 0;
};

} // namespace

std::size_t encode_record(const RequestRecord& r, char* const out) {
    char* at = put_varint(out, r.id);
    *at++ = static_cast<char>((r.connection_close ? flag_connection_close : 0) | (r.retried ? flag_retried : 0) |
                              (r.closed_after ? flag_closed_after : 0) | (r.unsolicited_after ? flag_unsolicited_after : 0) | (r.syn_retried ? flag_syn_retried : 0));
    *at++ = static_cast<char>(r.outcome);
    *at++ = static_cast<char>(r.failure);
    *at++ = static_cast<char>(r.stream_end);
    at = put_varint(at, r.retry_of);
    at = put_varint(at, zigzag(r.intended_us));
    at = put_varint(at, time_delta(r.sent_us, r.intended_us));
    at = put_varint(at, time_delta(r.first_byte_us, r.intended_us));
    at = put_varint(at, time_delta(r.done_us, r.intended_us));
    at = put_varint(at, time_delta(r.closed_after_us, r.intended_us));
    at = put_varint(at, time_delta(r.connect_us, r.intended_us));
    at = put_varint(at, r.bytes);
    at = put_varint(at, r.body_bytes);
    at = put_varint(at, r.connection_id);
    at = put_varint(at, r.reuse_index);
    at = put_varint(at, r.events);
    at = put_varint(at, r.proxy_record);
    at = put_varint(at, r.workload);
    at = put_varint(at, r.status);
    at = put_varint(at, zigzag(r.retry_after_s));
    const auto reply = std::string_view(r.reply_value).substr(0, reply_value_limit);
    at = put_varint(at, reply.size());
    if (!reply.empty()) std::memcpy(at, reply.data(), reply.size());
    at += reply.size();
    return static_cast<std::size_t>(at - out);
}

void encode_record(const RequestRecord& record, std::string& out) {
    const auto before = out.size();
    out.resize(before + max_encoded_record);
    out.resize(before + encode_record(record, out.data() + before));
}

std::size_t decode_record(std::string_view in, RequestRecord& r) {
    Cursor c(in);
    std::uint8_t flags = 0, outcome = 0, failure = 0, stream_end = 0;
    std::uint64_t intended = 0, sent = 0, first_byte = 0, done = 0, closed_after = 0, connect = 0, retry_after = 0;
    std::size_t reply_size = 0;
    if (!c.varint(r.id) || !c.byte(flags) || !c.byte(outcome) || !c.byte(failure) || !c.byte(stream_end)) return 0;
    if (outcome >= outcome_count || failure > static_cast<std::uint8_t>(Failure::body_sha256_mismatch) ||
        stream_end > static_cast<std::uint8_t>(StreamEnd::shutdown) || flags > 31) {
        return 0;
    }
    if (!c.varint(r.retry_of) || !c.varint(intended) || !c.varint(sent) || !c.varint(first_byte) || !c.varint(done) ||
        !c.varint(closed_after) || !c.varint(connect) || !c.varint(r.bytes) || !c.varint(r.body_bytes) || !c.small(r.connection_id) ||
        !c.small(r.reuse_index) || !c.small(r.events) || !c.small(r.proxy_record) || !c.small(r.workload) ||
        !c.small(r.status) || !c.varint(retry_after) || retry_after > 0xffff || !c.small(reply_size) || reply_size > reply_value_limit ||
        !c.bytes(reply_size, r.reply_value)) {
        return 0;
    }
    r.intended_us = unzigzag(intended);
    r.sent_us = time_from(sent, r.intended_us);
    r.first_byte_us = time_from(first_byte, r.intended_us);
    r.done_us = time_from(done, r.intended_us);
    r.closed_after_us = time_from(closed_after, r.intended_us);
    r.connect_us = time_from(connect, r.intended_us);
    r.retry_after_s = static_cast<std::int16_t>(unzigzag(retry_after));
    r.outcome = static_cast<Outcome>(outcome);
    r.failure = static_cast<Failure>(failure);
    r.stream_end = static_cast<StreamEnd>(stream_end);
    r.connection_close = (flags & flag_connection_close) != 0;
    r.retried = (flags & flag_retried) != 0;
    r.closed_after = (flags & flag_closed_after) != 0;
    r.unsolicited_after = (flags & flag_unsolicited_after) != 0;
    r.syn_retried = (flags & flag_syn_retried) != 0;
    return c.used();
}

} // namespace lastcall::harness

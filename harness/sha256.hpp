#pragma once
// SHA-256 (FIPS 180-4) over a body as it arrives, for `expect_body.sha256`: bodies are counted,
// never stored, so the digest is fed piece by piece. Small enough not to need OpenSSL.
#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace lastcall::harness {

class Sha256 {
public:
    Sha256();
    void update(std::string_view bytes);
    std::string hex_digest();  // lowercase; ends the computation

private:
    void block(const unsigned char* p);

    std::array<std::uint32_t, 8> h_;
    std::array<unsigned char, 64> buffer_{};
    std::size_t buffered_ = 0;
    std::uint64_t length_ = 0;  // bytes
};

} // namespace lastcall::harness

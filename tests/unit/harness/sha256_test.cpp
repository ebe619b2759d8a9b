#include "sha256.hpp"

#include <gtest/gtest.h>

namespace lastcall::harness {
namespace {

std::string sha256_of(std::string_view text, std::size_t piece) {
    Sha256 h;
    for (std::size_t i = 0; i < text.size(); i += piece) h.update(text.substr(i, piece));
    return h.hex_digest();
}

// FIPS 180-4 examples, and lengths around the padding boundary, fed whole and in odd pieces.
TEST(Sha256, KnownDigests) {
    for (const std::size_t piece : {1u, 7u, 64u, 1000u}) {
        EXPECT_EQ(sha256_of("", piece), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
        EXPECT_EQ(sha256_of("abc", piece), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
        EXPECT_EQ(sha256_of("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", piece),
                  "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
        EXPECT_EQ(sha256_of(std::string(1000000, 'a'), piece * 997), "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
    }
}

} // namespace
} // namespace lastcall::harness

// The request path's block cache: a block given back is the one taken next for that size (so a
// busy connection's buffer, parser fields and idle wait cost no malloc), never for another size (an
// idle connection holds no more than malloc would give it).
#include "block_cache.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace lastcall::server {
namespace {

TEST(BlockCache, AGivenBlockIsTakenAgainForItsSizeOnly) {
    BlockCache cache;
    void* block = cache.take(100);
    cache.give(block, 100);
    void* other = cache.take(200);
    EXPECT_NE(other, block);
    EXPECT_EQ(cache.take(100), block);
    cache.give(block, 100);
    cache.give(other, 200);
}

TEST(BlockCache, SizesRoundToMallocsSixteenBytes) {
    BlockCache cache;
    void* block = cache.take(100);
    cache.give(block, 100);
    EXPECT_EQ(cache.take(112), block);  // the same 112-byte block
    cache.give(block, 112);
}

TEST(BlockCache, AnAllocatorOnItServesAContainer) {
    std::vector<int, CachedAllocator<int>> numbers;
    for (int i = 0; i < 1000; ++i) numbers.push_back(i);  // beyond the largest cached size too
    EXPECT_EQ(numbers[999], 999);
}

} // namespace
} // namespace lastcall::server

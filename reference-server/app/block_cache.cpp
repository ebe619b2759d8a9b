#include "block_cache.hpp"

#include <new>

namespace lastcall::server {

namespace {

constexpr std::size_t rounded(std::size_t size) { return (size + 15) & ~std::size_t(15); }

} // namespace

BlockCache& BlockCache::mine() {
    thread_local BlockCache cache;
    return cache;
}

void* BlockCache::take(std::size_t size) {
    size = rounded(size);
    for (std::size_t i = count_; i-- > 0;) {
        if (blocks_[i].size != size) continue;
        void* memory = blocks_[i].memory;
        blocks_[i] = blocks_[--count_];
        return memory;
    }
    return ::operator new(size);
}

void BlockCache::give(void* block, std::size_t size) {
    size = rounded(size);
    if (count_ == capacity || size > largest) return ::operator delete(block, size);
    blocks_[count_++] = {block, size};
}

BlockCache::~BlockCache() {
    for (std::size_t i = 0; i < count_; ++i) ::operator delete(blocks_[i].memory, blocks_[i].size);
}

} // namespace lastcall::server

#pragma once
// Memory the request path gives back and takes again at once: a busy keep-alive connection frees
// its read buffer before each idle wait and takes it again with the next request, its parser's
// fields go with every request, its idle wait is made and ends with every request. Each thread
// keeps a few freed blocks by size (rounded to malloc's 16 bytes, so none holds more than malloc
// would) for the next ones; beyond 16 blocks, or above 4 KiB, blocks go back to malloc. An idle
// connection holds the same bytes as with malloc.
#include <cstddef>

namespace lastcall::server {

class BlockCache {
public:
    // The calling thread's.
    static BlockCache& mine();

    void* take(std::size_t size);
    void give(void* block, std::size_t size);

    BlockCache() = default;
    BlockCache(const BlockCache&) = delete;
    BlockCache& operator=(const BlockCache&) = delete;
    ~BlockCache();

private:
    static constexpr std::size_t capacity = 16;
    static constexpr std::size_t largest = 4096;
    struct Block {
        void* memory;
        std::size_t size;
    };
    Block blocks_[capacity]{};
    std::size_t count_ = 0;
};

// For containers and Asio handlers on the request path. Stateless: a block may be given back on
// another thread than the one that took it (a coroutine resumed elsewhere), into that thread's cache.
template <class T>
struct CachedAllocator {
    using value_type = T;
    CachedAllocator() = default;
    template <class U>
    CachedAllocator(const CachedAllocator<U>&) noexcept {}
    T* allocate(std::size_t n) { return static_cast<T*>(BlockCache::mine().take(n * sizeof(T))); }
    void deallocate(T* p, std::size_t n) noexcept { BlockCache::mine().give(p, n * sizeof(T)); }
    template <class U>
    bool operator==(const CachedAllocator<U>&) const noexcept { return true; }
    template <class U>
    bool operator!=(const CachedAllocator<U>&) const noexcept { return false; }
};

} // namespace lastcall::server

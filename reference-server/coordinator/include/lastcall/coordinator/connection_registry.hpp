#pragma once
// Every open connection, so draining can close the idle ones at once and, at the end, all of them.
// The callbacks run on the coordinator's thread; a connection posts to its own executor and decides
// there whether it is really idle (no request started, no bytes waiting).
#include <cstdint>
#include <functional>
#include <mutex>
#include <unordered_map>

namespace lastcall::coordinator {

class ConnectionRegistry {
public:
    struct Callbacks {
        std::function<void()> close_if_idle;
        std::function<void()> close_now;
    };

    class Registration {
    public:
        Registration() = default;
        Registration(Registration&& other) noexcept;
        Registration& operator=(Registration&& other) noexcept;
        Registration(const Registration&) = delete;
        Registration& operator=(const Registration&) = delete;
        ~Registration() { reset(); }
        void reset();

    private:
        friend class ConnectionRegistry;
        Registration(ConnectionRegistry* registry, std::uint64_t id) : registry_(registry), id_(id) {}
        ConnectionRegistry* registry_ = nullptr;
        std::uint64_t id_ = 0;
    };

    Registration add(Callbacks callbacks);
    void close_idle();
    void close_all();
    std::size_t size() const;

private:
    enum class Which { idle, all };
    void close(Which which);
    void remove(std::uint64_t id);

    mutable std::mutex mutex_;
    std::uint64_t next_id_ = 1;
    std::unordered_map<std::uint64_t, Callbacks> connections_;
};

} // namespace lastcall::coordinator

#pragma once
// A move-only proof of membership: while it lives, its owner counts one request, stream, task or
// connection; destroying it (or release()) tells the owner, exactly once. The drain guard, the task
// handle and the connection registration are all this one shape.
#include <cstdint>
#include <utility>

namespace lastcall::coordinator {

// Owner must have `void release_ticket(std::uint64_t id)` reachable by Ticket<Owner>.
template <class Owner>
class Ticket {
public:
    Ticket() = default;
    Ticket(Owner* owner, std::uint64_t id) : owner_(owner), id_(id) {}
    Ticket(Ticket&& other) noexcept : owner_(std::exchange(other.owner_, nullptr)), id_(other.id_) {}
    Ticket& operator=(Ticket&& other) noexcept {
        if (this != &other) {
            release();
            owner_ = std::exchange(other.owner_, nullptr);
            id_ = other.id_;
        }
        return *this;
    }
    Ticket(const Ticket&) = delete;
    Ticket& operator=(const Ticket&) = delete;
    ~Ticket() { release(); }

    void release() {
        if (auto* owner = std::exchange(owner_, nullptr)) owner->release_ticket(id_);
    }
    explicit operator bool() const { return owner_ != nullptr; }
    std::uint64_t id() const { return id_; }

private:
    Owner* owner_ = nullptr;
    std::uint64_t id_ = 0;
};

} // namespace lastcall::coordinator

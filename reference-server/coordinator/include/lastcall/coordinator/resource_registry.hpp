#pragma once
// Named resources (database, files, log buffers...) that shutdown closes in reverse order of
// registration, each bounded by its own timeout and by the global deadline.
#include "lastcall/coordinator/clock.hpp"

#include <functional>
#include <mutex>
#include <string>
#include <vector>

namespace lastcall::coordinator {

class ResourceRegistry {
public:
    // Called once when the close finished; an empty string means it closed cleanly.
    using Done = std::function<void(std::string error)>;
    using Close = std::function<void(Done done)>;

    struct Resource {
        std::string name;
        Duration timeout;
        Close close;
    };

    void add(std::string name, Duration timeout, Close close);
    // For a close that blocks: it runs inline and cannot be interrupted, so its timeout is judged
    // after the fact (a close that took longer is reported timed_out).
    void add_blocking(std::string name, Duration timeout, std::function<void()> close);

    std::vector<Resource> in_close_order() const;

private:
    mutable std::mutex mutex_;
    std::vector<Resource> resources_;
};

} // namespace lastcall::coordinator

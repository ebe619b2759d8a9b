#include "lastcall/coordinator/resource_registry.hpp"

#include <algorithm>

namespace lastcall::coordinator {

void ResourceRegistry::add(std::string name, Duration timeout, Close close) {
    std::lock_guard lock(mutex_);
    resources_.push_back(Resource{std::move(name), timeout, std::move(close)});
}

void ResourceRegistry::add_blocking(std::string name, Duration timeout, std::function<void()> close) {
    add(std::move(name), timeout, [close = std::move(close)](Done done) {
        try {
            close();
            done({});
        } catch (const std::exception& e) {
            done(e.what());
        }
    });
}

std::vector<ResourceRegistry::Resource> ResourceRegistry::in_close_order() const {
    std::lock_guard lock(mutex_);
    std::vector<Resource> ordered(resources_.rbegin(), resources_.rend());
    return ordered;
}

} // namespace lastcall::coordinator

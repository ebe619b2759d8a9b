#pragma once
// /status (JSON) and /metrics (Prometheus text format).
#include "app_state.hpp"

#include <string>

namespace lastcall::server {

std::string status_json(AppState& app);
std::string metrics_text(AppState& app);

} // namespace lastcall::server

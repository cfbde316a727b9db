#pragma once
// Demo mode: with no upstream key at all, the hub runs bailian-sim as a child process on a
// free loopback port and talks to it instead of DashScope. The child dies with the hub.
#include <sys/types.h>

#include <cstdint>
#include <string>

#include "core/result.hpp"

namespace hub::app {

struct SimChild {
    pid_t pid = -1;
    std::uint16_t port = 0;
};

std::string DefaultSimPath();  // bailian-sim next to the running bailian-hub
core::Result<SimChild> StartSim(const std::string& sim_path, const std::string& data_dir);
void StopSim(SimChild& child);

}  // namespace hub::app

// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
// The wrapper's side of the protocol: ask vsteer-libvirtd for a tap's four steering fds.
#pragma once

#include "unique_fd.hpp"

#include <array>
#include <cstdint>
#include <string>

namespace vsteer::libvirt
{

struct SteeringFds {
	std::array<UniqueFd, 4> fds; // program, config, key, table (FD_CLOEXEC set)
	std::string tap;
	uint32_t prog_id = 0;
};

// Connects to `socket_path`, proves the tap with `tap_fd` (one of its queues) and returns the
// fds. Throws vsteer::Error with the daemon's reason when it refuses.
SteeringFds request_steering_fds(const std::string &socket_path, int tap_fd, unsigned queues);

} // namespace vsteer::libvirt

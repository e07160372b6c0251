// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
// The pinned steering objects of a libvirt domain's tap, in the default place
// (/sys/fs/bpf/vsteer/TAP, root-only), so that `vsteer list/show/check --tap TAP` see them.
// The QEMU hook and vsteer-libvirtd both create and remove them; both do it under one
// lock (/run/vsteer/libvirt.lock), so a pin set is never half-made or removed while another
// process is about to hand it out.
#pragma once

#include "steering_objects.hpp"

#include <string>

namespace vsteer::libvirt
{

inline constexpr const char *kStateDir = "/run/vsteer";

struct PinnedSteering {
	SteeringObjects objects;
	bool created = false; // loaded and pinned now (false: reused an existing pin set)
};

// Opens the tap's pin set, or loads the steering program, writes the default configuration
// for `queues` queues (random key, the six non-_EX types, table spread over the queues) and
// pins it. An incomplete or wrong pin set is an error naming the directory, never replaced.
PinnedSteering ensure_steering_pins(const std::string &tap, unsigned queues);

// Removes the tap's pin set; returns false if there was none.
bool remove_steering_pins(const std::string &tap);

} // namespace vsteer::libvirt

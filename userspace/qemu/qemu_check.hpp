// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
// `vsteer check`: is what the guest programmed (through QEMU, into the pinned maps)
// consistent with the tap (attached queues) and with the process that serves the tap
// (does it hold the steering program and the maps it writes)? Each finding has a stable
// name so that scripts and tests can match it.
#pragma once

#include "check_model.hpp"

#include <string>
#include <vector>

namespace vsteer::qemu
{

std::vector<check::Finding> check_consistency(const check::CheckInput &in);

// Processes in the caller's network namespace holding queue fds of `tap` (from
// /proc/PID/fdinfo: "iff:" of tun fds, "prog_id:" / "map_id:" of BPF fds).
std::vector<check::TapHolder> find_tap_holders(const std::string &tap);

} // namespace vsteer::qemu

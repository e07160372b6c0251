// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
// Which of a QEMU command line's devices the <emulator> wrapper gives steering fds: every
// virtio-net -device with rss on whose -netdev is a tap passed as fds (how libvirt starts
// a domain: it opens the tap queues itself). Pure, for unit tests.
#pragma once

#include <string>
#include <vector>

namespace vsteer::libvirt
{

struct SteeringTarget {
	std::string netdev_id;
	int tap_fd = -1;     // the netdev's first queue fd: proof of the tap for vsteer-libvirtd
	unsigned queues = 0; // number of queue fds
};

// argv[0] is QEMU. Anything else (capability probing, no rss, a tap QEMU opens itself by
// ifname, a device that already has ebpf-rss-fds) yields no target: QEMU is run untouched.
// Throws qemu::CmdlineError for a malformed -netdev/-device.
std::vector<SteeringTarget> steering_targets(const std::vector<std::string> &argv);

} // namespace vsteer::libvirt

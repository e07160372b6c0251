// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
// Tap devices: what the kernel says about one (rtnetlink, in the caller's network
// namespace, unlike /sys/class/net), creating a persistent multiqueue tap, and
// attaching or detaching a steering program without taking packets from the process
// (QEMU) that holds the tap's queues.
#pragma once

#include "interface_name.hpp"

#include <cstdint>
#include <optional>
#include <string>

namespace vsteer
{

struct TapInfo {
	std::string name;
	int ifindex = 0;
	bool is_tap = false; // IFF_TAP (not IFF_TUN)
	bool multi_queue = false;
	bool vnet_hdr = false;
	bool pi = false;
	bool persist = false;
	unsigned queues = 0;          // attached (enabled) queues
	unsigned disabled_queues = 0; // detached with TUNSETQUEUE
	// IFLA_TUN_HASH_REPORT: TUN_HASH_REPORT_* flags in effect; nullopt where the kernel
	// lacks the kernel-patches/ series (it sends the attribute for every tun device)
	std::optional<uint32_t> hash_report;
};

// From RTM_GETLINK, without attaching a queue. nullopt if no such device; throws if the
// device exists but is not a tun/tap.
std::optional<TapInfo> query_tap(const std::string &name);

// Creates a persistent multiqueue tap (IFF_VNET_HDR, IFF_NO_PI) with `queues` queues
// allocated and then released, so that QEMU or a test can attach them.
void create_tap(const std::string &name, unsigned queues);
// Deletes a persistent tap created by create_tap (clears IFF_PERSIST).
void delete_tap(const std::string &name);

// Sets the tap's steering program. With `hash_report`, first turns on hash reporting
// (kernel-patches/), failing before anything changes where the kernel lacks it.
void attach_steering(const std::string &tap, int prog_fd, bool hash_report = false);
// Clears the steering program (and hash reporting, where the kernel has it).
void detach_steering(const std::string &tap);
// Whether hash reporting is on; nullopt where the kernel does not support it. Read from
// RTM_GETLINK (IFLA_TUN_HASH_REPORT): never attaches a queue to the tap.
std::optional<bool> query_hash_report(const std::string &tap);

} // namespace vsteer

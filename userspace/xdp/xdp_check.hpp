// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
// `vsteer check`, host side: where the XDP classifier (docs/xdp.md) knows a VM on the checked
// tap, is it consistent with the guest's policy on that tap? It must hash with the very maps
// the tap's steering program uses (QEMU writes the guest's policy there), have an online CPU
// in the cpumap for every queue that policy can select, and deliver into this tap. The
// findings have the names and the format of check_model.hpp; without classifier state or
// without a VM on the tap there is nothing to compare (status skip).
#pragma once

#include "check_model.hpp"
#include "xdp_control.hpp"

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace vsteer
{

// xdp_cpumap[cpu] as the kernel reports it.
struct XdpCpumapEntry {
	uint32_t qsize = 0;
	uint32_t prog_id = 0; // the cpumap program run on that CPU (0: none)
};

// One VM of the classifier whose tap is the checked one.
struct XdpVmState {
	VmInfo vm;
	// Inner maps of xdp_vm_config / xdp_vm_key / xdp_vm_table for the VM (0: no entry).
	uint32_t config_map_id = 0, key_map_id = 0, table_map_id = 0;
	std::optional<uint32_t> devmap_ifindex; // xdp_tap_devmap[VM id]
};

struct XdpCheckInput {
	std::string pin_dir;         // the classifier's pin directory
	bool present = false;        // its maps are pinned there
	std::string problem;         // they are, but could not be read
	std::vector<XdpVmState> vms; // VMs registered for the checked tap (by name)
	std::vector<unsigned> online_cpus;
	std::map<unsigned, XdpCpumapEntry> cpumap; // entries of the CPUs the VMs name; absent: none
};

// The queues the guest's policy can select: the unclassified queue, and the table's entries
// when packets are hashed at all (redirect on, a hash type enabled, a table).
std::vector<unsigned> selectable_queues(const RssConfig &c, unsigned table_len);

// Per VM on the tap: xdp (what it is), xdp-tap, xdp-policy-maps, then for the actions that
// hash (cpu, cpu-pass) xdp-queue-cpus and xdp-cpus, and xdp-placement; each detail starts
// with "vm NAME". Without state or VM: one xdp finding, skip.
std::vector<check::Finding> check_xdp(const check::CheckInput &guest, const XdpCheckInput &xdp);

// Reads the classifier's state for `tap` from the maps pinned in `pin_dir`. Never throws:
// what cannot be read ends up in `problem`.
XdpCheckInput read_xdp_state(const std::string &tap, const std::string &pin_dir);

} // namespace vsteer

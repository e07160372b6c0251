// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
// The XDP classifier's maps (pinned by name under one directory, shared by every NIC the
// classifier is attached to, by the tc east-west program and across upgrades) and the
// attach / replace / detach of the programs (docs/xdp.md).
#pragma once

#include "bpf_map.hpp"
#include "unique_fd.hpp"
#include "xdp_abi.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

struct xdp_classify;

namespace vsteer
{

// $VSTEER_XDP_PIN_DIR or VSTEER_XDP_PIN_ROOT.
std::string default_xdp_pin_dir();

// Map helpers BpfMap<K,V> does not have.
bool map_erase(int fd, const void *key); // false if the key was absent; throws on other errors
template <typename K> std::vector<K> map_keys(int fd)
{
	std::vector<K> keys;
	K key{}, next{};
	const K *prev = nullptr;
	while (bpf_map_get_next_key(fd, prev, &next) == 0) {
		keys.push_back(next);
		key = next;
		prev = &key;
	}
	return keys;
}

struct XdpMaps {
	BpfMap<uint32_t, vsteer_xdp_vm> vms;
	BpfMap<vsteer_xdp_mac_key, uint32_t> macs;
	BpfMap<vsteer_xdp_lpm4, uint32_t> prefix4;
	BpfMap<vsteer_xdp_lpm6, uint32_t> prefix6;
	BpfMap<vsteer_xdp_rule_key, vsteer_xdp_rule> rules;
	BpfMap<uint32_t, vsteer_xdp_filter> filter; // built from the four above (xdp_filter.hpp)
	BpfMap<uint32_t, vsteer_xdp_rate_state> rate;
	BpfMap<uint32_t, bpf_devmap_val> devmap;
	BpfMap<uint32_t, bpf_cpumap_val> cpumap;
	// Outer ARRAY_OF_MAPS: write an inner map fd, read back its id.
	BpfMap<uint32_t, uint32_t> vm_config, vm_key, vm_table;
	PerCpuArray<vsteer_xdp_vm_stats> vm_stats;
	PerCpuArray<vsteer_xdp_rule_stats> rule_stats;
	PerCpuArray<vsteer_xdp_stats> stats;
	std::string dir; // pin directory, empty for unpinned (tests)

	// Opens the pinned maps; throws naming the missing pin.
	static XdpMaps open_pinned(const std::string &dir);
	// Creates the maps (loads the objects without attaching anything) if not pinned yet,
	// and builds the prefilter if nobody has (a new map, or pins of an older version).
	static XdpMaps create_or_open(const std::string &dir);
	static bool is_pinned(const std::string &dir);
	// Dup'ed from a loaded skeleton (tests).
	static XdpMaps from_skeleton(const ::xdp_classify *skel);
};

// Whether this kernel lets XDP programs call bpf_xdp_adjust_meta (probed once). Where it
// does not, only the classifier variant without metadata (vsteer_nometa) loads.
bool xdp_metadata_supported();

// A loaded classifier without pins (BPF_PROG_TEST_RUN tests and the bench).
class XdpTestObjects
{
public:
	// Recorded: where the kernel has no XDP metadata, the classifier also copies each verdict
	// into last_verdict (record_verdict), for tests to read. NotRecorded (the bench): the
	// program as `xdp attach` loads it, without that store.
	enum class Verdicts { NotRecorded, Recorded };
	explicit XdpTestObjects(Verdicts verdicts = Verdicts::NotRecorded);
	~XdpTestObjects();
	XdpTestObjects(const XdpTestObjects &) = delete;
	XdpTestObjects &operator=(const XdpTestObjects &) = delete;
	int classify_fd() const; // the loaded variant (with metadata where the kernel allows it)
	// Without metadata support the classifier records each verdict instead (record_verdict):
	// the last one, cleared by reading it.
	bool records_verdict() const;
	std::optional<vsteer_xdp_meta> take_last_verdict();
	int cpumap_prog_fd() const;
	XdpMaps &maps() { return maps_; }

private:
	::xdp_classify *skel_ = nullptr;
	XdpMaps maps_;
};

// A VM's RSS policy maps: the tap's config / toeplitz_key / indirection_table (QEMU
// layout, xdp_abi.h). Borrowed fds; the classifier holds its own references once added.
struct RssPolicyFds {
	int config = -1, key = -1, table = -1;
};

// Standalone policy maps in the QEMU layout, as QEMU's ebpf-rss-fds creates them
// (tests and the bench; a real VM's come from the tap's pins).
class RssPolicyMaps
{
public:
	RssPolicyMaps();
	void write(const struct RssConfig &c); // table, then key, then config (like SteeringObjects)
	RssPolicyFds fds() const { return {config_.get(), key_.get(), table_.get()}; }

private:
	UniqueFd config_, key_, table_;
};

enum class XdpMode { Native, Generic };
const char *xdp_mode_name(XdpMode m);

struct XdpAttachReport {
	std::string how; // "attached", "replaced in place", "replaced in dispatcher", ...
	bool dispatcher = false;
	// false: the variant without XDP metadata (the dispatcher refused the other one); the
	// cpumap program then classifies each frame again (meta_fallback)
	bool metadata = true;
	uint32_t prog_id = 0;
	XdpMode mode = XdpMode::Native;
};

// What is attached to a device (for `xdp show`).
struct XdpDeviceState {
	bool attached = false;   // our classifier is on the device
	bool dispatcher = false; // through libxdp's dispatcher
	std::string mode;        // native, skb, hw, ...
	uint32_t prog_id = 0;
	bool metadata = true; // false: the variant without XDP metadata (see XdpAttachReport)
	std::vector<std::string> other_programs; // names of other programs on the device
};

// Loads the classifier (maps from `pin_dir`, created if absent) and attaches it to `dev`
// in the current network namespace, or replaces the one attached there without detaching
// the device's XDP in between. Sets up the cpumap entries with the new cpumap program.
XdpAttachReport xdp_attach(const std::string &dev, std::optional<XdpMode> mode, const std::string &pin_dir);
// Detaches the classifier from `dev` (other libxdp programs stay).
void xdp_detach(const std::string &dev);
XdpDeviceState xdp_device_state(const std::string &dev);
// Removes every pin in `dir` (the maps go away when no program uses them).
void xdp_unpin(const std::string &dir);

// tc east-west program on a tap's ingress (clsact); maps shared through `pin_dir`.
void eastwest_attach(const std::string &tap, const std::string &pin_dir);
void eastwest_detach(const std::string &tap);
bool eastwest_attached(const std::string &tap);

// Online CPUs (from /sys/devices/system/cpu/online).
std::vector<unsigned> online_cpus();

} // namespace vsteer

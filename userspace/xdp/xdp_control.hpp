// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
// The classifier's configuration: VMs (tap, MAC, prefixes, queue -> CPU table, rate limit,
// action), exact 5-tuple rules and their validation (text forms: xdp_text.hpp). Every operation validates
// everything first and either applies completely or changes nothing (docs/xdp.md).
#pragma once

#include "xdp_objects.hpp"
#include "xdp_text.hpp"

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace vsteer
{

struct VmSpec {
	std::string name;
	std::string tap;
	std::vector<MacAddress> macs;
	std::vector<IpPrefix> prefixes;
	std::vector<uint16_t> queue_cpus; // empty: guest queue q -> the q-th online CPU (mod count)
	uint32_t rate_pps = 0;            // 0: unlimited
	uint32_t burst = 0;               // 0: rate / 100, at least 1
	uint32_t action = VSTEER_XDP_CPU;
	std::string rss_pin_dir; // the tap's steering pins; empty: default_pin_dir(tap)
	bool eastwest = false;   // attach the tc east-west program to the tap
};

struct VmInfo {
	uint32_t id = 0;
	vsteer_xdp_vm slot{};
	std::vector<MacAddress> macs;
	std::vector<IpPrefix> prefixes;
	bool has_policy = false;
	bool eastwest = false;
	vsteer_xdp_vm_stats totals{};         // summed over CPUs
	std::vector<uint64_t> cpumap_by_cpu;  // cpumap_delivered per CPU
	std::vector<uint64_t> packets_by_cpu; // classified per CPU (the CPU the NIC queue ran on)
};

struct RuleInfo {
	uint32_t id = 0;
	RuleMatch match;
	uint32_t action = 0;
	std::string vm;
	vsteer_xdp_rule_stats totals{};
};

class XdpControl
{
public:
	explicit XdpControl(XdpMaps &maps) : m_(maps) {}

	// Adds a VM. `policy`: the tap's RSS maps; nullopt opens the tap's pins. Tests pass
	// `tap_ifindex` to skip the device lookup. Returns the VM id.
	uint32_t add_vm(const VmSpec &spec, std::optional<RssPolicyFds> policy = std::nullopt,
	                std::optional<unsigned> tap_ifindex = std::nullopt);
	void del_vm(const std::string &name);
	uint32_t add_rule(const RuleMatch &match, const RuleTarget &target);
	void del_rule(uint32_t id);
	void del_rule(const RuleMatch &match);

	std::optional<uint32_t> find_vm(const std::string &name) const;
	std::vector<VmInfo> vms() const;
	std::vector<RuleInfo> rules() const;
	vsteer_xdp_stats totals() const;

private:
	std::string known_vms() const;
	XdpMaps &m_;
};

} // namespace vsteer

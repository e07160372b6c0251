// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include "xdp_check.hpp"

#include "error.hpp"
#include "steering_objects.hpp"

#include <bpf/bpf.h>
#include <linux/bpf.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <set>

namespace vsteer::qemu
{
namespace
{

template <typename T> std::string join(const std::vector<T> &v, const char *sep = ",")
{
	std::string s;
	for (const T &x : v)
		s += (s.empty() ? "" : sep) + std::to_string(x);
	return s;
}

std::string join_text(const std::vector<std::string> &v, const char *sep)
{
	std::string s;
	for (const std::string &x : v)
		s += (s.empty() ? "" : sep) + x;
	return s;
}

std::string field(const char *s, size_t max)
{
	return std::string(s, strnlen(s, max));
}

std::string vm_name(const XdpVmState &s)
{
	return field(s.vm.slot.name, sizeof(s.vm.slot.name));
}

std::vector<uint16_t> queue_cpus(const XdpVmState &s)
{
	uint32_t n = std::min<uint32_t>(s.vm.slot.num_queue_cpus, VSTEER_MAX_QUEUES);
	return {s.vm.slot.queue_cpu, s.vm.slot.queue_cpu + n};
}

bool online(const XdpCheckInput &x, unsigned cpu)
{
	return std::find(x.online_cpus.begin(), x.online_cpus.end(), cpu) != x.online_cpus.end();
}

// The CPU `vm add` gives guest queue q by default: the q-th online CPU (mod their count).
uint16_t default_cpu(const XdpCheckInput &x, unsigned q)
{
	return x.online_cpus.empty() ? 0 : static_cast<uint16_t>(x.online_cpus[q % x.online_cpus.size()]);
}

// What recreates the VM as it is, but with `cpus` as its queue CPUs and `rss_pins` as its
// policy pins (empty: the tap's default pins): there is no in-place change of a VM.
std::string readd(const XdpVmState &s, const std::string &tap, const std::vector<uint16_t> &cpus,
                  const std::string &xdp_pin_dir, const std::string &rss_pins)
{
	const std::string name = vm_name(s);
	const std::string pin = xdp_pin_dir == VSTEER_XDP_PIN_ROOT ? "" : " --pin-dir " + xdp_pin_dir;
	std::string add = "vsteer vm add " + name + " --tap " + tap;
	for (const MacAddress &m : s.vm.macs)
		add += " --mac " + format_mac(m);
	for (const IpPrefix &p : s.vm.prefixes)
		add += " --prefix " + format_prefix(p);
	add += " --queue-cpus " + join(cpus);
	if (s.vm.slot.rate_pps)
		add += " --rate " + std::to_string(s.vm.slot.rate_pps) + " --burst " +
		       std::to_string(s.vm.slot.rate_burst);
	add += std::string(" --action ") + vm_action_name(s.vm.slot.action);
	if (!rss_pins.empty())
		add += " --rss-pins " + rss_pins;
	if (s.vm.eastwest)
		add += " --eastwest";
	return "`vsteer vm del " + name + pin + "`, then `" + add + pin + "`";
}

// The VM's queue CPUs with offline ones replaced and extended to cover `selectable`, each
// new CPU as `vm add` would choose it by default.
std::vector<uint16_t> suggested_cpus(const XdpCheckInput &x, const std::vector<uint16_t> &cpus,
                                     const std::optional<std::vector<unsigned>> &selectable)
{
	std::vector<uint16_t> out = cpus;
	for (size_t q = 0; q < out.size(); q++)
		if (!online(x, out[q]))
			out[q] = default_cpu(x, static_cast<unsigned>(q));
	if (selectable && !selectable->empty())
		while (out.size() <= selectable->back())
			out.push_back(default_cpu(x, static_cast<unsigned>(out.size())));
	return out;
}

} // namespace

std::vector<unsigned> selectable_queues(const RssConfig &c, unsigned table_len)
{
	std::set<unsigned> q{c.unclassified_queue};
	if (c.redirect && c.hash_types && table_len)
		for (size_t i = 0; i < c.table.size() && i < table_len; i++)
			q.insert(c.table[i]);
	return {q.begin(), q.end()};
}

std::vector<Finding> check_xdp(const CheckInput &g, const XdpCheckInput &x)
{
	std::vector<Finding> f;
	auto add = [&](const char *name, Status s, std::string d) { f.push_back({name, s, std::move(d)}); };

	if (!x.present) {
		add("xdp", Status::skip,
		    "no XDP classifier maps in " + x.pin_dir +
		        " (vsteer xdp attach / vm add create them); no host policy to compare");
		return f;
	}
	if (!x.problem.empty()) {
		add("xdp", Status::fail, "classifier maps in " + x.pin_dir + ": " + x.problem);
		return f;
	}
	if (x.vms.empty()) {
		add("xdp", Status::skip,
		    "no VM of the XDP classifier (" + x.pin_dir + ") has tap " + g.tap +
		        "; no host policy to compare");
		return f;
	}

	const bool tap_ok = g.info && g.info->is_tap;
	const unsigned active = tap_ok ? g.info->queues : 0;
	std::optional<std::vector<unsigned>> selectable;
	if (g.config)
		selectable = selectable_queues(*g.config, g.raw_table_len);
	const std::string pins = g.pin_dir.empty() ? default_pin_dir(g.tap) : g.pin_dir;
	const std::string rss_pins = pins == default_pin_dir(g.tap) ? "" : pins;

	for (const XdpVmState &s : x.vms) {
		const std::string who = "vm " + vm_name(s);
		const uint32_t action = s.vm.slot.action;
		const std::string act = vm_action_name(action);
		const std::vector<uint16_t> cpus = queue_cpus(s);
		const bool hashes = action == VSTEER_XDP_CPU || action == VSTEER_XDP_CPU_PASS;
		const bool into_tap = action == VSTEER_XDP_TAP || action == VSTEER_XDP_CPU;
		const std::vector<uint16_t> fixed = hashes ? suggested_cpus(x, cpus, selectable) : cpus;

		std::string summary = who + " (id " + std::to_string(s.vm.id) + "): action " + act +
		                      ", queue cpus " + join(cpus);
		if (s.vm.slot.rate_pps)
			summary += ", rate " + std::to_string(s.vm.slot.rate_pps) + " pps burst " +
			           std::to_string(s.vm.slot.rate_burst);
		add("xdp", Status::ok, summary + ", maps in " + x.pin_dir);

		// Delivery into this tap (the devmap, used by tap directly and by cpu after the cpumap).
		const uint32_t reg = s.vm.slot.tap_ifindex;
		if (!into_tap) {
			add("xdp-tap", Status::skip,
			    who + ": action " + act + " does not redirect into the tap");
		} else if (!tap_ok) {
			add("xdp-tap", Status::fail,
			    who + ": redirects into ifindex " + std::to_string(reg) + ", but tap " + g.tap +
			        " is not in this network namespace");
		} else if (reg != static_cast<uint32_t>(g.info->ifindex)) {
			add("xdp-tap", Status::fail,
			    who + ": was added for tap " + g.tap + " as ifindex " + std::to_string(reg) +
			        ", but " + g.tap + " is ifindex " + std::to_string(g.info->ifindex) +
			        " now (recreated since?), so its frames go elsewhere; re-add it: " +
			        readd(s, g.tap, fixed, x.pin_dir, rss_pins));
		} else if (!s.devmap_ifindex) {
			add("xdp-tap", Status::fail,
			    who + ": xdp_tap_devmap has no entry for VM id " + std::to_string(s.vm.id) +
			        ": every redirect into the tap fails (redirect_error); re-add it: " +
			        readd(s, g.tap, fixed, x.pin_dir, rss_pins));
		} else if (*s.devmap_ifindex != reg) {
			add("xdp-tap", Status::fail,
			    who + ": xdp_tap_devmap[" + std::to_string(s.vm.id) +
			        "] redirects into ifindex " + std::to_string(*s.devmap_ifindex) +
			        ", not into tap " + g.tap + " (ifindex " + std::to_string(reg) +
			        "); re-add it: " + readd(s, g.tap, fixed, x.pin_dir, rss_pins));
		} else {
			add("xdp-tap", Status::ok,
			    who + ": redirects into tap " + g.tap + " (ifindex " + std::to_string(reg) + ")");
		}

		if (!hashes) {
			add("xdp-policy-maps", Status::skip,
			    who + ": action " + act +
			        " does not hash with the guest's policy (no policy maps, queue CPUs or "
			        "cpumap "
			        "to compare)");
		} else {
			// The same policy maps as the tap's steering program, so host and guest hash alike.
			const uint32_t have[3] = {s.config_map_id, s.key_map_id, s.table_map_id};
			const uint32_t want[3] = {g.config_map_id, g.key_map_id, g.table_map_id};
			const char *names[3] = {VSTEER_PIN_CONFIG, VSTEER_PIN_KEY, VSTEER_PIN_TABLE};
			if (!g.config) {
				add("xdp-policy-maps", Status::skip,
				    who + ": the tap has no complete pin set to compare with (see pins)");
			} else if (!have[0] && !have[1] && !have[2]) {
				add("xdp-policy-maps", Status::fail,
				    who +
				        ": has no RSS policy maps, so the classifier sends every frame to "
				        "guest "
				        "queue 0 (no_policy); re-add it with the tap's pins: " +
				        readd(s, g.tap, fixed, x.pin_dir, rss_pins));
			} else {
				std::vector<std::string> differ;
				for (int i = 0; i < 3; i++)
					if (have[i] != want[i])
						differ.push_back(std::string(names[i]) + " map id " +
						                 std::to_string(have[i]) + " (the tap's: " +
						                 std::to_string(want[i]) + ")");
				if (!differ.empty())
					add("xdp-policy-maps", Status::fail,
					    who + ": hashes with other maps than tap " + g.tap +
					        "'s pins in " + pins + ": " + join_text(differ, ", ") +
					        "; host and guest choose queues from different policies; "
					        "re-add it "
					        "with the tap's pins: " +
					        readd(s, g.tap, fixed, x.pin_dir, rss_pins));
				else
					add("xdp-policy-maps", Status::ok,
					    who +
					        ": hashes with the tap's config, toeplitz_key and "
					        "indirection_table "
					        "(map ids " +
					        join(std::vector<uint32_t>(want, want + 3)) + ")");
			}

			// A CPU for every queue the guest's policy can select.
			if (!selectable) {
				add("xdp-queue-cpus", Status::skip,
				    who + ": no guest policy to compare with (see pins)");
			} else {
				std::vector<unsigned> missing;
				for (unsigned q : *selectable)
					if (q >= cpus.size())
						missing.push_back(q);
				if (!missing.empty()) {
					add("xdp-queue-cpus", Status::fail,
					    who + ": guest queue" + (missing.size() > 1 ? "s " : " ") +
					        join(missing) + (missing.size() > 1 ? " have" : " has") +
					        " no CPU in --queue-cpus " +
					        (cpus.empty() ? "(none)" : join(cpus)) +
					        " (the classifier wraps queue q to the CPU of queue q % " +
					        std::to_string(cpus.size()) + "); re-add it: " +
					        readd(s, g.tap, fixed, x.pin_dir, rss_pins));
				} else {
					add("xdp-queue-cpus", Status::ok,
					    who + ": every queue the guest's policy selects (" +
					        join(*selectable) + ") has a CPU");
				}
			}

			// Those CPUs exist and the cpumap reaches them (with the program that delivers into
			// the tap, for cpu).
			std::vector<std::string> offline, no_entry, no_prog;
			std::set<unsigned> seen;
			for (size_t q = 0; q < cpus.size(); q++) {
				unsigned c = cpus[q];
				if (!online(x, c)) {
					offline.push_back("CPU " + std::to_string(c) + " (queue " +
					                  std::to_string(q) + ")");
					continue;
				}
				if (!seen.insert(c).second)
					continue;
				auto e = x.cpumap.find(c);
				if (e == x.cpumap.end() || !e->second.qsize)
					no_entry.push_back(std::to_string(c));
				else if (action == VSTEER_XDP_CPU && !e->second.prog_id)
					no_prog.push_back(std::to_string(c));
			}
			std::vector<std::string> problems;
			if (!offline.empty())
				problems.push_back(
				    join_text(offline, ", ") + " not online (online: " + join(x.online_cpus) +
				    "); re-add it: " + readd(s, g.tap, fixed, x.pin_dir, rss_pins));
			if (!no_entry.empty())
				problems.push_back(
				    "no xdp_cpumap entry for CPU " + join_text(no_entry, ",") +
				    ", so redirects there fail (redirect_error); `vsteer xdp attach "
				    "--dev IF` (again, on each NIC) fills the cpumap for the online "
				    "CPUs");
			if (!no_prog.empty())
				problems.push_back(
				    "the xdp_cpumap entry of CPU " + join_text(no_prog, ",") +
				    " runs no program, so frames go to the host stack instead of the "
				    "tap; `vsteer xdp attach --dev IF` (again) sets vsteer_cpumap");
			if (!problems.empty())
				add("xdp-cpus", Status::fail, who + ": " + join_text(problems, "; "));
			else
				add("xdp-cpus", Status::ok,
				    who + ": CPU" + (seen.size() > 1 ? "s " : " ") +
				        join(std::vector<unsigned>(seen.begin(), seen.end())) +
				        " online and in xdp_cpumap");
		}

		// Which tap queue a frame enters. Native XDP redirects into a tap on queue
		// (CPU % attached queues) and skips the steering program; generic XDP runs it.
		if (action == VSTEER_XDP_CPU) {
			if (!selectable || !active) {
				add("xdp-placement", Status::skip,
				    who + ": no " + (selectable ? "active queues" : "guest policy") +
				        " to compare the CPUs with");
			} else {
				std::vector<std::string> off;
				for (unsigned q : *selectable)
					if (q < cpus.size() && cpus[q] % active != q)
						off.push_back(std::to_string(q) + " -> CPU " +
						              std::to_string(cpus[q]) + " -> tap queue " +
						              std::to_string(cpus[q] % active));
				if (!off.empty())
					add("xdp-placement", Status::warn,
					    who + ": with native XDP a frame enters tap queue CPU % " +
					        std::to_string(active) + ", so guest queue " +
					        join_text(off, ", ") + "; give queue q a CPU c with c % " +
					        std::to_string(active) +
					        " == q where the host has one (generic XDP runs the tap's "
					        "steering "
					        "program, which places the frames on the guest's queue)");
				else
					add("xdp-placement", Status::ok,
					    who +
					        ": each guest queue's CPU enters the tap on that queue (CPU "
					        "% " +
					        std::to_string(active) + ")");
			}
		} else if (action == VSTEER_XDP_TAP && !active) {
			add("xdp-placement", Status::skip, who + ": no active queues to place frames on");
		} else if (action == VSTEER_XDP_TAP) {
			add("xdp-placement", Status::warn,
			    who +
			        ": action tap: with native XDP a frame enters the tap on queue (receiving "
			        "CPU % " +
			        std::to_string(active) +
			        "), whatever the guest's policy says; --action cpu follows the policy");
		} else if (action == VSTEER_XDP_CPU_PASS) {
			add("xdp-placement", Status::ok,
			    who + ": the host stack hands the frames to the tap, whose steering program "
			          "places them");
		} else {
			add("xdp-placement", Status::skip,
			    who + ": action " + act + " does not deliver into the tap");
		}
	}
	return f;
}

namespace
{

// The inner map an ARRAY_OF_MAPS slot holds (its id), 0 if the slot is empty.
uint32_t inner_map_id(const BpfMap<uint32_t, uint32_t> &outer, uint32_t id, const char *name)
{
	uint32_t inner = 0;
	if (bpf_map_lookup_elem(outer.fd(), &id, &inner) == 0)
		return inner;
	if (errno == ENOENT)
		return 0;
	throw_errno(std::string("map ") + name, "look up VM id " + std::to_string(id));
}

} // namespace

XdpCheckInput read_xdp_state(const std::string &tap, const std::string &pin_dir)
{
	XdpCheckInput x;
	x.pin_dir = pin_dir;
	if (!XdpMaps::is_pinned(pin_dir))
		return x;
	x.present = true;
	try {
		XdpMaps maps = XdpMaps::open_pinned(pin_dir);
		XdpControl ctl(maps);
		x.online_cpus = online_cpus();
		for (VmInfo &v : ctl.vms()) {
			if (field(v.slot.tap, sizeof(v.slot.tap)) != tap)
				continue;
			XdpVmState s;
			s.config_map_id = inner_map_id(maps.vm_config, v.id, "xdp_vm_config");
			s.key_map_id = inner_map_id(maps.vm_key, v.id, "xdp_vm_key");
			s.table_map_id = inner_map_id(maps.vm_table, v.id, "xdp_vm_table");
			bpf_devmap_val dv{};
			if (bpf_map_lookup_elem(maps.devmap.fd(), &v.id, &dv) == 0)
				s.devmap_ifindex = dv.ifindex;
			else if (errno != ENOENT)
				throw_errno("map xdp_tap_devmap", "look up VM id " + std::to_string(v.id));
			s.vm = std::move(v);
			for (uint16_t c : queue_cpus(s)) {
				unsigned cpu = c;
				bpf_cpumap_val cv{};
				if (x.cpumap.count(cpu))
					continue;
				if (bpf_map_lookup_elem(maps.cpumap.fd(), &cpu, &cv) == 0)
					x.cpumap[cpu] = {cv.qsize, cv.bpf_prog.id};
				else if (errno != ENOENT)
					throw_errno("map xdp_cpumap", "look up CPU " + std::to_string(cpu));
			}
			x.vms.push_back(std::move(s));
		}
	} catch (const std::exception &e) {
		x.vms.clear();
		x.problem = e.what();
	}
	return x;
}

} // namespace vsteer::qemu

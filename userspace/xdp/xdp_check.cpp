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

namespace vsteer
{

using namespace check;
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

std::vector<uint16_t> vm_queue_cpus(const XdpVmState &s)
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

// The findings of one VM on the checked tap. Each detail starts with "vm NAME: ".
class VmCheck
{
public:
	VmCheck(const CheckInput &g, const XdpCheckInput &x, const XdpVmState &s, std::vector<Finding> &out)
	    : g_(g), x_(x), s_(s), out_(out), who_("vm " + vm_name(s)), action_(s.vm.slot.action),
	      act_(vm_action_name(action_)), cpus_(vm_queue_cpus(s))
	{
		if (g.config)
			selectable_ = selectable_queues(*g.config, g.raw_table_len);
		active_ = g.info && g.info->is_tap ? g.info->queues : 0;
		const std::string pins = g.pin_dir.empty() ? default_pin_dir(g.tap) : g.pin_dir;
		tap_pins_ = pins;
		rss_pins_ = pins == default_pin_dir(g.tap) ? "" : pins;
		repaired_cpus_ = hashes() ? suggested_cpus(x, cpus_, selectable_) : cpus_;
	}

	void run()
	{
		summary();
		tap();
		if (hashes()) {
			policy_maps();
			queue_cpus();
			cpus();
		} else {
			add("xdp-policy-maps", Status::skip,
			    "action " + act_ +
			        " does not hash with the guest's policy (no policy maps, queue CPUs or "
			        "cpumap to compare)");
		}
		placement();
	}

private:
	bool hashes() const { return action_ == VSTEER_XDP_CPU || action_ == VSTEER_XDP_CPU_PASS; }

	void add(const char *name, Status s, const std::string &detail)
	{
		out_.push_back({name, s, who_ + ": " + detail});
	}

	// What recreates the VM as it is (MACs, prefixes, rate, action, east-west), with the
	// repaired queue CPUs and the tap's pins: there is no in-place change of a VM.
	std::string repair() const
	{
		const std::string name = vm_name(s_);
		const std::string pin = x_.pin_dir == VSTEER_XDP_PIN_ROOT ? "" : " --pin-dir " + x_.pin_dir;
		std::string add = "vsteer vm add " + name + " --tap " + g_.tap;
		for (const MacAddress &m : s_.vm.macs)
			add += " --mac " + format_mac(m);
		for (const IpPrefix &p : s_.vm.prefixes)
			add += " --prefix " + format_prefix(p);
		add += " --queue-cpus " + join(repaired_cpus_);
		if (s_.vm.slot.rate_pps)
			add += " --rate " + std::to_string(s_.vm.slot.rate_pps) + " --burst " +
			       std::to_string(s_.vm.slot.rate_burst);
		add += " --action " + act_;
		if (!rss_pins_.empty())
			add += " --rss-pins " + rss_pins_;
		if (s_.vm.eastwest)
			add += " --eastwest";
		return "re-add it: `vsteer vm del " + name + pin + "`, then `" + add + pin + "`";
	}

	void summary()
	{
		std::string d =
		    "(id " + std::to_string(s_.vm.id) + "): action " + act_ + ", queue cpus " + join(cpus_);
		if (s_.vm.slot.rate_pps)
			d += ", rate " + std::to_string(s_.vm.slot.rate_pps) + " pps burst " +
			     std::to_string(s_.vm.slot.rate_burst);
		out_.push_back({"xdp", Status::ok, who_ + " " + d + ", maps in " + x_.pin_dir});
	}

	// Delivery into this tap: the devmap, used by tap directly and by cpu after the cpumap.
	void tap()
	{
		const std::string reg = std::to_string(s_.vm.slot.tap_ifindex);
		if (action_ != VSTEER_XDP_TAP && action_ != VSTEER_XDP_CPU)
			add("xdp-tap", Status::skip, "action " + act_ + " does not redirect into the tap");
		else if (!g_.info || !g_.info->is_tap)
			add("xdp-tap", Status::fail,
			    "redirects into ifindex " + reg + ", but tap " + g_.tap +
			        " is not in this network namespace");
		else if (s_.vm.slot.tap_ifindex != static_cast<uint32_t>(g_.info->ifindex))
			add("xdp-tap", Status::fail,
			    "was added for tap " + g_.tap + " as ifindex " + reg + ", but " + g_.tap +
			        " is ifindex " + std::to_string(g_.info->ifindex) +
			        " now (recreated since?), so its frames go elsewhere; " + repair());
		else if (!s_.devmap_ifindex)
			add("xdp-tap", Status::fail,
			    "xdp_tap_devmap has no entry for VM id " + std::to_string(s_.vm.id) +
			        ": every redirect into the tap fails (redirect_error); " + repair());
		else if (*s_.devmap_ifindex != s_.vm.slot.tap_ifindex)
			add("xdp-tap", Status::fail,
			    "xdp_tap_devmap[" + std::to_string(s_.vm.id) + "] redirects into ifindex " +
			        std::to_string(*s_.devmap_ifindex) + ", not into tap " + g_.tap +
			        " (ifindex " + reg + "); " + repair());
		else
			add("xdp-tap", Status::ok, "redirects into tap " + g_.tap + " (ifindex " + reg + ")");
	}

	// The same policy maps as the tap's steering program, so host and guest hash alike.
	void policy_maps()
	{
		const uint32_t have[3] = {s_.config_map_id, s_.key_map_id, s_.table_map_id};
		const uint32_t want[3] = {g_.config_map_id, g_.key_map_id, g_.table_map_id};
		const char *names[3] = {VSTEER_PIN_CONFIG, VSTEER_PIN_KEY, VSTEER_PIN_TABLE};
		if (!g_.config) {
			add("xdp-policy-maps", Status::skip,
			    "the tap has no complete pin set to compare with (see pins)");
			return;
		}
		if (!have[0] && !have[1] && !have[2]) {
			add("xdp-policy-maps", Status::fail,
			    "has no RSS policy maps, so the classifier sends every frame to guest queue 0 "
			    "(no_policy); " +
			        repair());
			return;
		}
		std::vector<std::string> differ;
		for (int i = 0; i < 3; i++)
			if (have[i] != want[i])
				differ.push_back(std::string(names[i]) + " map id " +
				                 std::to_string(have[i]) +
				                 " (the tap's: " + std::to_string(want[i]) + ")");
		if (!differ.empty())
			add("xdp-policy-maps", Status::fail,
			    "hashes with other maps than tap " + g_.tap + "'s pins in " + tap_pins_ + ": " +
			        join_text(differ, ", ") +
			        "; host and guest choose queues from different policies; " + repair());
		else
			add("xdp-policy-maps", Status::ok,
			    "hashes with the tap's config, toeplitz_key and indirection_table (map ids " +
			        join(std::vector<uint32_t>(want, want + 3)) + ")");
	}

	// A CPU for every queue the guest's policy can select.
	void queue_cpus()
	{
		if (!selectable_) {
			add("xdp-queue-cpus", Status::skip, "no guest policy to compare with (see pins)");
			return;
		}
		std::vector<unsigned> missing;
		for (unsigned q : *selectable_)
			if (q >= cpus_.size())
				missing.push_back(q);
		if (missing.empty()) {
			add("xdp-queue-cpus", Status::ok,
			    "every queue the guest's policy selects (" + join(*selectable_) + ") has a CPU");
			return;
		}
		const bool many = missing.size() > 1;
		add("xdp-queue-cpus", Status::fail,
		    std::string("guest queue") + (many ? "s " : " ") + join(missing) +
		        (many ? " have" : " has") + " no CPU in --queue-cpus " +
		        (cpus_.empty() ? "(none)" : join(cpus_)) +
		        " (the classifier wraps queue q to the CPU of queue q % " +
		        std::to_string(cpus_.size()) + "); " + repair());
	}

	// Those CPUs are online and the cpumap reaches them (with the program that delivers into
	// the tap, for cpu).
	void cpus()
	{
		std::vector<std::string> offline, no_entry, no_prog;
		std::set<unsigned> seen;
		for (size_t q = 0; q < cpus_.size(); q++) {
			const unsigned c = cpus_[q];
			if (!online(x_, c)) {
				offline.push_back("CPU " + std::to_string(c) + " (queue " +
				                  std::to_string(q) + ")");
				continue;
			}
			if (!seen.insert(c).second)
				continue;
			auto e = x_.cpumap.find(c);
			if (e == x_.cpumap.end() || !e->second.qsize)
				no_entry.push_back(std::to_string(c));
			else if (action_ == VSTEER_XDP_CPU && !e->second.prog_id)
				no_prog.push_back(std::to_string(c));
		}
		std::vector<std::string> problems;
		if (!offline.empty())
			problems.push_back(join_text(offline, ", ") +
			                   " not online (online: " + join(x_.online_cpus) + "); " + repair());
		if (!no_entry.empty())
			problems.push_back(
			    "no xdp_cpumap entry for CPU " + join_text(no_entry, ",") +
			    ", so redirects there fail (redirect_error); `vsteer xdp attach --dev IF` "
			    "(again, on each NIC) fills the cpumap for the online CPUs");
		if (!no_prog.empty())
			problems.push_back("the xdp_cpumap entry of CPU " + join_text(no_prog, ",") +
			                   " runs no program, so frames go to the host stack instead of the "
			                   "tap; `vsteer xdp attach --dev IF` (again) sets vsteer_cpumap");
		if (!problems.empty())
			add("xdp-cpus", Status::fail, join_text(problems, "; "));
		else
			add("xdp-cpus", Status::ok,
			    std::string("CPU") + (seen.size() > 1 ? "s " : " ") +
			        join(std::vector<unsigned>(seen.begin(), seen.end())) +
			        " online and in xdp_cpumap");
	}

	// Which tap queue a frame enters. Native XDP redirects into a tap on queue (CPU % attached
	// queues) without the steering program; generic XDP runs it. Only ever a warning: the
	// mode is per NIC, and the guest still receives the frame.
	void placement()
	{
		const std::string n = std::to_string(active_);
		if (action_ == VSTEER_XDP_CPU_PASS) {
			add("xdp-placement", Status::ok,
			    "the host stack hands the frames to the tap, whose steering program places them");
		} else if (action_ != VSTEER_XDP_CPU && action_ != VSTEER_XDP_TAP) {
			add("xdp-placement", Status::skip,
			    "action " + act_ + " does not deliver into the tap");
		} else if (!active_) {
			add("xdp-placement", Status::skip, "no active queues to place frames on");
		} else if (action_ == VSTEER_XDP_TAP) {
			add("xdp-placement", Status::warn,
			    "action tap: with native XDP a frame enters the tap on queue (receiving CPU % " +
			        n + "), whatever the guest's policy says; --action cpu follows the policy");
		} else if (!selectable_) {
			add("xdp-placement", Status::skip, "no guest policy to compare the CPUs with");
		} else {
			std::vector<std::string> off;
			for (unsigned q : *selectable_)
				if (q < cpus_.size() && cpus_[q] % active_ != q)
					off.push_back(std::to_string(q) + " -> CPU " +
					              std::to_string(cpus_[q]) + " -> tap queue " +
					              std::to_string(cpus_[q] % active_));
			if (off.empty())
				add("xdp-placement", Status::ok,
				    "each guest queue's CPU enters the tap on that queue (CPU % " + n + ")");
			else
				add("xdp-placement", Status::warn,
				    "with native XDP a frame enters tap queue CPU % " + n +
				        ", so guest queue " + join_text(off, ", ") +
				        "; give queue q a CPU c with c % " + n +
				        " == q where the host has one (generic XDP runs the tap's steering "
				        "program, which places the frames on the guest's queue)");
		}
	}

	const CheckInput &g_;
	const XdpCheckInput &x_;
	const XdpVmState &s_;
	std::vector<Finding> &out_;
	const std::string who_;
	const uint32_t action_;
	const std::string act_;
	const std::vector<uint16_t> cpus_;
	std::optional<std::vector<unsigned>> selectable_;
	unsigned active_ = 0;
	std::string tap_pins_, rss_pins_;
	std::vector<uint16_t> repaired_cpus_;
};

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
	if (!x.present)
		f.push_back({"xdp", Status::skip,
		             "no XDP classifier maps in " + x.pin_dir +
		                 " (vsteer xdp attach / vm add create them); no host policy to compare"});
	else if (!x.problem.empty())
		f.push_back({"xdp", Status::fail, "classifier maps in " + x.pin_dir + ": " + x.problem});
	else if (x.vms.empty())
		f.push_back({"xdp", Status::skip,
		             "no VM of the XDP classifier (" + x.pin_dir + ") has tap " + g.tap +
		                 "; no host policy to compare"});
	for (const XdpVmState &s : x.vms)
		VmCheck(g, x, s, f).run();
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
			for (uint16_t c : vm_queue_cpus(s)) {
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

} // namespace vsteer

// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include "xdp_show.hpp"
#include "json.hpp"

#include <algorithm>
#include <array>
#include <cstdio>
#include <sstream>

namespace vsteer::cli
{
namespace
{

using ActionCounts = std::array<std::pair<const char *, uint64_t>, 7>;

ActionCounts action_counts(const vsteer_xdp_action_counters &a)
{
	return {{{"pass", a.pass},
	         {"drop", a.drop},
	         {"redirect_tap", a.redirect_tap},
	         {"redirect_cpu", a.redirect_cpu},
	         {"redirect_cpu_pass", a.redirect_cpu_pass},
	         {"rate_limited", a.rate_limited},
	         {"redirect_error", a.redirect_error}}};
}

void put_actions(std::ostream &o, const vsteer_xdp_action_counters &a)
{
	const ActionCounts f = action_counts(a);
	for (size_t i = 0; i < f.size(); i++)
		o << (i ? " " : "") << f[i].first << "=" << f[i].second;
}

std::string cpu_list(const uint16_t *c, uint32_t n)
{
	std::string s;
	for (uint32_t i = 0; i < n && i < VSTEER_MAX_QUEUES; i++)
		s += (i ? "," : "") + std::to_string(c[i]);
	return s;
}

} // namespace

std::string format_show_text(const XdpControl &c,
                             const std::vector<std::pair<std::string, XdpDeviceState>> &devs)
{
	std::ostringstream o;
	for (const auto &[name, st] : devs) {
		o << "device " << name << ": ";
		if (st.attached)
			o << "classifier prog " << st.prog_id << ", " << st.mode << " mode"
			  << (st.dispatcher ? ", libxdp dispatcher" : ", single program (no dispatcher)")
			  << (st.metadata ? ""
			                  : ", without XDP metadata (the cpumap program classifies again)");
		else
			o << "classifier not attached";
		for (const auto &p : st.other_programs)
			o << ", also " << p;
		o << "\n";
	}
	vsteer_xdp_stats t = c.totals();
	o << "totals: packets=" << t.packets << " bytes=" << t.bytes << " rule=" << t.matched_rule
	  << " mac=" << t.matched_mac << " prefix=" << t.matched_prefix << " unmatched=" << t.unmatched
	  << " stale_vm=" << t.stale_vm << " meta_fallback=" << t.meta_fallback << "\n  ";
	put_actions(o, t.by_action);
	o << "\n";
	for (const VmInfo &v : c.vms()) {
		o << "vm " << v.slot.name << " (id " << v.id << "): tap " << v.slot.tap << " (ifindex "
		  << v.slot.tap_ifindex << "), action " << vm_action_name(v.slot.action) << ", queue cpus "
		  << cpu_list(v.slot.queue_cpu, v.slot.num_queue_cpus);
		if (v.slot.rate_pps)
			o << ", rate " << v.slot.rate_pps << " pps burst " << v.slot.rate_burst;
		o << (v.has_policy ? ", RSS policy shared" : ", no RSS policy")
		  << (v.eastwest ? ", east-west on" : "") << "\n";
		for (const auto &m : v.macs)
			o << "  mac " << format_mac(m) << "\n";
		for (const auto &p : v.prefixes)
			o << "  prefix " << format_prefix(p) << "\n";
		o << "  packets=" << v.totals.packets << " bytes=" << v.totals.bytes << " ";
		put_actions(o, v.totals.by_action);
		o << " eastwest=" << v.totals.eastwest << " no_policy=" << v.totals.no_policy
		  << "\n  cpumap by cpu:";
		for (size_t i = 0; i < v.cpumap_by_cpu.size(); i++)
			o << " " << i << ":" << v.cpumap_by_cpu[i];
		o << "\n  guest queue:";
		for (size_t q = 0; q < VSTEER_XDP_STATS_QUEUES; q++)
			if (v.totals.by_queue[q])
				o << " " << q << ":" << v.totals.by_queue[q];
		o << "\n";
	}
	for (const RuleInfo &r : c.rules())
		o << "rule " << r.id << ": " << format_match(r.match) << " -> "
		  << (r.action == VSTEER_XDP_VM ? "vm:" + r.vm : vm_action_name(r.action))
		  << " packets=" << r.totals.packets << " bytes=" << r.totals.bytes << "\n";
	return o.str();
}

std::string format_show_json(const XdpControl &c,
                             const std::vector<std::pair<std::string, XdpDeviceState>> &devs)
{
	auto by_action = [](const vsteer_xdp_action_counters &a) {
		Json j = Json::object();
		for (const auto &[name, count] : action_counts(a))
			j[name] = count;
		return j;
	};
	Json devices = Json::array();
	for (const auto &[name, st] : devs)
		devices.push_back({{"name", name},
		                   {"attached", st.attached},
		                   {"prog_id", st.prog_id},
		                   {"mode", st.mode},
		                   {"dispatcher", st.dispatcher},
		                   {"metadata", st.metadata},
		                   {"other_programs", st.other_programs}});
	const vsteer_xdp_stats t = c.totals();
	Json totals = {{"packets", t.packets},
	               {"bytes", t.bytes},
	               {"matched_rule", t.matched_rule},
	               {"matched_mac", t.matched_mac},
	               {"matched_prefix", t.matched_prefix},
	               {"unmatched", t.unmatched},
	               {"stale_vm", t.stale_vm},
	               {"meta_fallback", t.meta_fallback},
	               {"by_action", by_action(t.by_action)}};
	Json vms = Json::array();
	for (const VmInfo &v : c.vms()) {
		Json macs = Json::array(), prefixes = Json::array();
		for (const auto &m : v.macs)
			macs.push_back(format_mac(m));
		for (const auto &p : v.prefixes)
			prefixes.push_back(format_prefix(p));
		const uint32_t ncpus = std::min<uint32_t>(v.slot.num_queue_cpus, VSTEER_MAX_QUEUES);
		vms.push_back(
		    {{"id", v.id},
		     {"name", v.slot.name},
		     {"tap", v.slot.tap},
		     {"tap_ifindex", v.slot.tap_ifindex},
		     {"action", vm_action_name(v.slot.action)},
		     {"queue_cpus", std::vector<uint16_t>(v.slot.queue_cpu, v.slot.queue_cpu + ncpus)},
		     {"rate_pps", v.slot.rate_pps},
		     {"burst", v.slot.rate_burst},
		     {"rss_policy", v.has_policy},
		     {"eastwest", v.eastwest},
		     {"macs", macs},
		     {"prefixes", prefixes},
		     {"packets", v.totals.packets},
		     {"bytes", v.totals.bytes},
		     {"by_action", by_action(v.totals.by_action)},
		     {"eastwest_packets", v.totals.eastwest},
		     {"no_policy", v.totals.no_policy},
		     {"cpumap_by_cpu", v.cpumap_by_cpu},
		     {"by_queue", std::vector<uint64_t>(v.totals.by_queue,
		                                        v.totals.by_queue + VSTEER_XDP_STATS_QUEUES)}});
	}
	Json rules = Json::array();
	for (const RuleInfo &r : c.rules())
		rules.push_back(
		    {{"id", r.id},
		     {"match", format_match(r.match)},
		     {"action", r.action == VSTEER_XDP_VM ? "vm:" + r.vm : vm_action_name(r.action)},
		     {"packets", r.totals.packets},
		     {"bytes", r.totals.bytes}});
	Json out = {{"devices", devices}, {"totals", totals}, {"vms", vms}, {"rules", rules}};
	return to_json_text(out) + "\n";
}

} // namespace vsteer::cli

// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include "xdp_show.hpp"

#include <cstdio>
#include <sstream>

namespace vsteer::cli
{
namespace
{

std::string json_escape(const std::string &s)
{
	std::string o;
	for (char c : s) {
		if (c == '"' || c == '\\')
			o += '\\', o += c;
		else if (static_cast<unsigned char>(c) < 0x20) {
			char buf[8];
			std::snprintf(buf, sizeof(buf), "\\u%04x", c);
			o += buf;
		} else
			o += c;
	}
	return o;
}

void put_actions(std::ostream &o, const vsteer_xdp_action_counters &a, bool json)
{
	const std::pair<const char *, uint64_t> f[] = {{"pass", a.pass},
	                                               {"drop", a.drop},
	                                               {"redirect_tap", a.redirect_tap},
	                                               {"redirect_cpu", a.redirect_cpu},
	                                               {"redirect_cpu_pass", a.redirect_cpu_pass},
	                                               {"rate_limited", a.rate_limited},
	                                               {"redirect_error", a.redirect_error}};
	for (size_t i = 0; i < std::size(f); i++) {
		if (json)
			o << (i ? ", " : "") << "\"" << f[i].first << "\": " << f[i].second;
		else
			o << (i ? " " : "") << f[i].first << "=" << f[i].second;
	}
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
	put_actions(o, t.by_action, false);
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
		put_actions(o, v.totals.by_action, false);
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
	std::ostringstream o;
	o << "{\"devices\": [";
	for (size_t i = 0; i < devs.size(); i++) {
		const auto &[name, st] = devs[i];
		o << (i ? ", " : "") << "{\"name\": \"" << json_escape(name)
		  << "\", \"attached\": " << (st.attached ? "true" : "false")
		  << ", \"prog_id\": " << st.prog_id << ", \"mode\": \"" << st.mode
		  << "\", \"dispatcher\": " << (st.dispatcher ? "true" : "false")
		  << ", \"metadata\": " << (st.metadata ? "true" : "false") << ", \"other_programs\": [";
		for (size_t j = 0; j < st.other_programs.size(); j++)
			o << (j ? ", " : "") << "\"" << json_escape(st.other_programs[j]) << "\"";
		o << "]}";
	}
	vsteer_xdp_stats t = c.totals();
	o << "], \"totals\": {\"packets\": " << t.packets << ", \"bytes\": " << t.bytes
	  << ", \"matched_rule\": " << t.matched_rule << ", \"matched_mac\": " << t.matched_mac
	  << ", \"matched_prefix\": " << t.matched_prefix << ", \"unmatched\": " << t.unmatched
	  << ", \"stale_vm\": " << t.stale_vm << ", \"meta_fallback\": " << t.meta_fallback
	  << ", \"by_action\": {";
	put_actions(o, t.by_action, true);
	o << "}}, \"vms\": [";
	auto vms = c.vms();
	for (size_t i = 0; i < vms.size(); i++) {
		const VmInfo &v = vms[i];
		o << (i ? ", " : "") << "{\"id\": " << v.id << ", \"name\": \"" << json_escape(v.slot.name)
		  << "\", \"tap\": \"" << json_escape(v.slot.tap)
		  << "\", \"tap_ifindex\": " << v.slot.tap_ifindex << ", \"action\": \""
		  << vm_action_name(v.slot.action) << "\", \"queue_cpus\": ["
		  << cpu_list(v.slot.queue_cpu, v.slot.num_queue_cpus)
		  << "], \"rate_pps\": " << v.slot.rate_pps << ", \"burst\": " << v.slot.rate_burst
		  << ", \"rss_policy\": " << (v.has_policy ? "true" : "false")
		  << ", \"eastwest\": " << (v.eastwest ? "true" : "false") << ", \"macs\": [";
		for (size_t j = 0; j < v.macs.size(); j++)
			o << (j ? ", " : "") << "\"" << format_mac(v.macs[j]) << "\"";
		o << "], \"prefixes\": [";
		for (size_t j = 0; j < v.prefixes.size(); j++)
			o << (j ? ", " : "") << "\"" << format_prefix(v.prefixes[j]) << "\"";
		o << "], \"packets\": " << v.totals.packets << ", \"bytes\": " << v.totals.bytes
		  << ", \"by_action\": {";
		put_actions(o, v.totals.by_action, true);
		o << "}, \"eastwest_packets\": " << v.totals.eastwest
		  << ", \"no_policy\": " << v.totals.no_policy << ", \"cpumap_by_cpu\": [";
		for (size_t j = 0; j < v.cpumap_by_cpu.size(); j++)
			o << (j ? ", " : "") << v.cpumap_by_cpu[j];
		o << "], \"by_queue\": [";
		for (size_t q = 0; q < VSTEER_XDP_STATS_QUEUES; q++)
			o << (q ? ", " : "") << v.totals.by_queue[q];
		o << "]}";
	}
	o << "], \"rules\": [";
	auto rs = c.rules();
	for (size_t i = 0; i < rs.size(); i++) {
		const RuleInfo &r = rs[i];
		o << (i ? ", " : "") << "{\"id\": " << r.id << ", \"match\": \""
		  << json_escape(format_match(r.match)) << "\", \"action\": \""
		  << (r.action == VSTEER_XDP_VM ? "vm:" + json_escape(r.vm) : vm_action_name(r.action))
		  << "\", \"packets\": " << r.totals.packets << ", \"bytes\": " << r.totals.bytes << "}";
	}
	o << "]}\n";
	return o.str();
}

} // namespace vsteer::cli

// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include "xdp_control.hpp"
#include "text.hpp"
#include "xdp_filter.hpp"

#include "steering_objects.hpp"

#include <arpa/inet.h>
#include <net/if.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstring>
#include <functional>
#include <memory>
#include <set>
#include <sstream>

namespace vsteer
{
namespace
{

using text::trim;

std::string q(std::string_view s)
{
	return "'" + std::string(s) + "'";
}

bool overlaps(const IpPrefix &a, const IpPrefix &b)
{
	if (a.family != b.family)
		return false;
	unsigned n = std::min(a.len, b.len);
	for (unsigned i = 0; i < n; i++)
		if (prefix_bit(a.addr, i) != prefix_bit(b.addr, i))
			return false;
	return true;
}

template <typename V> void zero_percpu(int fd, uint32_t key, const std::string &name)
{
	constexpr size_t stride = (sizeof(V) + 7) / 8 * 8;
	std::vector<unsigned char> zeros(stride * possible_cpus(), 0);
	if (bpf_map_update_elem(fd, &key, zeros.data(), BPF_ANY))
		throw_errno("map " + name, "reset counters of entry " + std::to_string(key));
}

// Undo log of a change made in steps: run() puts back what the steps did, in reverse, all
// of them even when one fails, and then reports the failures.
class Undo
{
public:
	void add(std::function<void()> f) { steps_.push_back(std::move(f)); }
	void run()
	{
		std::string failed;
		for (auto it = steps_.rbegin(); it != steps_.rend(); ++it) {
			try {
				(*it)();
			} catch (const std::exception &e) {
				failed += (failed.empty() ? "" : "; ") + std::string(e.what());
			}
		}
		if (!failed.empty())
			throw Error(0, "XDP maps", "undo: " + failed);
	}

private:
	std::vector<std::function<void()>> steps_;
};

std::string cpu_ranges(const std::vector<unsigned> &cpus)
{
	std::string s;
	for (size_t i = 0; i < cpus.size();) {
		size_t j = i;
		while (j + 1 < cpus.size() && cpus[j + 1] == cpus[j] + 1)
			j++;
		if (!s.empty())
			s += ",";
		s += std::to_string(cpus[i]);
		if (j > i)
			s += "-" + std::to_string(cpus[j]);
		i = j + 1;
	}
	return s;
}

bool valid_name(const std::string &n)
{
	return !n.empty() && n.size() < VSTEER_XDP_NAME_LEN && std::all_of(n.begin(), n.end(), [](char c) {
		return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.';
	});
}

} // namespace

// ---------------------------------------------------------------------------------------
// Control

std::optional<uint32_t> XdpControl::find_vm(const std::string &name) const
{
	for (uint32_t id = 0; id < VSTEER_XDP_MAX_VMS; id++) {
		vsteer_xdp_vm v = m_.vms.get(id);
		if (v.in_use && name == std::string(v.name, strnlen(v.name, sizeof(v.name))))
			return id;
	}
	return std::nullopt;
}

std::string XdpControl::known_vms() const
{
	std::string s;
	for (const VmInfo &v : vms())
		s += std::string(s.empty() ? "" : ", ") + v.slot.name;
	return s.empty() ? "no VMs are configured; `vsteer vm add` adds one" : "known VMs: " + s;
}

uint32_t XdpControl::add_vm(const VmSpec &spec, std::optional<RssPolicyFds> policy,
                            std::optional<unsigned> tap_ifindex)
{
	// --- validate everything first ---
	if (!valid_name(spec.name))
		throw ConfigError("VM name " + q(spec.name) +
		                  " is not valid (1-31 characters: letters, digits, _ - .)");
	if (find_vm(spec.name))
		throw ConfigError("VM " + q(spec.name) + " exists already (`vsteer vm del " + spec.name +
		                  "` first)");
	if (spec.tap.empty() || spec.tap.size() >= VSTEER_XDP_IFNAME_LEN)
		throw ConfigError("tap name " + q(spec.tap) + " is not a valid interface name");
	unsigned ifindex = tap_ifindex ? *tap_ifindex : if_nametoindex(spec.tap.c_str());
	if (!ifindex)
		throw ConfigError("tap " + q(spec.tap) + " does not exist in this network namespace");
	if (spec.action > VSTEER_XDP_CPU_PASS)
		throw ConfigError("VM action must be tap, cpu, cpu-pass, pass or drop");
	for (const VmInfo &v : vms())
		if (v.slot.tap_ifindex == ifindex && std::string(v.slot.tap) == spec.tap)
			throw ConfigError("tap " + q(spec.tap) + " belongs to VM " + q(v.slot.name) +
			                  " already");

	std::set<MacAddress> macs;
	for (const MacAddress &mac : spec.macs) {
		if (!macs.insert(mac).second)
			throw ConfigError("MAC " + format_mac(mac) + " is given twice");
		vsteer_xdp_mac_key k{};
		std::memcpy(k.addr, mac.data(), 6);
		uint32_t owner;
		if (bpf_map_lookup_elem(m_.macs.fd(), &k, &owner) == 0)
			throw ConfigError("MAC " + format_mac(mac) + " belongs to VM " +
			                  q(m_.vms.get(owner).name) + " already");
	}
	std::vector<VmInfo> existing = vms();
	for (size_t i = 0; i < spec.prefixes.size(); i++) {
		const IpPrefix &p = spec.prefixes[i];
		for (size_t j = 0; j < i; j++)
			if (spec.prefixes[j] == p)
				throw ConfigError("prefix " + format_prefix(p) + " is given twice");
		for (const VmInfo &v : existing)
			for (const IpPrefix &o : v.prefixes)
				if (overlaps(p, o))
					throw ConfigError("prefix " + format_prefix(p) + " overlaps " +
					                  format_prefix(o) + " of VM " + q(v.slot.name) +
					                  "; a destination must belong to one VM");
	}

	std::vector<unsigned> online = online_cpus();
	std::vector<uint16_t> qcpus = spec.queue_cpus;
	if (qcpus.empty())
		for (unsigned c : online)
			qcpus.push_back(static_cast<uint16_t>(c));
	for (uint16_t c : qcpus)
		if (std::find(online.begin(), online.end(), c) == online.end() || c >= possible_cpus())
			throw ConfigError("CPU " + std::to_string(c) +
			                  " does not exist (online CPUs: " + cpu_ranges(online) + ")");

	// The tap's RSS maps (required when the VM's packets are steered by CPU): the config,
	// toeplitz_key and indirection_table pins of `vsteer attach` (or of whoever pinned
	// QEMU's maps in that layout), checked for the QEMU layout.
	std::optional<BpfMap<uint32_t, vsteer_rss_config>> pin_cfg;
	std::optional<BpfMap<uint32_t, vsteer_toeplitz_key>> pin_key;
	std::optional<BpfMap<uint32_t, uint16_t>> pin_table;
	const bool needs_policy = spec.action == VSTEER_XDP_CPU || spec.action == VSTEER_XDP_CPU_PASS;
	if (!policy) {
		const TapPins tp = TapPins::of(spec.tap, spec.rss_pin_dir);
		const std::string &dir = tp.path;
		auto pins = PinDir::open_if_exists(dir);
		auto present = [&](const char *n) { return pins && pins->has(n); };
		if (present(VSTEER_PIN_CONFIG) && present(VSTEER_PIN_KEY) && present(VSTEER_PIN_TABLE)) {
			auto map = [&](auto &slot, const char *n) {
				slot.emplace(pins->get(n), pins->path_of(n));
			};
			map(pin_cfg, VSTEER_PIN_CONFIG);
			map(pin_key, VSTEER_PIN_KEY);
			map(pin_table, VSTEER_PIN_TABLE);
			policy = RssPolicyFds{pin_cfg->fd(), pin_key->fd(), pin_table->fd()};
		} else if (needs_policy) {
			throw ConfigError("tap " + q(spec.tap) + " has no RSS policy pinned at " + dir +
			                  " (config, toeplitz_key, indirection_table); run `" +
			                  tp.command("attach") +
			                  "` first (or give --rss-pins DIR, or use --action tap)");
		}
	}

	uint32_t id = VSTEER_XDP_MAX_VMS;
	for (uint32_t i = 0; i < VSTEER_XDP_MAX_VMS && id == VSTEER_XDP_MAX_VMS; i++)
		if (!m_.vms.get(i).in_use)
			id = i;
	if (id == VSTEER_XDP_MAX_VMS)
		throw ConfigError("all " + std::to_string(VSTEER_XDP_MAX_VMS) + " VM slots are in use");

	vsteer_xdp_vm slot{};
	slot.in_use = 1;
	slot.tap_ifindex = ifindex;
	slot.action = spec.action;
	slot.num_queue_cpus = static_cast<uint32_t>(qcpus.size());
	for (size_t i = 0; i < qcpus.size(); i++)
		slot.queue_cpu[i] = qcpus[i];
	if (spec.rate_pps) {
		uint32_t burst = spec.burst ? spec.burst : std::max<uint32_t>(1, spec.rate_pps / 100);
		slot.rate_pps = spec.rate_pps;
		slot.rate_burst = burst;
		slot.rate_interval_ns = 1000000000ull / spec.rate_pps;
		if (!slot.rate_interval_ns)
			slot.rate_interval_ns = 1;
		slot.rate_burst_ns = (burst - 1) * slot.rate_interval_ns;
	} else if (spec.burst) {
		throw ConfigError("--burst needs --rate");
	}
	std::memcpy(slot.name, spec.name.data(), spec.name.size());
	std::memcpy(slot.tap, spec.tap.data(), spec.tap.size());

	// --- apply, undoing everything on failure ---
	Undo undo;
	try {
		undo.add([this] { xdp_filter_rebuild(m_); }); // last: after the entries are gone
		if (policy) {
			uint32_t fds[3] = {static_cast<uint32_t>(policy->config),
			                   static_cast<uint32_t>(policy->key),
			                   static_cast<uint32_t>(policy->table)};
			BpfMap<uint32_t, uint32_t> *outer[3] = {&m_.vm_config, &m_.vm_key, &m_.vm_table};
			for (int i = 0; i < 3; i++) {
				BpfMap<uint32_t, uint32_t> *o = outer[i];
				o->set(id, fds[i]);
				undo.add([o, id] { map_erase(o->fd(), &id); });
			}
		}
		bpf_devmap_val dv{};
		dv.ifindex = ifindex;
		if (bpf_map_update_elem(m_.devmap.fd(), &id, &dv, BPF_ANY))
			throw_errno("map xdp_tap_devmap", "add tap " + spec.tap,
			            "is the tap in this network namespace?");
		undo.add([this, id] { map_erase(m_.devmap.fd(), &id); });
		m_.rate.set(id, vsteer_xdp_rate_state{});
		zero_percpu<vsteer_xdp_vm_stats>(m_.vm_stats.fd(), id, "xdp_vm_stats");
		m_.vms.set(id, slot);
		undo.add([this, id] { m_.vms.set(id, vsteer_xdp_vm{}); });
		for (const MacAddress &mac : spec.macs) {
			vsteer_xdp_mac_key k{};
			std::memcpy(k.addr, mac.data(), 6);
			m_.macs.set(k, id, BPF_NOEXIST);
			undo.add([this, k] { map_erase(m_.macs.fd(), &k); });
		}
		for (const IpPrefix &p : spec.prefixes) {
			if (p.family == 4) {
				vsteer_xdp_lpm4 k{};
				k.prefixlen = p.len;
				std::memcpy(k.addr, p.addr.data(), 4);
				m_.prefix4.set(k, id, BPF_NOEXIST);
				undo.add([this, k] { map_erase(m_.prefix4.fd(), &k); });
			} else {
				vsteer_xdp_lpm6 k{};
				k.prefixlen = p.len;
				std::memcpy(k.addr, p.addr.data(), 16);
				m_.prefix6.set(k, id, BPF_NOEXIST);
				undo.add([this, k] { map_erase(m_.prefix6.fd(), &k); });
			}
		}
		xdp_filter_rebuild(m_);
		if (spec.eastwest) {
			if (m_.dir.empty())
				throw ConfigError(
				    "east-west needs the pinned maps (not available in this context)");
			eastwest_attach(spec.tap, m_.dir);
		}
	} catch (...) {
		rethrow_after_undo("VM " + q(spec.name), [&] { undo.run(); });
	}
	return id;
}

void XdpControl::del_vm(const std::string &name)
{
	auto id = find_vm(name);
	if (!id)
		throw ConfigError("unknown VM " + q(name) + " (" + known_vms() + ")");
	for (const RuleInfo &r : rules())
		if (r.action == VSTEER_XDP_VM && r.vm == name)
			throw ConfigError("rule " + std::to_string(r.id) + " (" + format_match(r.match) +
			                  ") sends to VM " + q(name) +
			                  "; delete it first (`vsteer rule del --id " + std::to_string(r.id) +
			                  "`)");
	vsteer_xdp_vm slot = m_.vms.get(*id);
	std::string tap(slot.tap, strnlen(slot.tap, sizeof(slot.tap)));
	// Classification entries first, so no new packet finds the VM; then the VM itself.
	for (const auto &k : map_keys<vsteer_xdp_mac_key>(m_.macs.fd()))
		if (m_.macs.get(k) == *id)
			map_erase(m_.macs.fd(), &k);
	for (const auto &k : map_keys<vsteer_xdp_lpm4>(m_.prefix4.fd()))
		if (m_.prefix4.get(k) == *id)
			map_erase(m_.prefix4.fd(), &k);
	for (const auto &k : map_keys<vsteer_xdp_lpm6>(m_.prefix6.fd()))
		if (m_.prefix6.get(k) == *id)
			map_erase(m_.prefix6.fd(), &k);
	xdp_filter_rebuild(m_);
	if (eastwest_attached(tap) && static_cast<unsigned>(if_nametoindex(tap.c_str())) == slot.tap_ifindex)
		eastwest_detach(tap);
	m_.vms.set(*id, vsteer_xdp_vm{});
	map_erase(m_.devmap.fd(), &*id);
	map_erase(m_.vm_config.fd(), &*id);
	map_erase(m_.vm_key.fd(), &*id);
	map_erase(m_.vm_table.fd(), &*id);
}

uint32_t XdpControl::add_rule(const RuleMatch &match, const RuleTarget &target)
{
	vsteer_xdp_rule r{};
	r.action = target.action;
	if (target.action == VSTEER_XDP_VM) {
		auto id = find_vm(target.vm);
		if (!id)
			throw ConfigError("rule action vm:" + target.vm + ": unknown VM " + q(target.vm) +
			                  " (" + known_vms() + ")");
		r.vm = *id;
	} else if (target.action != VSTEER_XDP_PASS && target.action != VSTEER_XDP_DROP) {
		throw ConfigError("rule action must be pass, drop or vm:NAME");
	}
	vsteer_xdp_rule_key key = to_rule_key(match);
	std::set<uint32_t> used;
	for (const RuleInfo &ri : rules()) {
		if (ri.match == from_rule_key(key))
			throw ConfigError("a rule with the same match exists already (id " +
			                  std::to_string(ri.id) + ")");
		used.insert(ri.id);
	}
	uint32_t id = 0;
	while (used.count(id))
		id++;
	if (id >= VSTEER_XDP_MAX_RULES)
		throw ConfigError("all " + std::to_string(VSTEER_XDP_MAX_RULES) + " rule slots are in use");
	r.id = id;
	zero_percpu<vsteer_xdp_rule_stats>(m_.rule_stats.fd(), id, "xdp_rule_stats");
	m_.rules.set(key, r, BPF_NOEXIST);
	xdp_filter_rebuild(m_);
	return id;
}

void XdpControl::del_rule(uint32_t id)
{
	for (const auto &k : map_keys<vsteer_xdp_rule_key>(m_.rules.fd()))
		if (m_.rules.get(k).id == id) {
			map_erase(m_.rules.fd(), &k);
			xdp_filter_rebuild(m_);
			return;
		}
	throw ConfigError("no rule with id " + std::to_string(id) + " (`vsteer xdp show` lists the rules)");
}

void XdpControl::del_rule(const RuleMatch &match)
{
	vsteer_xdp_rule_key k = to_rule_key(match);
	if (!map_erase(m_.rules.fd(), &k))
		throw ConfigError("no rule matches " + q(format_match(match)) +
		                  " (`vsteer xdp show` lists the rules)");
	xdp_filter_rebuild(m_);
}

std::vector<VmInfo> XdpControl::vms() const
{
	std::vector<VmInfo> out;
	auto macs = map_keys<vsteer_xdp_mac_key>(m_.macs.fd());
	auto p4 = map_keys<vsteer_xdp_lpm4>(m_.prefix4.fd());
	auto p6 = map_keys<vsteer_xdp_lpm6>(m_.prefix6.fd());
	for (uint32_t id = 0; id < VSTEER_XDP_MAX_VMS; id++) {
		VmInfo v;
		v.slot = m_.vms.get(id);
		if (!v.slot.in_use)
			continue;
		v.id = id;
		for (const auto &k : macs)
			if (m_.macs.get(k) == id) {
				MacAddress a;
				std::memcpy(a.data(), k.addr, 6);
				v.macs.push_back(a);
			}
		// the LPM keys of both families that lead to this VM
		auto collect = [&](const auto &keys, auto &map, int family) {
			for (const auto &k : keys)
				if (map.get(k) == id) {
					IpPrefix p;
					p.family = family;
					p.len = k.prefixlen;
					std::memcpy(p.addr.data(), k.addr, sizeof(k.addr));
					v.prefixes.push_back(p);
				}
		};
		collect(p4, m_.prefix4, 4);
		collect(p6, m_.prefix6, 6);
		uint32_t inner;
		v.has_policy = bpf_map_lookup_elem(m_.vm_config.fd(), &id, &inner) == 0;
		std::string tap(v.slot.tap, strnlen(v.slot.tap, sizeof(v.slot.tap)));
		v.eastwest = if_nametoindex(tap.c_str()) == v.slot.tap_ifindex && eastwest_attached(tap);
		for (const vsteer_xdp_vm_stats &s : m_.vm_stats.get(id)) {
			const __u64 *src = reinterpret_cast<const __u64 *>(&s);
			__u64 *dst = reinterpret_cast<__u64 *>(&v.totals);
			for (size_t i = 0; i < sizeof(s) / 8; i++)
				dst[i] += src[i];
			v.cpumap_by_cpu.push_back(s.cpumap_delivered);
			v.packets_by_cpu.push_back(s.packets);
		}
		out.push_back(std::move(v));
	}
	return out;
}

std::vector<RuleInfo> XdpControl::rules() const
{
	std::vector<RuleInfo> out;
	for (const auto &k : map_keys<vsteer_xdp_rule_key>(m_.rules.fd())) {
		vsteer_xdp_rule r;
		if (bpf_map_lookup_elem(m_.rules.fd(), &k, &r))
			continue;
		RuleInfo ri;
		ri.id = r.id;
		ri.match = from_rule_key(k);
		ri.action = r.action;
		if (r.action == VSTEER_XDP_VM && r.vm < VSTEER_XDP_MAX_VMS)
			ri.vm = m_.vms.get(r.vm).name;
		for (const auto &s : m_.rule_stats.get(r.id)) {
			ri.totals.packets += s.packets;
			ri.totals.bytes += s.bytes;
		}
		out.push_back(ri);
	}
	std::sort(out.begin(), out.end(), [](const RuleInfo &a, const RuleInfo &b) { return a.id < b.id; });
	return out;
}

vsteer_xdp_stats XdpControl::totals() const
{
	vsteer_xdp_stats t{};
	for (const vsteer_xdp_stats &s : m_.stats.get(0)) {
		const __u64 *src = reinterpret_cast<const __u64 *>(&s);
		__u64 *dst = reinterpret_cast<__u64 *>(&t);
		for (size_t i = 0; i < sizeof(s) / 8; i++)
			dst[i] += src[i];
	}
	return t;
}

} // namespace vsteer

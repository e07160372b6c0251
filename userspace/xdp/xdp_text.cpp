// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include "xdp_text.hpp"
#include "text.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <cctype>
#include <cstring>
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

unsigned long parse_number(std::string_view s, unsigned long max, const std::string &what)
{
	s = trim(s);
	if (s.empty() || !std::all_of(s.begin(), s.end(),
	                              [](char c) { return std::isdigit(static_cast<unsigned char>(c)); }))
		throw ConfigError(what + " " + q(s) + " is not a number");
	auto v = text::parse_decimal(s, max);
	if (!v)
		throw ConfigError(what + " " + q(s) + " is out of range (0.." + std::to_string(max) + ")");
	return static_cast<unsigned long>(*v);
}

int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

// Parses an address of either family into 16 bytes; returns the family or 0.
int parse_addr(std::string_view s, std::array<uint8_t, 16> &out)
{
	std::string str(trim(s));
	out = {};
	if (inet_pton(AF_INET, str.c_str(), out.data()) == 1)
		return 4;
	if (inet_pton(AF_INET6, str.c_str(), out.data()) == 1)
		return 6;
	return 0;
}

std::string format_addr(int family, const std::array<uint8_t, 16> &a)
{
	char buf[INET6_ADDRSTRLEN] = {};
	inet_ntop(family == 4 ? AF_INET : AF_INET6, a.data(), buf, sizeof(buf));
	return buf;
}

struct ProtoName {
	const char *name;
	uint8_t proto;
};
constexpr ProtoName kProtos[] = {{"tcp", 6}, {"udp", 17}, {"sctp", 132}, {"icmp", 1}, {"icmpv6", 58}};

bool has_ports(uint8_t proto)
{
	return proto == 6 || proto == 17 || proto == 132;
}

std::string proto_name(uint8_t p)
{
	for (auto &n : kProtos)
		if (n.proto == p)
			return n.name;
	return std::to_string(p);
}

// Sets one per-CPU array entry to zero on every CPU.

} // namespace

bool prefix_bit(const std::array<uint8_t, 16> &a, unsigned i)
{
	return a[i / 8] & (0x80 >> (i % 8));
}

// ---------------------------------------------------------------------------------------
// Text forms

MacAddress parse_mac(std::string_view s)
{
	s = trim(s);
	MacAddress m{};
	if (s.size() != 17)
		throw ConfigError("MAC address " + q(s) +
		                  " is malformed (expected 6 hex bytes like 52:54:00:12:34:56)");
	for (size_t i = 0; i < 6; i++) {
		int hi = hexval(s[i * 3]), lo = hexval(s[i * 3 + 1]);
		if (hi < 0 || lo < 0 || (i < 5 && s[i * 3 + 2] != ':' && s[i * 3 + 2] != '-'))
			throw ConfigError("MAC address " + q(s) +
			                  " is malformed (expected 6 hex bytes like 52:54:00:12:34:56)");
		m[i] = static_cast<uint8_t>(hi << 4 | lo);
	}
	if (m[0] & 1)
		throw ConfigError("MAC address " + q(s) +
		                  " is a multicast/broadcast address; a VM's MAC must be unicast");
	return m;
}

std::string format_mac(const MacAddress &m)
{
	char buf[18];
	std::snprintf(buf, sizeof(buf), "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5]);
	return buf;
}

IpPrefix parse_prefix(std::string_view s)
{
	s = trim(s);
	IpPrefix p;
	size_t slash = s.find('/');
	p.family = parse_addr(s.substr(0, slash), p.addr);
	if (!p.family)
		throw ConfigError("prefix " + q(s) + ": " + q(s.substr(0, slash)) +
		                  " is not an IPv4 or IPv6 address");
	unsigned max = p.family == 4 ? 32 : 128;
	p.len =
	    slash == s.npos
		? max
		: static_cast<unsigned>(parse_number(s.substr(slash + 1), max, "prefix " + q(s) + " length"));
	for (unsigned i = p.len; i < max; i++)
		if (prefix_bit(p.addr, i)) {
			IpPrefix fixed = p;
			for (unsigned j = p.len; j < 128; j++)
				fixed.addr[j / 8] &= static_cast<uint8_t>(~(0x80 >> (j % 8)));
			throw ConfigError("prefix " + q(s) + " has host bits set (did you mean " +
			                  format_prefix(fixed) + "?)");
		}
	return p;
}

std::string format_prefix(const IpPrefix &p)
{
	return format_addr(p.family, p.addr) + "/" + std::to_string(p.len);
}

std::vector<uint16_t> parse_cpu_list(std::string_view s)
{
	std::vector<uint16_t> cpus;
	std::string_view rest = trim(s);
	if (rest.empty())
		throw ConfigError("queue CPU list is empty (expected CPU numbers like 0,1,2,3)");
	while (true) {
		size_t comma = rest.find(',');
		cpus.push_back(static_cast<uint16_t>(parse_number(rest.substr(0, comma), 65535, "CPU")));
		if (comma == rest.npos)
			break;
		rest = rest.substr(comma + 1);
	}
	if (cpus.size() > VSTEER_MAX_QUEUES)
		throw ConfigError("queue CPU list has " + std::to_string(cpus.size()) + " entries; at most " +
		                  std::to_string(VSTEER_MAX_QUEUES) + " (one per guest queue)");
	return cpus;
}

uint32_t parse_vm_action(std::string_view s)
{
	s = trim(s);
	if (s == "tap")
		return VSTEER_XDP_TAP;
	if (s == "cpu")
		return VSTEER_XDP_CPU;
	if (s == "cpu-pass")
		return VSTEER_XDP_CPU_PASS;
	if (s == "pass")
		return VSTEER_XDP_PASS;
	if (s == "drop")
		return VSTEER_XDP_DROP;
	throw ConfigError("VM action " + q(s) + " is unknown (tap, cpu, cpu-pass, pass, drop)");
}

const char *vm_action_name(uint32_t a)
{
	switch (a) {
	case VSTEER_XDP_PASS:
		return "pass";
	case VSTEER_XDP_DROP:
		return "drop";
	case VSTEER_XDP_TAP:
		return "tap";
	case VSTEER_XDP_CPU:
		return "cpu";
	case VSTEER_XDP_CPU_PASS:
		return "cpu-pass";
	case VSTEER_XDP_VM:
		return "vm";
	default:
		return "?";
	}
}

RuleMatch parse_match(std::string_view s)
{
	RuleMatch m;
	std::string text(s);
	for (char &c : text)
		if (c == ',')
			c = ' ';
	std::istringstream in(text);
	std::string tok;
	std::set<std::string> seen;
	int src_family = 0, dst_family = 0;
	bool have_sport = false, have_dport = false;
	while (in >> tok) {
		size_t eq = tok.find('=');
		if (eq == std::string::npos || eq == 0 || eq + 1 == tok.size())
			throw ConfigError(
			    "match term " + q(tok) +
			    " is malformed (expected key=value; keys: proto, src, dst, sport, dport)");
		std::string key = tok.substr(0, eq), val = tok.substr(eq + 1);
		if (!seen.insert(key).second)
			throw ConfigError("match key " + q(key) + " is given twice");
		if (key == "proto") {
			bool found = false;
			for (auto &p : kProtos)
				if (val == p.name) {
					m.proto = p.proto;
					found = true;
				}
			if (!found)
				m.proto = static_cast<uint8_t>(parse_number(val, 255, "protocol"));
			if (m.proto == 0)
				throw ConfigError("protocol " + q(val) +
				                  " cannot be matched (tcp, udp, sctp, icmp, icmpv6)");
		} else if (key == "src") {
			src_family = parse_addr(val, m.src);
			if (!src_family)
				throw ConfigError(
				    "src " + q(val) +
				    " is not an IPv4 or IPv6 address (exact address, no prefix)");
		} else if (key == "dst") {
			dst_family = parse_addr(val, m.dst);
			if (!dst_family)
				throw ConfigError(
				    "dst " + q(val) +
				    " is not an IPv4 or IPv6 address (exact address, no prefix)");
		} else if (key == "sport") {
			m.sport = static_cast<uint16_t>(parse_number(val, 65535, "sport"));
			have_sport = true;
		} else if (key == "dport") {
			m.dport = static_cast<uint16_t>(parse_number(val, 65535, "dport"));
			have_dport = true;
		} else {
			throw ConfigError("match key " + q(key) +
			                  " is unknown (proto, src, dst, sport, dport)");
		}
	}
	std::string missing;
	for (const char *k : {"proto", "src", "dst"})
		if (!seen.count(k))
			missing += std::string(missing.empty() ? "" : ", ") + k;
	if (!missing.empty())
		throw ConfigError("match " + q(s) + " lacks " + missing + " (rules are exact 5-tuples)");
	if (src_family != dst_family)
		throw ConfigError("match " + q(s) + " mixes an IPv4 and an IPv6 address");
	m.family = src_family;
	if (has_ports(m.proto)) {
		if (!have_sport || !have_dport)
			throw ConfigError("match " + q(s) + " lacks " + (have_sport ? "dport" : "sport") +
			                  " (" + proto_name(m.proto) + " rules are exact 5-tuples)");
	} else {
		if (have_sport || have_dport)
			throw ConfigError("match " + q(s) + ": " + proto_name(m.proto) + " has no ports");
		if (m.proto != 1 && m.proto != 58)
			throw ConfigError("protocol " + proto_name(m.proto) +
			                  " cannot be matched (tcp, udp, sctp, icmp, icmpv6)");
	}
	if ((m.proto == 1 && m.family != 4) || (m.proto == 58 && m.family != 6))
		throw ConfigError("match " + q(s) + ": " + proto_name(m.proto) + " needs IPv" +
		                  (m.proto == 1 ? "4" : "6") + " addresses");
	return m;
}

std::string format_match(const RuleMatch &m)
{
	std::string s = "proto=" + proto_name(m.proto) + " src=" + format_addr(m.family, m.src) +
	                " dst=" + format_addr(m.family, m.dst);
	if (has_ports(m.proto))
		s += " sport=" + std::to_string(m.sport) + " dport=" + std::to_string(m.dport);
	return s;
}

RuleTarget parse_rule_action(std::string_view s)
{
	s = trim(s);
	RuleTarget t;
	if (s == "pass")
		t.action = VSTEER_XDP_PASS;
	else if (s == "drop")
		t.action = VSTEER_XDP_DROP;
	else if (s.substr(0, 3) == "vm:" && s.size() > 3) {
		t.action = VSTEER_XDP_VM;
		t.vm = std::string(s.substr(3));
	} else
		throw ConfigError("rule action " + q(s) + " is unknown (pass, drop, vm:NAME)");
	return t;
}

vsteer_xdp_rule_key to_rule_key(const RuleMatch &m)
{
	vsteer_xdp_rule_key k{};
	k.family = static_cast<__u8>(m.family);
	k.proto = m.proto;
	k.sport = htons(m.sport);
	k.dport = htons(m.dport);
	std::memcpy(k.src, m.src.data(), m.family == 4 ? 4 : 16);
	std::memcpy(k.dst, m.dst.data(), m.family == 4 ? 4 : 16);
	return k;
}

RuleMatch from_rule_key(const vsteer_xdp_rule_key &k)
{
	RuleMatch m;
	m.family = k.family;
	m.proto = k.proto;
	m.sport = ntohs(k.sport);
	m.dport = ntohs(k.dport);
	std::memcpy(m.src.data(), k.src, 16);
	std::memcpy(m.dst.data(), k.dst, 16);
	return m;
}

} // namespace vsteer

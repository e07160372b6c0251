// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
// Text forms of the XDP classifier's configuration as the CLI takes and shows them: MAC
// addresses, prefixes, CPU lists, VM actions, 5-tuple rule matches. Pure (no BPF), so that
// they can be unit-tested and fuzzed.
#pragma once

#include "rss_config.hpp" // ConfigError
#include "xdp_abi.h"

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace vsteer
{

using MacAddress = std::array<uint8_t, 6>;

struct IpPrefix {
	int family = 4; // 4 or 6
	std::array<uint8_t, 16> addr{};
	unsigned len = 0;
	bool operator==(const IpPrefix &) const = default;
};

struct RuleMatch {
	int family = 4;
	uint8_t proto = 0;
	std::array<uint8_t, 16> src{}, dst{};
	uint16_t sport = 0, dport = 0; // host order; 0 for ICMP
	bool operator==(const RuleMatch &) const = default;
};

struct RuleTarget {
	uint32_t action = VSTEER_XDP_PASS; // PASS, DROP or VM
	std::string vm;                    // with VM
};

// Parsers: throw ConfigError naming the bad token.
MacAddress parse_mac(std::string_view s);
std::string format_mac(const MacAddress &m);
// Bit i (from the most significant) of an address.
bool prefix_bit(const std::array<uint8_t, 16> &a, unsigned i);
IpPrefix parse_prefix(std::string_view s); // "10.0.0.0/24", "fd00::/64", host bits must be 0
std::string format_prefix(const IpPrefix &p);
std::vector<uint16_t> parse_cpu_list(std::string_view s); // "0,1,2,3" (CPU numbers, one per guest queue)
uint32_t parse_vm_action(std::string_view s);             // tap|cpu|cpu-pass|pass|drop
const char *vm_action_name(uint32_t action);
// "proto=udp src=10.0.0.1 dst=10.0.0.2 sport=1000 dport=53" (spaces or commas between;
// proto tcp|udp|sctp|icmp|icmpv6 or a number; ICMP has no ports).
RuleMatch parse_match(std::string_view s);
std::string format_match(const RuleMatch &m);
RuleTarget parse_rule_action(std::string_view s); // pass|drop|vm:NAME
vsteer_xdp_rule_key to_rule_key(const RuleMatch &m);
RuleMatch from_rule_key(const vsteer_xdp_rule_key &k);

} // namespace vsteer

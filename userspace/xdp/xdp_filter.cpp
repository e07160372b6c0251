// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include "xdp_filter.hpp"

#include <cstring>
#include <memory>

namespace vsteer
{
namespace
{

void set_bit(__u64 *bits, uint32_t i)
{
	bits[i / 64] |= 1ull << (i % 64);
}

} // namespace

void xdp_filter_rebuild(XdpMaps &m)
{
	// A rebuilt value differs from the previous one only in the entries that changed: a
	// classifier reading it while the kernel copies it in sees every other entry either way.
	auto f = std::make_unique<vsteer_xdp_filter>();
	f->valid = 1;
	for (vsteer_xdp_mac_slot &s : f->macs)
		s.vm = VSTEER_XDP_MAC_EMPTY;

	for (const auto &k : map_keys<vsteer_xdp_rule_key>(m.rules.fd())) {
		uint32_t ports, dst_tail;
		std::memcpy(&ports, &k.sport, 4);
		std::memcpy(&dst_tail, &k.dst[k.family == 4 ? 0 : 12], 4);
		set_bit(f->rules, vsteer_xdp_rule_bit(k.proto, ports, dst_tail));
	}

	for (const auto &k : map_keys<vsteer_xdp_mac_key>(m.macs.fd())) {
		uint32_t vm, tail;
		if (bpf_map_lookup_elem(m.macs.fd(), &k, &vm))
			continue; // removed meanwhile
		std::memcpy(&tail, &k.addr[2], 4);
		vsteer_xdp_mac_slot &s = f->macs[vsteer_xdp_mac_slot_of(tail)];
		if (s.vm == VSTEER_XDP_MAC_EMPTY) {
			std::memcpy(s.addr, k.addr, 6);
			s.vm = static_cast<__u16>(vm);
		} else {
			std::memset(s.addr, 0, 6);
			s.vm = VSTEER_XDP_MAC_SHARED;
		}
	}

	for (const auto &k : map_keys<vsteer_xdp_lpm4>(m.prefix4.fd())) {
		uint32_t first16 = static_cast<uint32_t>(k.addr[0]) << 8 | k.addr[1];
		if (k.prefixlen >= 16) {
			set_bit(f->prefix4, first16);
			continue;
		}
		uint32_t span = 1u << (16 - k.prefixlen);
		first16 &= ~(span - 1);
		for (uint32_t i = 0; i < span; i++)
			set_bit(f->prefix4, first16 + i);
	}

	for (const auto &k : map_keys<vsteer_xdp_lpm6>(m.prefix6.fd())) {
		if (k.prefixlen < 32) {
			f->prefix6_short = 1;
			continue;
		}
		uint32_t first32;
		std::memcpy(&first32, k.addr, 4);
		set_bit(f->prefix6, vsteer_xdp_mix16(first32));
	}

	m.filter.set(0, *f);
}

} // namespace vsteer

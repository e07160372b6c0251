// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
// The flows of `make hash-e2e` (vsteer-qemu-flows send-hash / verify-hash): every base hash
// type and unclassified traffic, each frame ending in "VSTH" + flow index + round, where
// the L2 guest's socket filter (tests/qemu/hash_rx.bpf.c) finds the tag in any of them.
#pragma once

#include "frame_builder.hpp"
#include "frame_generator.hpp"

#include <cstdint>
#include <vector>

namespace vsteer::test
{

inline constexpr uint32_t kHashKinds = 7;
inline constexpr uint32_t kEndOfRound = 0xffffffffu;

inline Bytes hash_tag(uint32_t idx, uint32_t round)
{
	Bytes t{'V', 'S', 'T', 'H'};
	detail::put32(t, idx);
	detail::put32(t, round);
	return t;
}

// Flow i: TCPv4, UDPv4, other IPv4, TCPv6, UDPv6, other IPv6, non-IP for i % 7 = 0..6.
inline Bytes hash_flow_frame(Rng &rng, uint32_t i, uint32_t round)
{
	uint32_t kind = i % kHashKinds;
	Bytes body = rng.bytes(20 + rng.below(20)); // keeps every frame >= 60 bytes
	Bytes tag = hash_tag(i, round);
	body.insert(body.end(), tag.begin(), tag.end());
	if (kind == 6) { // unclassified: a local experimental EtherType
		FrameSpec s;
		s.ethertype = 0x88b5;
		s.raw_l3 = body;
		s.raw_l3.insert(s.raw_l3.begin(), 20, 0);
		return build_frame(s);
	}
	IpFamily fam = kind < 3 ? IpFamily::v4 : IpFamily::v6;
	const uint8_t protos[3] = {ipproto::kTcp, ipproto::kUdp, 47 /* GRE: IP hash only */};
	FrameSpec s = random_flow(rng, fam, protos[kind % 3]);
	s.l4->payload = body;
	return build_frame(s);
}

inline std::vector<Bytes> make_hash_flows(uint32_t round, uint32_t n, uint64_t seed)
{
	Rng rng(seed);
	std::vector<Bytes> out;
	for (uint32_t i = 0; i < n; i++)
		out.push_back(hash_flow_frame(rng, i, round));
	return out;
}

inline Bytes end_of_round_frame(uint32_t round)
{
	FrameSpec s;
	s.ethertype = 0x88b5;
	s.raw_l3 = Bytes(48, 0);
	Bytes tag = hash_tag(kEndOfRound, round);
	s.raw_l3.insert(s.raw_l3.end(), tag.begin(), tag.end());
	return build_frame(s);
}

} // namespace vsteer::test

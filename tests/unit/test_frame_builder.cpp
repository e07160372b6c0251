// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
// The shared frame builder and generator: byte layout, lengths and checksums of what they
// build, and the determinism and reach of the seeded generator.
#include "frame_generator.hpp"
#include "rss_reference.hpp"

#include <doctest/doctest.h>

#include <set>

using namespace vsteer::test;

namespace
{

uint16_t be16(const Bytes &b, size_t at)
{
	return static_cast<uint16_t>(b[at] << 8 | b[at + 1]);
}

// RFC 1071 over concatenated byte strings; a correct checksum makes the total 0xffff.
uint16_t ones_complement_total(std::initializer_list<Bytes> parts)
{
	Bytes all;
	for (const Bytes &p : parts)
		all.insert(all.end(), p.begin(), p.end());
	if (all.size() % 2)
		all.push_back(0);
	uint32_t sum = 0;
	for (size_t i = 0; i < all.size(); i += 2)
		sum += be16(all, i);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return static_cast<uint16_t>(sum);
}

Bytes slice(const Bytes &b, size_t from, size_t len)
{
	return Bytes(b.begin() + long(from), b.begin() + long(from + len));
}
Bytes slice(const Bytes &b, size_t from)
{
	return Bytes(b.begin() + long(from), b.end());
}

} // namespace

TEST_CASE("frame builder: Ethernet, VLAN tags and IPv4 with options")
{
	const Bytes f = FrameBuilder()
	                    .qinq(0x123, 0x456)
	                    .ipv4("10.1.2.3", "10.4.5.6")
	                    .ipv4_options({0x94, 0x04, 0, 0, 0x01}) // router alert + NOP, padded to 8
	                    .tcp(1000, 2000, Bytes(5, 0xaa))
	                    .build();
	CHECK(be16(f, 12) == ethertype::kQinQ);
	CHECK(be16(f, 14) == 0x123);
	CHECK(be16(f, 16) == ethertype::kVlan);
	CHECK(be16(f, 18) == 0x456);
	CHECK(be16(f, 20) == ethertype::kIpv4);
	const size_t ip = 22, l4 = ip + 28;
	CHECK(f[ip] == 0x47); // version 4, IHL 7
	CHECK(be16(f, ip + 2) == 28 + 20 + 5);
	CHECK(f[ip + 9] == ipproto::kTcp);
	CHECK(ones_complement_total({slice(f, ip, 28)}) == 0xffff);
	CHECK(be16(f, l4) == 1000);
	CHECK(be16(f, l4 + 2) == 2000);
	CHECK(f.size() == l4 + 20 + 5);
	const Bytes pseudo = {10, 1, 2, 3, 10, 4, 5, 6, 0, ipproto::kTcp, 0, 25};
	CHECK(ones_complement_total({pseudo, slice(f, l4)}) == 0xffff);
}

TEST_CASE("frame builder: IPv4 fragments, bad fields and UDP")
{
	FrameBuilder b;
	b.ipv4("1.1.1.1", "2.2.2.2").ipv4_fragment(0x1abc, true).udp(53, 5353, Bytes(3, 1));
	b.v4().version = 5;
	b.v4().ihl = 3;
	const Bytes f = b.build();
	CHECK(f[14] == 0x53);
	CHECK(be16(f, 14 + 6) == (0x2000 | 0x1abc));
	CHECK(be16(f, 34 + 4) == 8 + 3); // UDP length
	const Bytes pseudo = {1, 1, 1, 1, 2, 2, 2, 2, 0, ipproto::kUdp, 0, 11};
	CHECK(ones_complement_total({pseudo, slice(f, 34)}) == 0xffff);
	CHECK(FrameBuilder().ipv4("1.1.1.1", "2.2.2.2").udp(1, 2).no_checksums().build()[24] == 0);
}

TEST_CASE("frame builder: IPv6 extension chain with Home Address and type-2 routing")
{
	const Ipv6Addr home = ipv6_addr("2001:db8:aaaa::1"), final_dst = ipv6_addr("2001:db8:bbbb::2");
	const Bytes f = FrameBuilder()
	                    .ipv6("2001:db8::1", "2001:db8::2")
	                    .ext(hop_by_hop(opt_pad1()))
	                    .ext(routing_type2(final_dst))
	                    .ext(dest_home_address(home))
	                    .ext(fragment_header(0, false))
	                    .tcp(7, 8)
	                    .build();
	size_t off = 14;
	CHECK((f[off] >> 4) == 6);
	CHECK(f[off + 6] == ipproto::kHopByHop);
	off += 40;
	// Hop-by-Hop: 8 bytes, Pad1 then a 5-byte PadN to fill.
	CHECK(f[off] == ipproto::kRouting);
	CHECK(f[off + 1] == 0);
	CHECK(f[off + 2] == kOptPad1);
	CHECK(f[off + 3] == kOptPadN);
	CHECK(f[off + 4] == 3); // PadN of 5 bytes
	off += 8;
	// Type-2 routing: 24 bytes, hdr ext len 2, type 2, segments left 1, address at +8.
	CHECK(f[off] == ipproto::kDestOptions);
	CHECK(f[off + 1] == 2);
	CHECK(f[off + 2] == 2);
	CHECK(f[off + 3] == 1);
	CHECK(slice(f, off + 8, 16) == Bytes(final_dst.begin(), final_dst.end()));
	off += 24;
	// Destination Options: PadN(4), HAO at 8n+6, 24 bytes in all.
	CHECK(f[off] == ipproto::kFragment);
	CHECK(f[off + 1] == 2);
	CHECK(f[off + 2] == kOptPadN);
	CHECK(f[off + 6] == kOptHomeAddress);
	CHECK(f[off + 7] == 16);
	CHECK(slice(f, off + 8, 16) == Bytes(home.begin(), home.end()));
	off += 24;
	CHECK(f[off] == ipproto::kTcp);
	off += 8;
	CHECK(be16(f, 14 + 4) == off + 20 - 54); // payload length
	CHECK(f.size() == off + 20);
	// The TCP checksum's pseudo-header carries the home address and the final destination.
	Bytes pseudo(home.begin(), home.end());
	pseudo.insert(pseudo.end(), final_dst.begin(), final_dst.end());
	pseudo.insert(pseudo.end(), {0, 0, 0, 20, 0, 0, 0, ipproto::kTcp});
	CHECK(ones_complement_total({pseudo, slice(f, off)}) == 0xffff);
	// And the reference sees them.
	const vsteer::ParsedFlow flow = vsteer::parse_frame(f);
	CHECK(flow.home_addr == home);
	CHECK(flow.final_dst == final_dst);
	CHECK(flow.l4 == 0); // the fragment header hides L4
}

TEST_CASE("frame builder: non-IP, raw extensions and truncation")
{
	const Bytes arp = FrameBuilder().arp(ipv4_addr("1.2.3.4"), ipv4_addr("1.2.3.5"));
	CHECK(be16(arp, 12) == ethertype::kArp);
	CHECK(arp.size() == 14 + 28);
	const Bytes other = FrameBuilder().vlan(5).ethertype(0x88CC, {1, 2, 3});
	CHECK(be16(other, 16) == 0x88CC);
	CHECK(other.size() == 21);

	const Bytes raw =
	    FrameBuilder().ipv6("::1", "::2").ext(raw_extension(ipproto::kDestOptions, 200, 8)).udp(1, 2);
	CHECK(raw[14 + 6] == ipproto::kDestOptions);
	CHECK(raw[54] == ipproto::kUdp);
	CHECK(raw[55] == 200);

	const Bytes full = FrameBuilder().ipv4("1.2.3.4", "5.6.7.8").tcp(1, 2);
	for (size_t n = 0; n <= full.size() + 2; n++) {
		const Bytes t = FrameBuilder().ipv4("1.2.3.4", "5.6.7.8").tcp(1, 2).truncate(n);
		REQUIRE(t.size() == std::min(n, full.size()));
		REQUIRE(std::equal(t.begin(), t.end(), full.begin()));
		REQUIRE(truncated(full, n) == t);
	}
}

TEST_CASE("frame generator: deterministic per seed")
{
	FrameGenerator a(42), b(42), c(43);
	bool differs = false;
	for (int i = 0; i < 500; i++) {
		GeneratedFrame x = a.next(), y = b.next(), z = c.next();
		REQUIRE(x.bytes == y.bytes);
		REQUIRE(x.description == y.description);
		differs |= x.bytes != z.bytes;
	}
	CHECK(differs);
	Rng r(1);
	CHECK(r.next() == Rng(1).next());
}

TEST_CASE("frame generator: reaches every kind of frame it promises")
{
	FrameGenerator gen(7);
	std::set<size_t> ext_counts, vlan_counts;
	size_t malformed = 0, truncated_frames = 0, v4 = 0, v6 = 0, non_ip = 0, hao = 0, rt2 = 0, frag = 0;
	constexpr int kFrames = 20000;
	for (int i = 0; i < kFrames; i++) {
		GeneratedFrame g = gen.next();
		REQUIRE(g.bytes.size() >= 14);
		REQUIRE(g.bytes == truncated(build_frame(g.spec), g.bytes.size()));
		malformed += g.malformed;
		truncated_frames += g.spec.truncate_to.has_value();
		vlan_counts.insert(g.spec.vlans.size());
		if (auto *ip6 = std::get_if<Ipv6Spec>(&g.spec.ip)) {
			v6++;
			ext_counts.insert(ip6->extensions.size());
			const vsteer::ParsedFlow flow = vsteer::parse_frame(g.bytes);
			hao += flow.home_addr.has_value();
			rt2 += flow.final_dst.has_value();
		} else if (auto *ip4 = std::get_if<Ipv4Spec>(&g.spec.ip)) {
			v4++;
			frag += ip4->more_fragments || ip4->fragment_offset;
		} else {
			non_ip++;
		}
	}
	CHECK(ext_counts == std::set<size_t>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10});
	CHECK(vlan_counts == std::set<size_t>{0, 1, 2, 3});
	CHECK(malformed > kFrames / 5);
	CHECK(malformed < kFrames / 2);
	CHECK(truncated_frames > kFrames / 20);
	CHECK(v4 > kFrames / 4);
	CHECK(v6 > kFrames / 4);
	CHECK(non_ip > kFrames / 20);
	CHECK(hao > 500);
	CHECK(rt2 > 500);
	CHECK(frag > 200);
}

TEST_CASE("random_flow: well-formed TCP and UDP flows")
{
	Rng rng(3);
	for (IpFamily family : {IpFamily::v4, IpFamily::v6})
		for (uint8_t proto : {ipproto::kTcp, ipproto::kUdp}) {
			FrameSpec s = random_flow(rng, family, proto);
			const Bytes f = build_frame(s);
			const vsteer::ParsedFlow flow = vsteer::parse_frame(f);
			CHECK(flow.l3 == (family == IpFamily::v4 ? 4 : 6));
			CHECK(flow.l4 == proto);
			CHECK(flow.sport == s.l4->sport);
			CHECK(flow.dport == s.l4->dport);
		}
}

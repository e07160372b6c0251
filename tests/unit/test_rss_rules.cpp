// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
// Every rule of rss-semantics.md as a table of frames against the C++ reference. The
// expected report and hash input are written down from the frame's own fields (addresses
// and ports in network order, in the order the document lists), not derived from the code
// under test; the hash is then the reference Toeplitz (checked by the Microsoft vectors) of
// that input, and the queue the table entry the document names.
#include "frame_builder.hpp"
#include "rss_reference.hpp"

#include <doctest/doctest.h>

#include <string>
#include <vector>

using namespace vsteer;
using namespace vsteer::test;

namespace
{

constexpr const char *kSrc4 = "192.0.2.1", *kDst4 = "198.51.100.2";
constexpr const char *kSrc6 = "2001:db8::1", *kDst6 = "2001:db8::2";
constexpr const char *kHome = "2001:db8:aaaa::10", *kFinal = "2001:db8:bbbb::20";
constexpr uint16_t kSport = 49152, kDport = 443;

constexpr uint32_t kAll = VSTEER_HASH_ALL;
constexpr uint32_t kV4 = VSTEER_HASH_IPV4, kTcp4 = VSTEER_HASH_TCPV4, kUdp4 = VSTEER_HASH_UDPV4;
constexpr uint32_t kV6 = VSTEER_HASH_IPV6, kTcp6 = VSTEER_HASH_TCPV6, kUdp6 = VSTEER_HASH_UDPV6;
constexpr uint32_t kIpEx = VSTEER_HASH_IP_EX, kTcpEx = VSTEER_HASH_TCP_EX, kUdpEx = VSTEER_HASH_UDP_EX;

// Expected hash inputs, spelled out field by field.
Bytes ports(uint16_t sport = kSport, uint16_t dport = kDport)
{
	return {uint8_t(sport >> 8), uint8_t(sport), uint8_t(dport >> 8), uint8_t(dport)};
}
Bytes v4_input(const char *src, const char *dst, const Bytes &l4 = {})
{
	Bytes b;
	for (const char *a : {src, dst}) {
		Ipv4Addr x = ipv4_addr(a);
		b.insert(b.end(), x.begin(), x.end());
	}
	b.insert(b.end(), l4.begin(), l4.end());
	return b;
}
Bytes v6_input(const char *src, const char *dst, const Bytes &l4 = {})
{
	Bytes b;
	for (const char *a : {src, dst}) {
		Ipv6Addr x = ipv6_addr(a);
		b.insert(b.end(), x.begin(), x.end());
	}
	b.insert(b.end(), l4.begin(), l4.end());
	return b;
}

// Frame starters.
FrameBuilder v4()
{
	FrameBuilder b;
	b.ipv4(kSrc4, kDst4);
	return b;
}
FrameBuilder v6()
{
	FrameBuilder b;
	b.ipv6(kSrc6, kDst6);
	return b;
}
Bytes v4_tcp()
{
	return v4().tcp(kSport, kDport);
}
Bytes v6_tcp()
{
	return v6().tcp(kSport, kDport);
}
Bytes v6_udp()
{
	return v6().udp(kSport, kDport);
}

// Byte length of a built frame's parts, for truncation cases.
constexpr size_t kV4L4 = kEthHeaderLen + kIpv4HeaderLen; // L4 offset, untagged, no options
constexpr size_t kV6L4 = kEthHeaderLen + kIpv6HeaderLen;

Ipv6Ext hbh()
{
	return hop_by_hop();
}

struct RuleCase {
	const char *rule;
	Bytes frame;
	uint32_t types;
	uint8_t report;
	Bytes input; // empty when report is NONE
};

std::vector<RuleCase> parsing_cases()
{
	const Bytes tcp4 = v4_input(kSrc4, kDst4, ports()), ip4 = v4_input(kSrc4, kDst4);
	const Bytes tcp6 = v6_input(kSrc6, kDst6, ports()), ip6 = v6_input(kSrc6, kDst6);
	return {
	    {"untagged IPv4 TCP", v4_tcp(), kAll, VSTEER_REPORT_TCPV4, tcp4},
	    {"one 802.1Q tag is skipped", v4().vlan(100).udp(kSport, kDport), kAll, VSTEER_REPORT_UDPV4,
	     tcp4},
	    {"one 802.1ad tag is skipped", v4().vlan(7, ethertype::kQinQ).tcp(kSport, kDport), kAll,
	     VSTEER_REPORT_TCPV4, tcp4},
	    {"802.1ad + 802.1Q are both skipped", v6().qinq(1, 2).tcp(kSport, kDport), kTcp6,
	     VSTEER_REPORT_TCPV6, tcp6},
	    {"two 802.1Q tags are both skipped", v4().vlan(1).vlan(2).tcp(kSport, kDport), kAll,
	     VSTEER_REPORT_TCPV4, tcp4},
	    {"a 0x9100 tag is not one of the two TPIDs: not IP",
	     v4().vlan(3, 0x9100).tcp(kSport, kDport),
	     kAll,
	     VSTEER_REPORT_NONE,
	     {}},
	    {"three tags: the third is not skipped, not IP",
	     v4().qinq(1, 2).vlan(3).tcp(kSport, kDport),
	     kAll,
	     VSTEER_REPORT_NONE,
	     {}},
	    {"tag header cut short: not IP",
	     v4().qinq(1, 2).tcp(kSport, kDport).truncate(20),
	     kAll,
	     VSTEER_REPORT_NONE,
	     {}},
	    {"ARP is not IP",
	     FrameBuilder().arp(ipv4_addr(kSrc4), ipv4_addr(kDst4)),
	     kAll,
	     VSTEER_REPORT_NONE,
	     {}},
	    {"LLDP is not IP",
	     FrameBuilder().ethertype(0x88CC, Bytes(40, 0x45)),
	     kAll,
	     VSTEER_REPORT_NONE,
	     {}},
	    {"shorter than an Ethernet header", truncated(v4_tcp(), 13), kAll, VSTEER_REPORT_NONE, {}},

	    {"IPv4 version 6 in an IPv4 EtherType",
	     [] {
		     FrameBuilder b = v4();
		     b.v4().version = 6;
		     return b.tcp(kSport, kDport).build();
	     }(),
	     kAll,
	     VSTEER_REPORT_NONE,
	     {}},
	    {"IPv4 IHL 4 (< 5)",
	     [] {
		     FrameBuilder b = v4();
		     b.v4().ihl = 4;
		     return b.tcp(kSport, kDport).build();
	     }(),
	     kAll,
	     VSTEER_REPORT_NONE,
	     {}},
	    {"IPv4 IHL 0",
	     [] {
		     FrameBuilder b = v4();
		     b.v4().ihl = 0;
		     return b.tcp(kSport, kDport).build();
	     }(),
	     kAll,
	     VSTEER_REPORT_NONE,
	     {}},
	    {"IPv4 IHL 15 past the end of the packet",
	     [] {
		     FrameBuilder b = v4();
		     b.v4().ihl = 15;
		     return b.udp(kSport, kDport).build(); // 20 + 8 bytes < 60
	     }(),
	     kAll,
	     VSTEER_REPORT_NONE,
	     {}},
	    {"IPv4 header cut at 19 bytes", truncated(v4_tcp(), kV4L4 - 1), kAll, VSTEER_REPORT_NONE, {}},
	    {"IPv4 with 12 bytes of options: ports after the options",
	     v4().ipv4_options(Bytes(12, 0x01)).tcp(kSport, kDport), kAll, VSTEER_REPORT_TCPV4, tcp4},
	    {"IPv4 options cut short: not IP",
	     v4().ipv4_options(Bytes(12, 0x01)).tcp(kSport, kDport).truncate(kV4L4 + 11),
	     kAll,
	     VSTEER_REPORT_NONE,
	     {}},
	    {"IPv4 MF set: fragment, no L4", v4().ipv4_fragment(0, true).tcp(kSport, kDport), kAll,
	     VSTEER_REPORT_IPV4, ip4},
	    {"IPv4 fragment offset: no L4", v4().ipv4_fragment(185, false).udp(kSport, kDport), kAll,
	     VSTEER_REPORT_IPV4, ip4},
	    {"IPv4 fragment without the IPv4 type: none",
	     v4().ipv4_fragment(0, true).tcp(kSport, kDport),
	     kTcp4 | kUdp4,
	     VSTEER_REPORT_NONE,
	     {}},
	    {"IPv4 DF alone is not a fragment",
	     [] {
		     FrameBuilder b = v4();
		     b.v4().dont_fragment = true;
		     return b.tcp(kSport, kDport).build();
	     }(),
	     kAll, VSTEER_REPORT_TCPV4, tcp4},
	    {"TCP header of 19 bytes: L3 hash", truncated(v4_tcp(), kV4L4 + 19), kAll, VSTEER_REPORT_IPV4,
	     ip4},
	    {"TCP header of exactly 20 bytes", truncated(v4_tcp(), kV4L4 + 20), kAll, VSTEER_REPORT_TCPV4,
	     tcp4},
	    {"UDP header of 7 bytes: L3 hash", v4().udp(kSport, kDport).truncate(kV4L4 + 7), kAll,
	     VSTEER_REPORT_IPV4, ip4},
	    {"UDP header of exactly 8 bytes", v4().udp(kSport, kDport).truncate(kV4L4 + 8), kAll,
	     VSTEER_REPORT_UDPV4, tcp4},
	    {"ICMP is IP without L4", v4().l4(ipproto::kIcmp, Bytes(30, 8)), kAll, VSTEER_REPORT_IPV4, ip4},

	    {"IPv6 version 4 in an IPv6 EtherType",
	     [] {
		     FrameBuilder b = v6();
		     b.v6().version = 4;
		     return b.tcp(kSport, kDport).build();
	     }(),
	     kAll,
	     VSTEER_REPORT_NONE,
	     {}},
	    {"IPv6 header cut at 39 bytes", truncated(v6_tcp(), kV6L4 - 1), kAll, VSTEER_REPORT_NONE, {}},
	    {"IPv6 TCP of 19 bytes: L3 hash", truncated(v6_tcp(), kV6L4 + 19), kTcp6 | kV6,
	     VSTEER_REPORT_IPV6, ip6},
	    {"IPv6 UDP of exactly 8 bytes", v6().udp(kSport, kDport).truncate(kV6L4 + 8), kUdp6,
	     VSTEER_REPORT_UDPV6, tcp6},
	    {"Hop-by-Hop is walked", v6().ext(hbh()).tcp(kSport, kDport), kTcp6, VSTEER_REPORT_TCPV6, tcp6},
	    {"Routing (type 0) and Destination Options are walked",
	     v6().ext(routing_header(0, 0, Bytes(20, 0))).ext(dest_options()).udp(kSport, kDport), kUdp6,
	     VSTEER_REPORT_UDPV6, tcp6},
	    {"atomic Fragment header (offset 0, M clear): still no L4",
	     v6().ext(fragment_header(0, false)).tcp(kSport, kDport), kTcp6 | kV6, VSTEER_REPORT_IPV6, ip6},
	    {"Fragment header: no L4", v6().ext(fragment_header(0, true)).tcp(kSport, kDport), kTcp6 | kV6,
	     VSTEER_REPORT_IPV6, ip6},
	    {"Fragment header with offset: no L4",
	     v6().ext(hbh()).ext(fragment_header(100, false)).udp(kSport, kDport), kUdp6 | kV6,
	     VSTEER_REPORT_IPV6, ip6},
	    {"Fragment header without an IPv6 type: none",
	     v6().ext(fragment_header(0, true)).tcp(kSport, kDport),
	     kTcp6 | kTcpEx,
	     VSTEER_REPORT_NONE,
	     {}},
	    {"header claiming 2048 bytes runs past the end: no L4",
	     v6().ext(raw_extension(ipproto::kDestOptions, 255, 8)).tcp(kSport, kDport), kTcp6 | kV6,
	     VSTEER_REPORT_IPV6, ip6},
	    {"chain cut inside an extension header: no L4",
	     v6().ext(hbh()).ext(dest_options(Bytes(20, 0))).tcp(kSport, kDport).truncate(kV6L4 + 8 + 10),
	     kTcp6 | kV6, VSTEER_REPORT_IPV6, ip6},
	    {"AH is not walked: no L4", v6().ext(ah_header()).tcp(kSport, kDport), kTcp6 | kV6,
	     VSTEER_REPORT_IPV6, ip6},
	    {"Mobility header is not walked: no L4",
	     v6().ext(hbh()).ext(mobility_header()).udp(kSport, kDport), kUdp6 | kV6, VSTEER_REPORT_IPV6,
	     ip6},
	    {"No Next Header: no L4", v6().l4(ipproto::kNoNext, {}), kAll, VSTEER_REPORT_IPV6_EX, ip6},
	    {"ESP: no L4", v6().l4(ipproto::kEsp, Bytes(24, 7)), kTcp6 | kUdp6 | kV6, VSTEER_REPORT_IPV6,
	     ip6},
	    {"IPv4 carrying AH: no L4", v4().l4(ipproto::kAh, Bytes(24, 7)), kAll, VSTEER_REPORT_IPV4,
	     v4_input(kSrc4, kDst4)},
	    {"chain cut after one byte of a header: no L4",
	     v6().ext(hbh()).tcp(kSport, kDport).truncate(kV6L4 + 1), kTcp6 | kV6, VSTEER_REPORT_IPV6, ip6},
	};
}

// kMaxExtensionHeaders (the walk limit, >= 8 as the document asks) headers then TCP.
Bytes v6_with_headers(size_t count, bool udp = false)
{
	FrameBuilder b = v6();
	for (size_t i = 0; i < count; i++)
		b.ext(i % 2 ? dest_options(opt_padn(6)) : hbh());
	return udp ? b.udp(kSport, kDport).build() : b.tcp(kSport, kDport).build();
}

std::vector<RuleCase> walk_limit_cases()
{
	const Bytes tcp6 = v6_input(kSrc6, kDst6, ports()), ip6 = v6_input(kSrc6, kDst6);
	return {
	    {"8 extension headers are walked", v6_with_headers(8), kTcp6 | kV6, VSTEER_REPORT_TCPV6, tcp6},
	    {"as many headers as the walk limit", v6_with_headers(kMaxExtensionHeaders), kTcp6 | kV6,
	     VSTEER_REPORT_TCPV6, tcp6},
	    {"one header past the walk limit: no L4", v6_with_headers(kMaxExtensionHeaders + 1), kTcp6 | kV6,
	     VSTEER_REPORT_IPV6, ip6},
	    {"ten headers: no L4", v6_with_headers(10, true), kUdp6 | kV6, VSTEER_REPORT_IPV6, ip6},
	};
}

std::vector<RuleCase> ex_cases()
{
	const Bytes plain_tcp = v6_input(kSrc6, kDst6, ports()), plain_ip = v6_input(kSrc6, kDst6);
	const Bytes home_tcp = v6_input(kHome, kDst6, ports()), final_tcp = v6_input(kSrc6, kFinal, ports());
	const Bytes both_udp = v6_input(kHome, kFinal, ports()), both_ip = v6_input(kHome, kFinal);
	const Ipv6Addr home = ipv6_addr(kHome), final_dst = ipv6_addr(kFinal);
	const Bytes hao_tcp = v6().ext(dest_home_address(home)).tcp(kSport, kDport);
	const Bytes rt2_tcp = v6().ext(routing_type2(final_dst)).tcp(kSport, kDport);
	const Bytes both =
	    v6().ext(hbh()).ext(routing_type2(final_dst)).ext(dest_home_address(home)).udp(kSport, kDport);
	return {
	    {"TCP_EX with a Home Address hashes the home address", hao_tcp, kTcpEx, VSTEER_REPORT_TCPV6_EX,
	     home_tcp},
	    {"TCP_EX wins over TCPv6", hao_tcp, kTcpEx | kTcp6, VSTEER_REPORT_TCPV6_EX, home_tcp},
	    {"TCPv6 alone ignores the Home Address", hao_tcp, kTcp6, VSTEER_REPORT_TCPV6, plain_tcp},
	    {"TCP_EX with a type-2 routing header hashes the final destination", rt2_tcp, kTcpEx,
	     VSTEER_REPORT_TCPV6_EX, final_tcp},
	    {"TCP_EX without options hashes the plain addresses", v6_tcp(), kTcpEx, VSTEER_REPORT_TCPV6_EX,
	     plain_tcp},
	    {"all types on a plain IPv6 TCP frame: TCPv6_EX", v6_tcp(), kAll, VSTEER_REPORT_TCPV6_EX,
	     plain_tcp},
	    {"UDP_EX with both options", both, kUdpEx, VSTEER_REPORT_UDPV6_EX, both_udp},
	    {"UDPv6 with both options uses neither", both, kUdp6, VSTEER_REPORT_UDPV6, plain_tcp},
	    {"IP_EX with both options", both, kIpEx, VSTEER_REPORT_IPV6_EX, both_ip},
	    {"IP_EX wins over IPv6", both, kIpEx | kV6, VSTEER_REPORT_IPV6_EX, both_ip},
	    {"IPv6 alone with both options uses neither", both, kV6, VSTEER_REPORT_IPV6, plain_ip},
	    {"TCP_EX alone, UDP frame: none", v6_udp(), kTcpEx, VSTEER_REPORT_NONE, {}},
	    {"UDP_EX alone, TCP frame: none", v6_tcp(), kUdpEx, VSTEER_REPORT_NONE, {}},
	    {"IP_EX alone, TCP frame: IPv6_EX", hao_tcp, kIpEx, VSTEER_REPORT_IPV6_EX,
	     v6_input(kHome, kDst6)},
	    {"Home Address after Pad1 options",
	     v6().ext(dest_options(opt_pad1(), opt_pad1(), opt_padn(2), opt_home_address(home)))
	         .tcp(kSport, kDport),
	     kTcpEx, VSTEER_REPORT_TCPV6_EX, home_tcp},
	    {"Home Address option of length 8 is not one",
	     v6().ext(dest_options(opt_tlv(kOptHomeAddress, Bytes(8, 0xee)))).tcp(kSport, kDport), kTcpEx,
	     VSTEER_REPORT_TCPV6_EX, plain_tcp},
	    {"Home Address inside Hop-by-Hop is not one",
	     v6().ext(hop_by_hop(opt_padn(4), opt_home_address(home))).tcp(kSport, kDport), kTcpEx,
	     VSTEER_REPORT_TCPV6_EX, plain_tcp},
	    {"Home Address behind a Fragment header: no L4, IP_EX uses it",
	     v6().ext(fragment_header(0, true)).ext(dest_home_address(home)).tcp(kSport, kDport),
	     kTcpEx | kIpEx, VSTEER_REPORT_IPV6_EX, v6_input(kHome, kDst6)},
	    {"type-2 routing with segments left 0 is not a final destination",
	     v6().ext(routing_type2(final_dst, 0)).tcp(kSport, kDport), kTcpEx, VSTEER_REPORT_TCPV6_EX,
	     plain_tcp},
	    {"routing type 0 is not a final destination",
	     v6().ext(routing_header(0, 1,
	                             [&] {
					     Bytes d(4, 0);
					     d.insert(d.end(), final_dst.begin(), final_dst.end());
					     return d;
				     }()))
	         .tcp(kSport, kDport),
	     kTcpEx, VSTEER_REPORT_TCPV6_EX, plain_tcp},
	    {"type-2 routing with hdr ext len 4 is not a final destination",
	     [&] {
		     Ipv6Ext rt = routing_type2(final_dst);
		     rt.bytes.resize(40, 0);
		     rt.bytes[1] = 4;
		     return v6().ext(rt).tcp(kSport, kDport).build();
	     }(),
	     kTcpEx, VSTEER_REPORT_TCPV6_EX, plain_tcp},
	};
}

std::vector<RuleCase> precedence_cases()
{
	const Bytes tcp4 = v4_input(kSrc4, kDst4, ports()), ip4 = v4_input(kSrc4, kDst4);
	const Bytes tcp6 = v6_input(kSrc6, kDst6, ports()), ip6 = v6_input(kSrc6, kDst6);
	const Bytes udp4_frame = v4().udp(kSport, kDport);
	return {
	    {"TCPv4 disabled: IPv4", v4_tcp(), kV4 | kUdp4, VSTEER_REPORT_IPV4, ip4},
	    {"TCPv4 and IPv4 disabled: none",
	     v4_tcp(),
	     kUdp4 | (kAll & ~(kV4 | kTcp4 | kUdp4)),
	     VSTEER_REPORT_NONE,
	     {}},
	    {"UDPv4 disabled: IPv4", udp4_frame, kV4 | kTcp4, VSTEER_REPORT_IPV4, ip4},
	    {"UDPv4", udp4_frame, kUdp4, VSTEER_REPORT_UDPV4, tcp4},
	    {"IPv4 types do not apply to IPv6", v6_tcp(), kV4 | kTcp4 | kUdp4, VSTEER_REPORT_NONE, {}},
	    {"IPv6 types do not apply to IPv4",
	     v4_tcp(),
	     kV6 | kTcp6 | kUdp6 | kIpEx | kTcpEx | kUdpEx,
	     VSTEER_REPORT_NONE,
	     {}},
	    {"TCPv6 disabled: IPv6", v6_tcp(), kV6 | kUdp6, VSTEER_REPORT_IPV6, ip6},
	    {"UDPv6 disabled, UDP_EX off: IPv6", v6_udp(), kV6 | kTcp6 | kTcpEx, VSTEER_REPORT_IPV6, ip6},
	    {"no types at all: none", v4_tcp(), 0, VSTEER_REPORT_NONE, {}},
	};
}

void check_rule(const RuleCase &c)
{
	INFO("rule: " << std::string(c.rule) << " (hash types " << format_hash_types(c.types) << ", "
	              << c.frame.size() << "-byte frame)");
	HashChoice choice = choose_hash(parse_frame(c.frame), c.types);
	CHECK(int(choice.report) == int(c.report));
	CHECK(choice.input == c.input);

	// The full pipeline: hash of that input, queue from the table.
	RssConfig config;
	config.key =
	    parse_key("6d5a56da255b0ec24167253d43a38fb0d0ca2bcbae7b30b477cb2da38030f20c6a42b73bbeac01fa");
	config.hash_types = c.types;
	config.table = {10, 11, 12, 13, 14, 15, 16, 17};
	config.unclassified_queue = 99;
	RssResult r = compute_rss(config, c.frame);
	const uint32_t hash = c.input.empty() ? 0 : toeplitz_hash(config.key, c.input);
	CHECK(int(r.report) == int(c.report));
	CHECK(r.hash == hash);
	CHECK(r.queue == (c.report == VSTEER_REPORT_NONE ? 99 : 10 + (hash & 7)));
}

} // namespace

TEST_CASE("rss rules: parsing (VLAN tags, IPv4, IPv6 extension chains, L4 lengths)")
{
	for (const auto &c : parsing_cases())
		check_rule(c);
}

TEST_CASE("rss rules: the IPv6 extension header walk limit")
{
	static_assert(kMaxExtensionHeaders >= 8, "the document asks for at least 8");
	for (const auto &c : walk_limit_cases())
		check_rule(c);
}

TEST_CASE("rss rules: _EX types, Home Address and type-2 routing")
{
	for (const auto &c : ex_cases())
		check_rule(c);
}

TEST_CASE("rss rules: first match wins")
{
	for (const auto &c : precedence_cases())
		check_rule(c);
}

TEST_CASE("rss rules: queue selection")
{
	RssConfig c;
	c.key = parse_key("6d5a56da255b0ec24167253d43a38fb0d0ca2bcbae7b30b477cb2da38030f20c6a42b73bbeac01fa");
	c.hash_types = VSTEER_HASH_DEFAULT;
	c.table.resize(128);
	for (size_t i = 0; i < c.table.size(); i++)
		c.table[i] = static_cast<uint16_t>(200 - i);
	c.unclassified_queue = 7;
	const Bytes frame = v4_tcp();
	const uint32_t hash = toeplitz_hash(c.key, v4_input(kSrc4, kDst4, ports()));

	SUBCASE("queue = table[hash & (len - 1)] for every table length")
	{
		for (size_t len = 1; len <= 128; len *= 2) {
			RssConfig s = c;
			s.table.resize(len);
			INFO("table length " << len);
			CHECK(compute_rss(s, frame) ==
			      RssResult{uint16_t(200 - (hash & (len - 1))), hash, VSTEER_REPORT_TCPV4});
		}
	}
	SUBCASE("no hash: unclassified queue, hash 0, report NONE")
	{
		CHECK(compute_rss(c, FrameBuilder().arp(ipv4_addr(kSrc4), ipv4_addr(kDst4)).build()) ==
		      RssResult{7, 0, VSTEER_REPORT_NONE});
	}
	SUBCASE("redirect = 0: hash and report still computed, queue is the unclassified one")
	{
		c.redirect = false;
		CHECK(compute_rss(c, frame) == RssResult{7, hash, VSTEER_REPORT_TCPV4});
	}
	SUBCASE("a hash of 0 is still a hash (all-zero key)")
	{
		c.key.fill(0);
		CHECK(compute_rss(c, frame) == RssResult{200, 0, VSTEER_REPORT_TCPV4});
	}
	SUBCASE("a hash of 0 is still a hash (all-zero input)")
	{
		const Bytes zero = FrameBuilder().ipv4("0.0.0.0", "0.0.0.0").udp(0, 0);
		CHECK(compute_rss(c, zero) == RssResult{200, 0, VSTEER_REPORT_UDPV4});
	}
	SUBCASE("select_queue alone")
	{
		CHECK(select_queue(c, 0x12345678, VSTEER_REPORT_NONE) == 7);
		CHECK(select_queue(c, 0x12345678, VSTEER_REPORT_IPV6) == 200 - 0x78);
		CHECK(select_queue(c, 0, VSTEER_REPORT_IPV6) == 200);
	}
}

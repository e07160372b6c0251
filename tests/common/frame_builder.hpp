// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
// The one packet builder of the project's tests, the demo, the bench and the guest tests.
//
// A frame is described by a FrameSpec (a plain aggregate, so tables of cases can use
// designated initializers) or built with the fluent FrameBuilder, and turned into bytes by
// build_frame(). It covers what rss-semantics.md talks about: 0..n in-band VLAN tags
// (0x8100 / 0x88A8), IPv4 with options, fragments and bad version / IHL, IPv6 with any chain
// of extension headers (Hop-by-Hop, Routing incl. type 2, Destination Options with Home
// Address / Pad1 / PadN, Fragment, or raw bytes), TCP / UDP / other L4, other EtherTypes
// (ARP, ...), and truncation at any byte. Lengths and checksums are filled in unless the
// spec overrides them, so a malformed field is always a deliberate one.
//
// FrameGenerator (frame_generator.hpp) draws seeded random specs from the same types.
// Self-contained (standard library and <arpa/inet.h> only) so that every tool can include it.
#pragma once

#include <arpa/inet.h>

#include <array>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <variant>
#include <vector>

namespace vsteer::test
{

using Bytes = std::vector<uint8_t>;
using MacAddr = std::array<uint8_t, 6>;
using Ipv4Addr = std::array<uint8_t, 4>;
using Ipv6Addr = std::array<uint8_t, 16>;

namespace ethertype
{
inline constexpr uint16_t kIpv4 = 0x0800;
inline constexpr uint16_t kArp = 0x0806;
inline constexpr uint16_t kVlan = 0x8100; // 802.1Q
inline constexpr uint16_t kQinQ = 0x88A8; // 802.1ad
inline constexpr uint16_t kIpv6 = 0x86DD;
} // namespace ethertype

namespace ipproto
{
inline constexpr uint8_t kHopByHop = 0;
inline constexpr uint8_t kIcmp = 1;
inline constexpr uint8_t kTcp = 6;
inline constexpr uint8_t kUdp = 17;
inline constexpr uint8_t kRouting = 43;
inline constexpr uint8_t kFragment = 44;
inline constexpr uint8_t kIcmpv6 = 58;
inline constexpr uint8_t kNoNext = 59;
inline constexpr uint8_t kEsp = 50;
inline constexpr uint8_t kAh = 51;
inline constexpr uint8_t kDestOptions = 60;
inline constexpr uint8_t kMobility = 135;
} // namespace ipproto

// IPv6 option TLV types used in Hop-by-Hop and Destination Options headers.
inline constexpr uint8_t kOptPad1 = 0x00;
inline constexpr uint8_t kOptPadN = 0x01;
inline constexpr uint8_t kOptHomeAddress = 0xC9;

inline constexpr size_t kEthHeaderLen = 14;
inline constexpr size_t kVlanTagLen = 4;
inline constexpr size_t kIpv4HeaderLen = 20;
inline constexpr size_t kIpv6HeaderLen = 40;
inline constexpr size_t kTcpHeaderLen = 20;
inline constexpr size_t kUdpHeaderLen = 8;

// ---------------------------------------------------------------------------------------
// Addresses

inline Ipv4Addr ipv4_addr(const char *text)
{
	Ipv4Addr a{};
	if (inet_pton(AF_INET, text, a.data()) != 1)
		throw std::invalid_argument(std::string("not an IPv4 address: ") + text);
	return a;
}

inline Ipv6Addr ipv6_addr(const char *text)
{
	Ipv6Addr a{};
	if (inet_pton(AF_INET6, text, a.data()) != 1)
		throw std::invalid_argument(std::string("not an IPv6 address: ") + text);
	return a;
}

// ---------------------------------------------------------------------------------------
// Specs

struct VlanTag {
	uint16_t tpid = ethertype::kVlan;
	uint16_t tci = 0; // PCP / DEI / VID
};

// TCP and UDP get a real header (20 / 8 bytes) before `payload`; any other protocol is
// `payload` alone.
struct L4Spec {
	uint8_t protocol = ipproto::kUdp;
	uint16_t sport = 0; // host order
	uint16_t dport = 0;
	Bytes payload;
};

struct Ipv4Spec {
	Ipv4Addr src{};
	Ipv4Addr dst{};
	Bytes options;                   // after the 20-byte header, zero-padded to 4-byte multiple
	std::optional<uint8_t> ihl;      // IHL field override (default: 5 + options / 4)
	uint8_t version = 4;             // version field (bad-version cases)
	bool more_fragments = false;     // MF
	bool dont_fragment = false;      // DF
	uint16_t fragment_offset = 0;    // in 8-byte units, 13 bits
	std::optional<uint8_t> protocol; // protocol field override (default: the L4 protocol)
	uint8_t ttl = 64;
};

// One IPv6 extension header: `type` is the next-header value that announces it, `bytes` is
// the whole header; bytes[0] (its own next header) is filled in by build_frame().
struct Ipv6Ext {
	uint8_t type = ipproto::kHopByHop;
	Bytes bytes;
};

struct Ipv6Spec {
	Ipv6Addr src{};
	Ipv6Addr dst{};
	std::vector<Ipv6Ext> extensions;
	uint8_t version = 6;
	std::optional<uint8_t> next_header; // last header's next header (default: the L4 protocol)
	uint8_t hop_limit = 64;
	uint32_t flow_label = 0;
};

struct FrameSpec {
	MacAddr dst_mac{0x52, 0x54, 0x00, 0x12, 0x34, 0x56};
	MacAddr src_mac{0x52, 0x54, 0x00, 0xab, 0xcd, 0xef};
	std::vector<VlanTag> vlans;                          // outermost first
	std::variant<std::monostate, Ipv4Spec, Ipv6Spec> ip; // monostate: not IP
	std::optional<L4Spec> l4;                            // only with ip
	std::optional<uint16_t> ethertype;                   // default: from ip (required for non-IP)
	Bytes raw_l3;                                        // non-IP: the bytes after the EtherType
	std::optional<size_t> truncate_to;                   // cut the finished frame to this length
	bool checksums = true;                               // IPv4 header and TCP/UDP checksums
};

// ---------------------------------------------------------------------------------------
// IPv6 option TLVs and extension headers

inline Bytes opt_pad1()
{
	return {kOptPad1};
}

// A PadN option occupying `total` bytes (>= 2) in all.
inline Bytes opt_padn(size_t total)
{
	if (total < 2 || total > 257)
		throw std::invalid_argument("PadN occupies 2..257 bytes");
	Bytes b(total, 0);
	b[0] = kOptPadN;
	b[1] = static_cast<uint8_t>(total - 2);
	return b;
}

inline Bytes opt_tlv(uint8_t type, const Bytes &data)
{
	Bytes b{type, static_cast<uint8_t>(data.size())};
	b.insert(b.end(), data.begin(), data.end());
	return b;
}

// Home Address option (RFC 6275): type 0xC9, length 16.
inline Bytes opt_home_address(const Ipv6Addr &home)
{
	return opt_tlv(kOptHomeAddress, Bytes(home.begin(), home.end()));
}

namespace detail
{

inline void concat(Bytes &) {}
template <typename... Rest> void concat(Bytes &out, const Bytes &first, const Rest &...rest)
{
	out.insert(out.end(), first.begin(), first.end());
	concat(out, rest...);
}

// An options header (Hop-by-Hop / Destination Options): 2 bytes + options, padded to a
// multiple of 8 with Pad1 or PadN, hdr ext len set.
inline Ipv6Ext options_header(uint8_t type, Bytes options)
{
	Bytes h{0, 0};
	h.insert(h.end(), options.begin(), options.end());
	size_t pad = (8 - h.size() % 8) % 8;
	if (pad == 1) {
		h.push_back(kOptPad1);
	} else if (pad > 1) {
		Bytes p = opt_padn(pad);
		h.insert(h.end(), p.begin(), p.end());
	}
	h[1] = static_cast<uint8_t>(h.size() / 8 - 1);
	return {type, std::move(h)};
}

} // namespace detail

template <typename... Options> Ipv6Ext hop_by_hop(const Options &...options)
{
	Bytes all;
	detail::concat(all, options...);
	return detail::options_header(ipproto::kHopByHop, std::move(all));
}

template <typename... Options> Ipv6Ext dest_options(const Options &...options)
{
	Bytes all;
	detail::concat(all, options...);
	return detail::options_header(ipproto::kDestOptions, std::move(all));
}

// Destination Options carrying a Home Address, 8n+6 aligned as RFC 6275 asks (PadN 4 first).
inline Ipv6Ext dest_home_address(const Ipv6Addr &home)
{
	return dest_options(opt_padn(4), opt_home_address(home));
}

// Routing header: 4 bytes (next, len, type, segments left) + type-specific data, zero
// padded to a multiple of 8.
inline Ipv6Ext routing_header(uint8_t routing_type, uint8_t segments_left, const Bytes &data)
{
	Bytes h{0, 0, routing_type, segments_left};
	h.insert(h.end(), data.begin(), data.end());
	h.resize((h.size() + 7) / 8 * 8, 0);
	h[1] = static_cast<uint8_t>(h.size() / 8 - 1);
	return {ipproto::kRouting, std::move(h)};
}

// Type-2 routing header (RFC 6275): hdr ext len 2, segments left 1, 4 reserved bytes and
// the home address, which is the final destination.
inline Ipv6Ext routing_type2(const Ipv6Addr &final_dst, uint8_t segments_left = 1)
{
	Bytes data(4, 0);
	data.insert(data.end(), final_dst.begin(), final_dst.end());
	return routing_header(2, segments_left, data);
}

inline Ipv6Ext fragment_header(uint16_t offset = 0, bool more = false, uint32_t id = 0x12345678)
{
	uint16_t off_flags = static_cast<uint16_t>(offset << 3 | (more ? 1 : 0));
	return {ipproto::kFragment,
	        {0, 0, static_cast<uint8_t>(off_flags >> 8), static_cast<uint8_t>(off_flags),
	         static_cast<uint8_t>(id >> 24), static_cast<uint8_t>(id >> 16),
	         static_cast<uint8_t>(id >> 8), static_cast<uint8_t>(id)}};
}

// Authentication Header (RFC 4302): 12 fixed bytes + 4 bytes of ICV; its length field
// counts 4-byte units minus 2. Not an extension header RSS walks.
inline Ipv6Ext ah_header(uint32_t spi = 0x1000)
{
	return {ipproto::kAh,
	        {0, 2, 0, 0, static_cast<uint8_t>(spi >> 24), static_cast<uint8_t>(spi >> 16),
	         static_cast<uint8_t>(spi >> 8), static_cast<uint8_t>(spi), 0, 0, 0, 1, 0xaa, 0xbb, 0xcc,
	         0xdd}};
}

// Mobility header (RFC 6275), 8 bytes (Binding Refresh Request). Not walked by RSS.
inline Ipv6Ext mobility_header()
{
	return {ipproto::kMobility, {0, 0, 0, 0, 0, 0, 0, 0}};
}

// Any header with a given announcing type, hdr ext len and number of bytes actually present
// (e.g. a chain that runs past the end: hdr_ext_len 255 with 8 bytes present).
inline Ipv6Ext raw_extension(uint8_t type, uint8_t hdr_ext_len, size_t present)
{
	Bytes h(present < 2 ? 2 : present, 0);
	h[1] = hdr_ext_len;
	return {type, std::move(h)};
}

// ---------------------------------------------------------------------------------------
// Serialization

namespace detail
{

inline void put16(Bytes &b, uint16_t v)
{
	b.push_back(static_cast<uint8_t>(v >> 8));
	b.push_back(static_cast<uint8_t>(v));
}

inline void put32(Bytes &b, uint32_t v)
{
	put16(b, static_cast<uint16_t>(v >> 16));
	put16(b, static_cast<uint16_t>(v));
}

inline void set16(Bytes &b, size_t at, uint16_t v)
{
	b[at] = static_cast<uint8_t>(v >> 8);
	b[at + 1] = static_cast<uint8_t>(v);
}

// One's complement sum over `data`, folded later.
inline uint32_t sum16(const uint8_t *data, size_t len, uint32_t sum = 0)
{
	for (size_t i = 0; i + 1 < len; i += 2)
		sum += static_cast<uint32_t>(data[i] << 8 | data[i + 1]);
	if (len % 2)
		sum += static_cast<uint32_t>(data[len - 1] << 8);
	return sum;
}

inline uint16_t fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return static_cast<uint16_t>(~sum);
}

inline Bytes l4_bytes(const L4Spec &l4)
{
	Bytes b;
	if (l4.protocol == ipproto::kTcp) {
		put16(b, l4.sport);
		put16(b, l4.dport);
		put32(b, 0x01020304); // sequence
		put32(b, 0);          // ack
		b.push_back(5 << 4);  // data offset
		b.push_back(0x02);    // SYN
		put16(b, 0xffff);     // window
		put16(b, 0);          // checksum
		put16(b, 0);          // urgent
	} else if (l4.protocol == ipproto::kUdp) {
		put16(b, l4.sport);
		put16(b, l4.dport);
		put16(b, static_cast<uint16_t>(kUdpHeaderLen + l4.payload.size()));
		put16(b, 0);
	}
	b.insert(b.end(), l4.payload.begin(), l4.payload.end());
	return b;
}

// Fills the TCP/UDP checksum of `l4` given the pseudo-header sum.
inline void fill_l4_checksum(Bytes &l4, uint8_t protocol, uint32_t pseudo)
{
	size_t at = protocol == ipproto::kTcp ? 16 : protocol == ipproto::kUdp ? 6 : 0;
	size_t need = protocol == ipproto::kTcp ? kTcpHeaderLen : kUdpHeaderLen;
	if (!at || l4.size() < need)
		return;
	uint16_t c = fold(sum16(l4.data(), l4.size(), pseudo));
	if (protocol == ipproto::kUdp && c == 0)
		c = 0xffff;
	set16(l4, at, c);
}

inline uint8_t l4_protocol(const std::optional<L4Spec> &l4, uint8_t none)
{
	return l4 ? l4->protocol : none;
}

inline Bytes ipv4_bytes(const Ipv4Spec &ip, const std::optional<L4Spec> &l4spec, bool checksums)
{
	Bytes opts = ip.options;
	opts.resize((opts.size() + 3) / 4 * 4, 0);
	Bytes l4 = l4spec ? l4_bytes(*l4spec) : Bytes{};
	uint8_t protocol = ip.protocol.value_or(l4_protocol(l4spec, 253 /* experimental */));
	uint8_t ihl = ip.ihl.value_or(static_cast<uint8_t>(5 + opts.size() / 4));
	size_t total = kIpv4HeaderLen + opts.size() + l4.size();
	uint16_t frag =
	    static_cast<uint16_t>((ip.dont_fragment ? 0x4000 : 0) | (ip.more_fragments ? 0x2000 : 0) |
	                          (ip.fragment_offset & 0x1fff));
	Bytes b;
	b.push_back(static_cast<uint8_t>(ip.version << 4 | (ihl & 0xf)));
	b.push_back(0); // TOS
	put16(b, static_cast<uint16_t>(total > 0xffff ? 0xffff : total));
	put16(b, 0x4242); // id
	put16(b, frag);
	b.push_back(ip.ttl);
	b.push_back(protocol);
	put16(b, 0); // header checksum
	b.insert(b.end(), ip.src.begin(), ip.src.end());
	b.insert(b.end(), ip.dst.begin(), ip.dst.end());
	b.insert(b.end(), opts.begin(), opts.end());
	if (checksums) {
		set16(b, 10, fold(sum16(b.data(), b.size())));
		if (l4spec) {
			uint32_t pseudo = sum16(ip.src.data(), 4);
			pseudo = sum16(ip.dst.data(), 4, pseudo);
			pseudo += protocol;
			pseudo += static_cast<uint32_t>(l4.size());
			fill_l4_checksum(l4, protocol, pseudo);
		}
	}
	b.insert(b.end(), l4.begin(), l4.end());
	return b;
}

inline Bytes ipv6_bytes(const Ipv6Spec &ip, const std::optional<L4Spec> &l4spec, bool checksums)
{
	Bytes l4 = l4spec ? l4_bytes(*l4spec) : Bytes{};
	uint8_t last_next = ip.next_header.value_or(l4_protocol(l4spec, ipproto::kNoNext));
	Bytes exts;
	// The checksum pseudo-header uses the home address and the final destination (RFC 6275).
	Ipv6Addr pseudo_src = ip.src, pseudo_dst = ip.dst;
	for (size_t i = 0; i < ip.extensions.size(); i++) {
		Bytes h = ip.extensions[i].bytes;
		if (h.empty())
			h.push_back(0);
		h[0] = i + 1 < ip.extensions.size() ? ip.extensions[i + 1].type : last_next;
		const uint8_t type = ip.extensions[i].type;
		if (type == ipproto::kRouting && h.size() >= 24 && h[2] == 2)
			std::copy(h.begin() + 8, h.begin() + 24, pseudo_dst.begin());
		if (type == ipproto::kDestOptions)
			for (size_t o = 2; o + 18 <= h.size();) {
				if (h[o] == kOptPad1) {
					o++;
					continue;
				}
				if (h[o] == kOptHomeAddress && h[o + 1] == 16) {
					std::copy(h.begin() + static_cast<long>(o) + 2,
					          h.begin() + static_cast<long>(o) + 18, pseudo_src.begin());
					break;
				}
				o += 2u + h[o + 1];
			}
		exts.insert(exts.end(), h.begin(), h.end());
	}
	size_t payload = exts.size() + l4.size();
	Bytes b;
	put32(b, static_cast<uint32_t>(ip.version) << 28 | (ip.flow_label & 0xfffff));
	put16(b, static_cast<uint16_t>(payload > 0xffff ? 0xffff : payload));
	b.push_back(ip.extensions.empty() ? last_next : ip.extensions.front().type);
	b.push_back(ip.hop_limit);
	b.insert(b.end(), ip.src.begin(), ip.src.end());
	b.insert(b.end(), ip.dst.begin(), ip.dst.end());
	b.insert(b.end(), exts.begin(), exts.end());
	if (checksums && l4spec) {
		uint32_t pseudo = sum16(pseudo_src.data(), 16);
		pseudo = sum16(pseudo_dst.data(), 16, pseudo);
		pseudo += static_cast<uint32_t>(l4.size());
		pseudo += l4spec->protocol;
		fill_l4_checksum(l4, l4spec->protocol, pseudo);
	}
	b.insert(b.end(), l4.begin(), l4.end());
	return b;
}

} // namespace detail

inline Bytes build_frame(const FrameSpec &spec)
{
	Bytes b(spec.dst_mac.begin(), spec.dst_mac.end());
	b.insert(b.end(), spec.src_mac.begin(), spec.src_mac.end());
	for (const VlanTag &tag : spec.vlans) {
		detail::put16(b, tag.tpid);
		detail::put16(b, tag.tci);
	}
	uint16_t type = spec.ethertype.value_or(std::holds_alternative<Ipv4Spec>(spec.ip) ? ethertype::kIpv4
	                                        : std::holds_alternative<Ipv6Spec>(spec.ip)
	                                            ? ethertype::kIpv6
	                                            : 0x88B5 /* local experimental */);
	detail::put16(b, type);
	Bytes l3;
	if (const auto *v4 = std::get_if<Ipv4Spec>(&spec.ip))
		l3 = detail::ipv4_bytes(*v4, spec.l4, spec.checksums);
	else if (const auto *v6 = std::get_if<Ipv6Spec>(&spec.ip))
		l3 = detail::ipv6_bytes(*v6, spec.l4, spec.checksums);
	else
		l3 = spec.raw_l3;
	b.insert(b.end(), l3.begin(), l3.end());
	if (spec.truncate_to && *spec.truncate_to < b.size())
		b.resize(*spec.truncate_to);
	return b;
}

// The first `length` bytes of `frame` (all of it if shorter).
inline Bytes truncated(Bytes frame, size_t length)
{
	if (length < frame.size())
		frame.resize(length);
	return frame;
}

// Offset of the L3 header in the built frame (14 + 4 per VLAN tag).
inline size_t l3_offset(const FrameSpec &spec)
{
	return kEthHeaderLen + kVlanTagLen * spec.vlans.size();
}

// An ARP request body (28 bytes) for non-IP cases.
inline Bytes arp_request_body(const Ipv4Addr &sender, const Ipv4Addr &target)
{
	Bytes b{0x00, 0x01, 0x08, 0x00, 6, 4, 0x00, 0x01, 0x52, 0x54, 0x00, 0xab, 0xcd, 0xef};
	b.insert(b.end(), sender.begin(), sender.end());
	b.insert(b.end(), 6, 0);
	b.insert(b.end(), target.begin(), target.end());
	return b;
}

// ---------------------------------------------------------------------------------------
// Fluent front end: FrameBuilder().vlan(5).ipv6(a, b).ext(dest_home_address(h)).tcp(1, 2).build()

class FrameBuilder
{
public:
	FrameBuilder &vlan(uint16_t tci, uint16_t tpid = ethertype::kVlan)
	{
		spec_.vlans.push_back({tpid, tci});
		return *this;
	}
	// 802.1ad outer tag + 802.1Q inner tag.
	FrameBuilder &qinq(uint16_t outer_tci, uint16_t inner_tci)
	{
		return vlan(outer_tci, ethertype::kQinQ).vlan(inner_tci, ethertype::kVlan);
	}
	FrameBuilder &ipv4(const Ipv4Addr &src, const Ipv4Addr &dst) { return ip<Ipv4Spec>(src, dst); }
	FrameBuilder &ipv4(const char *src, const char *dst) { return ipv4(ipv4_addr(src), ipv4_addr(dst)); }
	FrameBuilder &ipv6(const Ipv6Addr &src, const Ipv6Addr &dst) { return ip<Ipv6Spec>(src, dst); }
	FrameBuilder &ipv6(const char *src, const char *dst) { return ipv6(ipv6_addr(src), ipv6_addr(dst)); }
	// Access to the IP header spec for the less common fields (throws if not that family).
	Ipv4Spec &v4() { return std::get<Ipv4Spec>(spec_.ip); }
	Ipv6Spec &v6() { return std::get<Ipv6Spec>(spec_.ip); }
	FrameBuilder &ipv4_options(Bytes options)
	{
		v4().options = std::move(options);
		return *this;
	}
	FrameBuilder &ipv4_fragment(uint16_t offset_units, bool more_fragments)
	{
		v4().fragment_offset = offset_units;
		v4().more_fragments = more_fragments;
		return *this;
	}
	FrameBuilder &ext(Ipv6Ext header)
	{
		v6().extensions.push_back(std::move(header));
		return *this;
	}
	FrameBuilder &tcp(uint16_t sport, uint16_t dport, Bytes payload = {})
	{
		spec_.l4 = L4Spec{ipproto::kTcp, sport, dport, std::move(payload)};
		return *this;
	}
	FrameBuilder &udp(uint16_t sport, uint16_t dport, Bytes payload = {})
	{
		spec_.l4 = L4Spec{ipproto::kUdp, sport, dport, std::move(payload)};
		return *this;
	}
	FrameBuilder &l4(uint8_t protocol, Bytes payload)
	{
		spec_.l4 = L4Spec{protocol, 0, 0, std::move(payload)};
		return *this;
	}
	FrameBuilder &ethertype(uint16_t type, Bytes body = {})
	{
		spec_.ethertype = type;
		spec_.raw_l3 = std::move(body);
		return *this;
	}
	FrameBuilder &arp(const Ipv4Addr &sender, const Ipv4Addr &target)
	{
		return ethertype(ethertype::kArp, arp_request_body(sender, target));
	}
	FrameBuilder &truncate(size_t length)
	{
		spec_.truncate_to = length;
		return *this;
	}
	FrameBuilder &no_checksums()
	{
		spec_.checksums = false;
		return *this;
	}

	const FrameSpec &spec() const { return spec_; }
	FrameSpec &spec() { return spec_; }
	Bytes build() const { return build_frame(spec_); }
	operator Bytes() const { return build(); }

private:
	// An IP header of family Spec with these addresses, the other fields at their defaults.
	template <class Spec, class Addr> FrameBuilder &ip(const Addr &src, const Addr &dst)
	{
		Spec h;
		h.src = src;
		h.dst = dst;
		spec_.ip = h;
		return *this;
	}

	FrameSpec spec_;
};

} // namespace vsteer::test

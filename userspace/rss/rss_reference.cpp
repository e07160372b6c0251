// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
// Written from rss-semantics.md alone, as a plain byte walker, so that it shares no
// code (and so no bugs) with the BPF parser it checks.
#include "rss_reference.hpp"

#include <algorithm>

namespace vsteer
{
namespace
{

class Bytes
{
public:
	explicit Bytes(std::span<const uint8_t> d) : d_(d) {}
	bool has(size_t off, size_t len) const { return off <= d_.size() && len <= d_.size() - off; }
	uint8_t u8(size_t off) const { return d_[off]; }
	uint16_t be16(size_t off) const { return static_cast<uint16_t>(d_[off] << 8 | d_[off + 1]); }
	std::array<uint8_t, 16> addr(size_t off, size_t len) const
	{
		std::array<uint8_t, 16> a{};
		std::copy_n(d_.begin() + static_cast<long>(off), len, a.begin());
		return a;
	}

private:
	std::span<const uint8_t> d_;
};

constexpr int kTcp = 6, kUdp = 17;

void parse_l4(const Bytes &b, size_t off, int proto, ParsedFlow &f)
{
	size_t need = proto == kTcp ? 20 : proto == kUdp ? 8 : 0;
	if (!need || !b.has(off, need))
		return;
	f.l4 = proto;
	f.sport = b.be16(off);
	f.dport = b.be16(off + 2);
}

void parse_ipv4(const Bytes &b, size_t off, ParsedFlow &f)
{
	if (!b.has(off, 20))
		return;
	uint8_t vihl = b.u8(off);
	size_t ihl = vihl & 0xf;
	if ((vihl >> 4) != 4 || ihl < 5 || !b.has(off, ihl * 4))
		return;
	f.l3 = 4;
	f.src = b.addr(off + 12, 4);
	f.dst = b.addr(off + 16, 4);
	bool fragment = b.be16(off + 6) & 0x3fff; // MF or offset
	if (!fragment)
		parse_l4(b, off + ihl * 4, b.u8(off + 9), f);
}

bool is_walked_extension(int nh)
{
	return nh == 0 || nh == 43 || nh == 60 || nh == 44;
}

void find_home_address(const Bytes &b, size_t start, size_t end, ParsedFlow &f)
{
	size_t opt = start + 2;
	for (int i = 0; i < kMaxDestOptions && opt < end; i++) {
		uint8_t type = b.u8(opt);
		if (type == 0) { // Pad1
			opt += 1;
			continue;
		}
		if (opt + 2 > end)
			return;
		uint8_t len = b.u8(opt + 1);
		if (type == 0xC9 && len == 16) {
			if (opt + 18 <= end)
				f.home_addr = b.addr(opt + 2, 16);
			return;
		}
		opt += 2 + len;
	}
}

void parse_ipv6(const Bytes &b, size_t off, ParsedFlow &f)
{
	if (!b.has(off, 40) || (b.u8(off) >> 4) != 6)
		return;
	f.l3 = 6;
	f.src = b.addr(off + 8, 16);
	f.dst = b.addr(off + 24, 16);
	int next = b.u8(off + 6);
	off += 40;
	bool fragmented = false;
	int walked = 0;
	while (is_walked_extension(next)) {
		if (walked == kMaxExtensionHeaders)
			return; // past the walk limit: no L4
		if (!b.has(off, 2))
			return;
		size_t len = next == 44 ? 8 : (size_t(b.u8(off + 1)) + 1) * 8;
		if (!b.has(off, len))
			return; // the chain runs past the end of the packet
		if (next == 44) {
			fragmented = true;
		} else if (next == 43) {
			if (!f.final_dst && b.u8(off + 2) == 2 && b.u8(off + 1) == 2 && b.u8(off + 3) == 1)
				f.final_dst = b.addr(off + 8, 16);
		} else if (next == 60) {
			if (!f.home_addr)
				find_home_address(b, off, off + len, f);
		}
		next = b.u8(off);
		off += len;
		walked++;
	}
	if (!fragmented)
		parse_l4(b, off, next, f);
}

void append(std::vector<uint8_t> &v, const std::array<uint8_t, 16> &a, size_t n)
{
	v.insert(v.end(), a.begin(), a.begin() + static_cast<long>(n));
}

void append_ports(std::vector<uint8_t> &v, const ParsedFlow &f)
{
	v.push_back(static_cast<uint8_t>(f.sport >> 8));
	v.push_back(static_cast<uint8_t>(f.sport));
	v.push_back(static_cast<uint8_t>(f.dport >> 8));
	v.push_back(static_cast<uint8_t>(f.dport));
}

} // namespace

ParsedFlow parse_frame(std::span<const uint8_t> frame)
{
	Bytes b(frame);
	ParsedFlow f;
	if (!b.has(0, 14))
		return f;
	size_t off = 12;
	uint16_t type = b.be16(off);
	for (int tags = 0; tags < 2 && (type == 0x8100 || type == 0x88A8); tags++) {
		off += 4;
		if (!b.has(off, 2))
			return f;
		type = b.be16(off);
	}
	off += 2;
	if (type == 0x0800)
		parse_ipv4(b, off, f);
	else if (type == 0x86DD)
		parse_ipv6(b, off, f);
	return f;
}

HashChoice choose_hash(const ParsedFlow &f, uint32_t types)
{
	HashChoice c;
	auto on = [types](uint32_t bit) { return (types & bit) != 0; };
	if (f.l3 == 4) {
		if (f.l4 == kTcp && on(VSTEER_HASH_TCPV4))
			c.report = VSTEER_REPORT_TCPV4;
		else if (f.l4 == kUdp && on(VSTEER_HASH_UDPV4))
			c.report = VSTEER_REPORT_UDPV4;
		else if (on(VSTEER_HASH_IPV4))
			c.report = VSTEER_REPORT_IPV4;
		else
			return c;
		append(c.input, f.src, 4);
		append(c.input, f.dst, 4);
		if (c.report != VSTEER_REPORT_IPV4)
			append_ports(c.input, f);
		return c;
	}
	if (f.l3 != 6)
		return c;
	if (f.l4 == kTcp && on(VSTEER_HASH_TCP_EX))
		c.report = VSTEER_REPORT_TCPV6_EX;
	else if (f.l4 == kTcp && on(VSTEER_HASH_TCPV6))
		c.report = VSTEER_REPORT_TCPV6;
	else if (f.l4 == kUdp && on(VSTEER_HASH_UDP_EX))
		c.report = VSTEER_REPORT_UDPV6_EX;
	else if (f.l4 == kUdp && on(VSTEER_HASH_UDPV6))
		c.report = VSTEER_REPORT_UDPV6;
	else if (on(VSTEER_HASH_IP_EX))
		c.report = VSTEER_REPORT_IPV6_EX;
	else if (on(VSTEER_HASH_IPV6))
		c.report = VSTEER_REPORT_IPV6;
	else
		return c;
	bool ex = c.report >= VSTEER_REPORT_IPV6_EX;
	append(c.input, ex && f.home_addr ? *f.home_addr : f.src, 16);
	append(c.input, ex && f.final_dst ? *f.final_dst : f.dst, 16);
	if (c.report != VSTEER_REPORT_IPV6 && c.report != VSTEER_REPORT_IPV6_EX)
		append_ports(c.input, f);
	return c;
}

uint16_t select_queue(const RssConfig &config, uint32_t hash, uint8_t report)
{
	if (report == VSTEER_REPORT_NONE || !config.redirect || config.table.empty())
		return config.unclassified_queue;
	return config.table[hash & (config.table.size() - 1)];
}

RssResult compute_rss(const RssConfig &config, std::span<const uint8_t> frame)
{
	HashChoice choice = choose_hash(parse_frame(frame), config.hash_types);
	RssResult r;
	r.report = choice.report;
	if (choice.report != VSTEER_REPORT_NONE)
		r.hash = toeplitz_hash(config.key, choice.input);
	r.queue = select_queue(config, r.hash, r.report);
	return r;
}

} // namespace vsteer

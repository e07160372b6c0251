// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
// Deterministic (seeded) random frames and flows built with frame_builder.hpp: well-formed
// and malformed, tagged and untagged, IPv4 with options and fragments, IPv6 with extension
// chains of 0..10 headers (Home Address, type-2 routing, fragments, paddings, chains that
// run past the end), TCP / UDP / other L4, non-IP EtherTypes and truncation at any byte.
// The same seed gives the same frames on every machine (own PRNG, no <random> distributions).
#pragma once

#include "frame_builder.hpp"

#include <cstdint>
#include <string>

namespace vsteer::test
{

// xoshiro256** seeded through splitmix64.
class Rng
{
public:
	explicit Rng(uint64_t seed)
	{
		for (auto &word : s_) {
			seed += 0x9e3779b97f4a7c15ull;
			uint64_t z = seed;
			z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
			z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
			word = z ^ (z >> 31);
		}
	}
	uint64_t next()
	{
		const uint64_t result = rotl(s_[1] * 5, 7) * 9;
		const uint64_t t = s_[1] << 17;
		s_[2] ^= s_[0];
		s_[3] ^= s_[1];
		s_[1] ^= s_[2];
		s_[0] ^= s_[3];
		s_[2] ^= t;
		s_[3] = rotl(s_[3], 45);
		return result;
	}
	// Uniform in [0, n); n > 0.
	uint32_t below(uint32_t n) { return static_cast<uint32_t>((next() >> 32) * n >> 32); }
	// Uniform in [lo, hi].
	uint32_t between(uint32_t lo, uint32_t hi) { return lo + below(hi - lo + 1); }
	bool percent(uint32_t p) { return below(100) < p; }
	uint8_t byte() { return static_cast<uint8_t>(next() >> 56); }
	uint16_t u16() { return static_cast<uint16_t>(next() >> 48); }
	Bytes bytes(size_t n)
	{
		Bytes b(n);
		for (auto &x : b)
			x = byte();
		return b;
	}
	template <size_t N> std::array<uint8_t, N> array()
	{
		std::array<uint8_t, N> a;
		for (auto &x : a)
			x = byte();
		return a;
	}

private:
	static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
	uint64_t s_[4];
};

struct GeneratorOptions {
	uint32_t malformed_percent = 30; // frames that get at least one deliberate defect
	uint32_t tagged_percent = 25;    // frames with in-band VLAN tags
	uint32_t max_extensions = 10;    // IPv6 extension headers per frame, 0..max
	size_t min_length = 14;          // never truncate below (BPF_PROG_TEST_RUN needs 14)
};

struct GeneratedFrame {
	FrameSpec spec;
	Bytes bytes;
	std::string description; // for failure messages: "vlan2 ipv6[hbh,rt2,dst-hao] tcp trunc=77"
	bool malformed = false;
};

enum class IpFamily { v4, v6 };

// A well-formed flow: random addresses and ports, TCP or UDP, small payload.
inline FrameSpec random_flow(Rng &rng, IpFamily family, uint8_t protocol)
{
	FrameSpec s;
	if (family == IpFamily::v4) {
		Ipv4Spec ip;
		ip.src = rng.array<4>();
		ip.dst = rng.array<4>();
		s.ip = ip;
	} else {
		Ipv6Spec ip;
		ip.src = rng.array<16>();
		ip.dst = rng.array<16>();
		s.ip = ip;
	}
	s.l4 = L4Spec{protocol, rng.u16(), rng.u16(), rng.bytes(rng.below(64))};
	return s;
}

class FrameGenerator
{
public:
	explicit FrameGenerator(uint64_t seed, GeneratorOptions options = {}) : rng_(seed), opt_(options) {}

	GeneratedFrame next()
	{
		GeneratedFrame g;
		bool malformed = rng_.percent(opt_.malformed_percent);
		add_vlans(g, malformed);
		uint32_t kind = rng_.below(100);
		if (kind < 40)
			make_ipv4(g, malformed);
		else if (kind < 88)
			make_ipv6(g, malformed);
		else
			make_non_ip(g);
		g.bytes = build_frame(g.spec);
		if (malformed && rng_.percent(50) && g.bytes.size() > opt_.min_length) {
			size_t cut = rng_.between(static_cast<uint32_t>(opt_.min_length),
			                          static_cast<uint32_t>(g.bytes.size() - 1));
			g.spec.truncate_to = cut;
			g.bytes.resize(cut);
			note(g, "trunc=" + std::to_string(cut), true);
		}
		if (g.bytes.size() < opt_.min_length)
			g.bytes.resize(opt_.min_length, 0); // only non-IP bodies can be this short
		return g;
	}

	Rng &rng() { return rng_; }

private:
	static void note(GeneratedFrame &g, const std::string &what, bool defect = false)
	{
		if (!g.description.empty())
			g.description += ' ';
		g.description += what;
		g.malformed |= defect;
	}

	void add_vlans(GeneratedFrame &g, bool malformed)
	{
		if (!rng_.percent(opt_.tagged_percent))
			return;
		uint32_t count = malformed && rng_.percent(20) ? 3 : rng_.between(1, 2);
		bool foreign = false;
		for (uint32_t i = 0; i < count; i++) {
			uint16_t tpid = count == 2 && i == 0 ? ethertype::kQinQ : ethertype::kVlan;
			if (rng_.percent(20))
				tpid = rng_.percent(50) ? ethertype::kQinQ : ethertype::kVlan;
			if (malformed && rng_.percent(5)) {
				tpid = 0x9100; // a pre-standard QinQ TPID: not skipped
				foreign = true;
			}
			g.spec.vlans.push_back({tpid, static_cast<uint16_t>(rng_.below(4096))});
		}
		note(g, "vlan" + std::to_string(count) + (foreign ? "(9100)" : ""), count > 2 || foreign);
	}

	L4Spec random_l4(GeneratedFrame &g)
	{
		uint32_t kind = rng_.below(100);
		uint8_t proto = kind < 45          ? ipproto::kTcp
		                : kind < 85        ? ipproto::kUdp
		                : rng_.percent(50) ? ipproto::kIcmp
		                                   : rng_.byte();
		L4Spec l4{proto, rng_.u16(), rng_.u16(), rng_.bytes(rng_.below(48))};
		if (rng_.percent(3))
			l4.sport = l4.dport = 0;
		note(g, proto == ipproto::kTcp   ? "tcp"
		        : proto == ipproto::kUdp ? "udp"
		                                 : "l4=" + std::to_string(proto));
		return l4;
	}

	void make_ipv4(GeneratedFrame &g, bool malformed)
	{
		Ipv4Spec ip;
		ip.src = rng_.array<4>();
		ip.dst = rng_.array<4>();
		std::string d = "ipv4";
		if (rng_.percent(20)) {
			ip.options = rng_.bytes(4 * rng_.between(1, 10));
			d += " opts=" + std::to_string(ip.options.size());
		}
		if (rng_.percent(10)) {
			ip.more_fragments = rng_.percent(50);
			ip.fragment_offset = ip.more_fragments && rng_.percent(50)
			                         ? 0
			                         : static_cast<uint16_t>(rng_.between(1, 0x1fff));
			d += " frag(mf=" + std::to_string(ip.more_fragments) +
			     ",off=" + std::to_string(ip.fragment_offset) + ")";
		}
		bool defect = false;
		if (malformed && rng_.percent(40)) {
			defect = true;
			switch (rng_.below(3)) {
			case 0:
				ip.version = static_cast<uint8_t>(rng_.percent(50) ? 6 : rng_.below(16));
				d += " version=" + std::to_string(ip.version);
				break;
			case 1:
				ip.ihl = static_cast<uint8_t>(rng_.below(5));
				d += " ihl=" + std::to_string(*ip.ihl);
				break;
			default:
				ip.ihl = static_cast<uint8_t>(rng_.between(6, 15));
				d += " ihl=" + std::to_string(*ip.ihl) + "(opts " +
				     std::to_string(ip.options.size()) + ")";
				break;
			}
		}
		note(g, d, defect);
		g.spec.ip = ip;
		g.spec.l4 = random_l4(g);
		if (malformed && rng_.percent(15)) {
			// An L4 header shorter than its minimum, as the last bytes of the frame.
			g.spec.l4->payload.clear();
			note(g, "short-l4", true);
			size_t l4_start =
			    l3_offset(g.spec) + kIpv4HeaderLen + (ip.options.size() + 3) / 4 * 4;
			g.spec.truncate_to = l4_start + rng_.below(8);
		}
	}

	Bytes random_options()
	{
		Bytes b;
		uint32_t n = rng_.below(4);
		for (uint32_t i = 0; i < n; i++) {
			switch (rng_.below(4)) {
			case 0:
				b.push_back(kOptPad1);
				break;
			case 1: {
				Bytes p = opt_padn(rng_.between(2, 9));
				b.insert(b.end(), p.begin(), p.end());
				break;
			}
			default: {
				Bytes p = opt_tlv(static_cast<uint8_t>(rng_.below(0x40) | 0x02),
				                  rng_.bytes(rng_.below(12)));
				b.insert(b.end(), p.begin(), p.end());
				break;
			}
			}
		}
		return b;
	}

	Ipv6Ext random_extension(std::string &d, bool malformed, bool &defect)
	{
		switch (rng_.below(4)) {
		case 0:
			d += "hbh";
			return detail::options_header(ipproto::kHopByHop, random_options());
		case 1: {
			Bytes opts = random_options();
			if (rng_.percent(60)) {
				Bytes addr = rng_.bytes(16);
				uint8_t len = 16;
				if (malformed && rng_.percent(25)) {
					len = static_cast<uint8_t>(rng_.percent(50) ? 8 : 18);
					defect = true;
				}
				if (rng_.percent(60)) {
					Bytes p = opt_padn(4);
					opts.insert(opts.end(), p.begin(), p.end());
				}
				if (rng_.percent(10)) // many options before it: the TLV walk limit
					opts.insert(opts.end(), rng_.between(4, 24), kOptPad1);
				opts.push_back(kOptHomeAddress);
				opts.push_back(len);
				opts.insert(opts.end(), addr.begin(), addr.end());
				d += len == 16 ? "dst-hao" : "dst-hao(len=" + std::to_string(len) + ")";
			} else {
				d += "dst";
			}
			return detail::options_header(ipproto::kDestOptions, opts);
		}
		case 2: {
			if (rng_.percent(60)) {
				Ipv6Addr home = rng_.array<16>();
				uint8_t segs = 1;
				if (rng_.percent(15))
					segs = static_cast<uint8_t>(rng_.percent(50) ? 0 : 2);
				d += segs == 1 ? "rt2" : "rt2(segs=" + std::to_string(segs) + ")";
				return routing_type2(home, segs);
			}
			uint8_t type = static_cast<uint8_t>(rng_.below(5));
			d += "rt" + std::to_string(type) + "x";
			return routing_header(type, static_cast<uint8_t>(rng_.below(4)),
			                      rng_.bytes(4 + 8 * rng_.below(5)));
		}
		default: {
			uint16_t off = rng_.percent(50) ? 0 : static_cast<uint16_t>(rng_.below(0x2000));
			d += "frag";
			return fragment_header(off, rng_.percent(50));
		}
		}
	}

	void make_ipv6(GeneratedFrame &g, bool malformed)
	{
		Ipv6Spec ip;
		ip.src = rng_.array<16>();
		ip.dst = rng_.array<16>();
		bool defect = false;
		std::string d = "ipv6[";
		uint32_t count = rng_.percent(40) ? 0 : rng_.between(1, opt_.max_extensions);
		for (uint32_t i = 0; i < count; i++) {
			if (i)
				d += ',';
			if (malformed && rng_.percent(10)) {
				// A header claiming more bytes than follow: the chain runs past the end.
				uint8_t len = static_cast<uint8_t>(rng_.between(20, 255));
				ip.extensions.push_back(raw_extension(ipproto::kDestOptions, len, 8));
				d += "long(" + std::to_string(len) + ")";
				defect = true;
				continue;
			}
			if (rng_.percent(4)) {
				// A header RSS does not walk (AH, Mobility): the chain stops there.
				ip.extensions.push_back(rng_.percent(50) ? ah_header() : mobility_header());
				d += ip.extensions.back().type == ipproto::kAh ? "ah" : "mobility";
				continue;
			}
			ip.extensions.push_back(random_extension(d, malformed, defect));
		}
		d += ']';
		if (malformed && rng_.percent(10)) {
			ip.version = static_cast<uint8_t>(rng_.percent(50) ? 4 : rng_.below(16));
			d += " version=" + std::to_string(ip.version);
			defect = true;
		}
		note(g, d, defect);
		g.spec.ip = ip;
		g.spec.l4 = random_l4(g);
	}

	void make_non_ip(GeneratedFrame &g)
	{
		if (rng_.percent(50)) {
			g.spec.ethertype = ethertype::kArp;
			g.spec.raw_l3 = arp_request_body(rng_.array<4>(), rng_.array<4>());
			note(g, "arp");
			return;
		}
		static constexpr uint16_t kOthers[] = {0x88CC /* LLDP */, 0x8847 /* MPLS */, 0x0842, 0x86DE,
		                                       0x0801};
		uint16_t type = kOthers[rng_.below(std::size(kOthers))];
		g.spec.ethertype = type;
		g.spec.raw_l3 = rng_.bytes(rng_.below(80));
		note(g, "ethertype=" + std::to_string(type));
	}

	Rng rng_;
	GeneratorOptions opt_;
};

} // namespace vsteer::test

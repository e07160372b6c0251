// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
// The real steering program (BPF_PROG_TEST_RUN on this kernel) against the C++ reference:
// generated frames under many configurations, every truncation of frames covering each
// parsing step, and QEMU's raw map bytes; compared on the queue, cb[0] and cb[1].
#include "privileges.hpp"
#include "prog_run_support.hpp"

#include <doctest/doctest.h>

#include <bit>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <sstream>

using namespace vsteer;
using namespace vsteer::test;

namespace
{

constexpr size_t kFramesPerConfig = 6500;

struct NamedConfig {
	std::string name;
	RssConfig config;
};

// Fixed corner configurations, then every table size 1..128 with random types and keys.
std::vector<NamedConfig> test_configs(Rng &rng)
{
	std::vector<NamedConfig> out;
	auto add = [&](std::string name, RssConfig c) {
		c.validate(0);
		out.push_back({std::move(name), std::move(c)});
	};
	RssConfig def = random_config(rng, VSTEER_HASH_DEFAULT, 128, 4);
	def.table = equal_table(4);
	def.unclassified_queue = 0;
	add("default types, equal table over 4 queues", def);
	add("all nine types, 128 entries", random_config(rng, VSTEER_HASH_ALL, 128));
	add("_EX types only",
	    random_config(rng, VSTEER_HASH_IP_EX | VSTEER_HASH_TCP_EX | VSTEER_HASH_UDP_EX, 16));
	add("TCP_EX alone", random_config(rng, VSTEER_HASH_TCP_EX, 32));
	add("UDP_EX + IPv6", random_config(rng, VSTEER_HASH_UDP_EX | VSTEER_HASH_IPV6, 8));
	add("IP_EX + TCPv6 + UDPv4",
	    random_config(rng, VSTEER_HASH_IP_EX | VSTEER_HASH_TCPV6 | VSTEER_HASH_UDPV4, 64));
	add("IPv4 alone", random_config(rng, VSTEER_HASH_IPV4, 4));
	add("no types: everything unclassified", random_config(rng, 0, 2));
	RssConfig report_only = random_config(rng, VSTEER_HASH_ALL, 128);
	report_only.redirect = false;
	add("redirect=0 (hash report only)", report_only);
	RssConfig zero_key = random_config(rng, VSTEER_HASH_ALL, 128);
	zero_key.key.fill(0); // every hash is 0, which is still a hash
	add("all-zero key", zero_key);
	for (size_t len = 1; len <= VSTEER_MAX_TABLE_LEN; len *= 2)
		add("table of " + std::to_string(len) + ", random types",
		    random_config(rng, rng.below(VSTEER_HASH_ALL + 1), len));
	return out;
}

struct Tally {
	size_t packets = 0, refused_by_test_run = 0, mismatches = 0, malformed = 0, tagged = 0,
	       redirected = 0;
	size_t ex_with_home_addr = 0, ex_with_final_dst = 0; // _EX hashes over substituted addresses
	std::array<size_t, VSTEER_REPORT_COUNT> by_report{};
};

void check_frame(const SteeringHarness &h, const NamedConfig &nc, const GeneratedFrame &g, Tally &t)
{
	if (!SteeringHarness::test_run_accepts(g.bytes)) {
		t.refused_by_test_run++;
		return;
	}
	ProgOutput got = h.run(g.bytes);
	ProgOutput want = expected_output(nc.config, g.bytes);
	t.packets++;
	t.malformed += g.malformed;
	t.tagged += !g.spec.vlans.empty();
	t.by_report[want.report < VSTEER_REPORT_COUNT ? want.report : 0]++;
	t.redirected += want.report != VSTEER_REPORT_NONE && nc.config.redirect;
	if (want.report >= VSTEER_REPORT_IPV6_EX) {
		ParsedFlow flow = parse_frame(g.bytes);
		t.ex_with_home_addr += flow.home_addr.has_value();
		t.ex_with_final_dst += flow.final_dst.has_value();
	}
	if (got == want)
		return;
	if (++t.mismatches <= 10)
		MESSAGE("mismatch under '" << nc.name << "' for [" << g.description << "]\n  frame "
		                           << hex(g.bytes) << "\n  bpf       " << show(got)
		                           << "\n  reference " << show(want));
}

} // namespace

TEST_CASE("steering program equals the reference on generated frames under many configurations")
{
	if (!require_privileges("BPF_PROG_TEST_RUN of the steering program"))
		return;
	const uint64_t seed = test_seed();
	INFO("seed " << seed << " (set VSTEER_TEST_SEED to reproduce)");
	SteeringHarness &h = harness();
	Rng rng(seed);
	auto configs = test_configs(rng);
	Tally t;
	auto start = std::chrono::steady_clock::now();
	for (size_t i = 0; i < configs.size(); i++) {
		h.write(configs[i].config);
		FrameGenerator gen(seed + i + 1);
		for (size_t n = 0; n < kFramesPerConfig; n++)
			check_frame(h, configs[i], gen.next(), t);
	}
	double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
	std::ostringstream reports;
	for (uint8_t r = 0; r < VSTEER_REPORT_COUNT; r++)
		reports << ' ' << report_name(r) << '=' << t.by_report[r];
	std::printf(
	    "[bpf prog_run] %zu packets under %zu configurations in %.2f s: %zu mismatches; %zu malformed, "
	    "%zu tagged, %zu redirected, %zu too short for test_run;%s\n",
	    t.packets, configs.size(), secs, t.mismatches, t.malformed, t.tagged, t.redirected,
	    t.refused_by_test_run, reports.str().c_str());
	std::printf(
	    "[bpf prog_run] _EX hashes over a Home Address: %zu, over a type-2 final destination: %zu\n",
	    t.ex_with_home_addr, t.ex_with_final_dst);
	CHECK(t.packets >= 100000);
	CHECK(t.ex_with_home_addr > 100);
	CHECK(t.ex_with_final_dst > 100);
	CHECK(t.mismatches == 0);
	// The generator must reach every report type, or the comparison proves little.
	for (uint8_t r = 0; r < VSTEER_REPORT_COUNT; r++)
		CHECK_MESSAGE(t.by_report[r] > 100,
		              "report " << report_name(r) << " seen only " << t.by_report[r]);
}

namespace
{

// Frames that exercise each parsing step, to be cut at every length.
std::vector<std::pair<std::string, Bytes>> truncation_templates()
{
	const Ipv6Addr home = ipv6_addr("2001:db8:aaaa::1"), final_dst = ipv6_addr("2001:db8:bbbb::2");
	auto v4 = [] { return std::move(FrameBuilder().ipv4("192.0.2.1", "198.51.100.2")); };
	auto v6 = [] { return std::move(FrameBuilder().ipv6("2001:db8::1", "2001:db8::2")); };
	return {
	    {"IPv4 TCP", v4().tcp(1000, 80)},
	    {"IPv4 UDP, 16-byte payload", v4().udp(53, 53, Bytes(16, 7))},
	    {"IPv4 UDP with options", v4().ipv4_options(Bytes(20, 1)).udp(53, 53)},
	    {"802.1Q IPv4 TCP", v4().vlan(5).tcp(1, 2)},
	    {"QinQ IPv6 UDP", v6().qinq(1, 2).udp(3, 4)},
	    {"IPv6 TCP", v6().tcp(5, 6)},
	    {"IPv6 HBH, type-2 routing, HAO, TCP",
	     v6().ext(hop_by_hop()).ext(routing_type2(final_dst)).ext(dest_home_address(home)).tcp(7, 8)},
	    {"802.1Q IPv6 HAO UDP", v6().vlan(9).ext(dest_home_address(home)).udp(9, 10)},
	};
}

} // namespace

TEST_CASE("steering program equals the reference on every truncation of every parsing step")
{
	if (!require_privileges("BPF_PROG_TEST_RUN of the steering program"))
		return;
	SteeringHarness &h = harness();
	Rng rng(test_seed() ^ 0x747275);
	const RssConfig configs[] = {
	    random_config(rng, VSTEER_HASH_ALL, 128), random_config(rng, VSTEER_HASH_DEFAULT, 64),
	    random_config(rng, VSTEER_HASH_IP_EX | VSTEER_HASH_UDP_EX | VSTEER_HASH_TCPV6, 8)};
	size_t checked = 0;
	for (const RssConfig &c : configs) {
		h.write(c);
		for (const auto &[name, full] : truncation_templates())
			for (size_t len = kEthHeaderLen; len <= full.size(); len++) {
				const Bytes frame = truncated(full, len);
				if (!SteeringHarness::test_run_accepts(frame))
					continue;
				INFO(name << " cut to " << len << " of " << full.size() << " bytes, types "
				          << format_hash_types(c.hash_types));
				REQUIRE(h.run(frame) == expected_output(c, frame));
				checked++;
			}
	}
	MESSAGE(checked << " truncated frames");
	CHECK(checked > 900);
}

// Bytes written the way QEMU's ebpf_rss.c writes them (packed config with host-order
// fields; key with its first 32-bit word converted by ntohl; table entries every 8 bytes),
// built here by hand rather than through the shared ABI structs.
TEST_CASE("the program reads QEMU's raw map bytes as QEMU lays them out")
{
	if (!require_privileges("BPF_PROG_TEST_RUN of the steering program"))
		return;
	static_assert(std::endian::native == std::endian::little, "the bytes below are little-endian");
	SteeringHarness &h = harness();
	Rng rng(test_seed() ^ 0x71656d75);
	RssConfig c = random_config(rng, VSTEER_HASH_ALL & ~VSTEER_HASH_IP_EX, 32);
	c.unclassified_queue = 0x0105;

	uint8_t *cfg = h.config_bytes();
	const uint8_t config_bytes[10] = {1,
	                                  1,
	                                  uint8_t(c.hash_types),
	                                  uint8_t(c.hash_types >> 8),
	                                  0,
	                                  0,
	                                  uint8_t(c.table.size()),
	                                  0,
	                                  uint8_t(c.unclassified_queue),
	                                  uint8_t(c.unclassified_queue >> 8)};
	std::memcpy(cfg, config_bytes, sizeof(config_bytes));
	uint8_t *key = h.key_bytes();
	key[0] = c.key[3]; // *(uint32_t *)toe = ntohl(*(uint32_t *)toe) on a little-endian host
	key[1] = c.key[2];
	key[2] = c.key[1];
	key[3] = c.key[0];
	std::memcpy(key + 4, c.key.data() + 4, VSTEER_KEY_SIZE - 4);
	uint8_t *table = h.table_bytes();
	for (size_t i = 0; i < c.table.size(); i++) {
		table[i * 8] = uint8_t(c.table[i]);
		table[i * 8 + 1] = uint8_t(c.table[i] >> 8);
	}

	FrameGenerator gen(test_seed() ^ 0x71656d75);
	size_t checked = 0;
	while (checked < 2000) {
		GeneratedFrame g = gen.next();
		if (!SteeringHarness::test_run_accepts(g.bytes))
			continue;
		INFO(g.description);
		REQUIRE(h.run(g.bytes) == expected_output(c, g.bytes));
		checked++;
	}
}

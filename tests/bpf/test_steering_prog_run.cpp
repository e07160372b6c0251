// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
// The real steering program (BPF_PROG_TEST_RUN on this kernel) against the C++ reference:
// generated frames under many configurations, compared on queue, cb[0] and cb[1]; and live
// updates through the mmapped maps, which must be used by the very next packet.
#include "frame_generator.hpp"
#include "privileges.hpp"
#include "rss_reference.hpp"
#include "steering_harness.hpp"

#include <doctest/doctest.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <sstream>
#include <thread>
#include <atomic>
#include <bit>
#include <cstring>

using namespace vsteer;
using namespace vsteer::test;

namespace
{

constexpr uint64_t kDefaultSeed = 0x5eed0f7a6b1e;
constexpr size_t kFramesPerConfig = 6500;

uint64_t test_seed()
{
	const char *env = std::getenv("VSTEER_TEST_SEED");
	return env ? std::strtoull(env, nullptr, 0) : kDefaultSeed;
}

// One loaded program for the whole suite (loading and verifying takes ~0.4 s); every test
// writes a complete configuration before its first packet.
SteeringHarness &harness()
{
	static SteeringHarness h;
	return h;
}

struct NamedConfig {
	std::string name;
	RssConfig config;
};

std::vector<uint16_t> random_table(Rng &rng, size_t len, uint32_t queues)
{
	std::vector<uint16_t> t(len);
	for (auto &q : t)
		q = static_cast<uint16_t>(rng.below(queues));
	return t;
}

RssConfig make_config(Rng &rng, uint32_t types, size_t table_len, uint32_t queues = 256)
{
	RssConfig c;
	c.key = rng.array<VSTEER_KEY_SIZE>();
	c.hash_types = types;
	c.table = random_table(rng, table_len, queues);
	c.unclassified_queue = static_cast<uint16_t>(rng.below(queues));
	return c;
}

// Fixed corner configurations, then every table size 1..128 with random types and keys.
std::vector<NamedConfig> test_configs(Rng &rng)
{
	std::vector<NamedConfig> out;
	auto add = [&](std::string name, RssConfig c) {
		c.validate(0);
		out.push_back({std::move(name), std::move(c)});
	};
	RssConfig def = make_config(rng, VSTEER_HASH_DEFAULT, 128, 4);
	def.table = equal_table(4);
	def.unclassified_queue = 0;
	add("default types, equal table over 4 queues", def);
	add("all nine types, 128 entries", make_config(rng, VSTEER_HASH_ALL, 128));
	add("_EX types only",
	    make_config(rng, VSTEER_HASH_IP_EX | VSTEER_HASH_TCP_EX | VSTEER_HASH_UDP_EX, 16));
	add("TCP_EX alone", make_config(rng, VSTEER_HASH_TCP_EX, 32));
	add("UDP_EX + IPv6", make_config(rng, VSTEER_HASH_UDP_EX | VSTEER_HASH_IPV6, 8));
	add("IP_EX + TCPv6 + UDPv4",
	    make_config(rng, VSTEER_HASH_IP_EX | VSTEER_HASH_TCPV6 | VSTEER_HASH_UDPV4, 64));
	add("IPv4 alone", make_config(rng, VSTEER_HASH_IPV4, 4));
	add("no types: everything unclassified", make_config(rng, 0, 2));
	RssConfig report_only = make_config(rng, VSTEER_HASH_ALL, 128);
	report_only.redirect = false;
	add("redirect=0 (hash report only)", report_only);
	RssConfig zero_key = make_config(rng, VSTEER_HASH_ALL, 128);
	zero_key.key.fill(0); // every hash is 0, which is still a hash
	add("all-zero key", zero_key);
	for (size_t len = 1; len <= VSTEER_MAX_TABLE_LEN; len *= 2)
		add("table of " + std::to_string(len) + ", random types",
		    make_config(rng, rng.below(VSTEER_HASH_ALL + 1), len));
	return out;
}

std::string hex(std::span<const uint8_t> b)
{
	static const char digits[] = "0123456789abcdef";
	std::string s;
	for (uint8_t x : b) {
		s += digits[x >> 4];
		s += digits[x & 15];
	}
	return s;
}

std::string show(const ProgOutput &o)
{
	return "queue " + std::to_string(o.queue) + " hash 0x" +
	       [&] {
		       char buf[16];
		       std::snprintf(buf, sizeof(buf), "%08x", o.hash);
		       return std::string(buf);
	       }() +
	       " report " + std::to_string(o.report);
}

ProgOutput expected_output(const RssConfig &c, std::span<const uint8_t> frame)
{
	RssResult r = compute_rss(c, frame);
	return {r.queue, r.hash, r.report};
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

// Frames whose hash depends on every key byte (IPv6 TCP: 36 input bytes use key bits
// 0..319) and on few of them (IPv4: 8 or 12 bytes).
std::vector<Bytes> probe_frames()
{
	return {
	    FrameBuilder().ipv6("2001:db8::1", "2001:db8::2").tcp(49152, 443).build(),
	    FrameBuilder()
		.ipv6("fd00::17", "fd00::42")
		.ext(dest_home_address(ipv6_addr("2001:db8:ffff::9")))
		.udp(5000, 53)
		.build(),
	    FrameBuilder().ipv4("192.0.2.1", "198.51.100.7").tcp(1234, 80).build(),
	    FrameBuilder().qinq(10, 20).ipv4("10.0.0.1", "10.0.0.2").udp(4789, 4789).build(),
	};
}

} // namespace

TEST_CASE("a key written through the mmapped key map is used by the very next packet")
{
	if (!require_privileges("BPF_PROG_TEST_RUN of the steering program"))
		return;
	SteeringHarness &h = harness();
	Rng rng(test_seed() ^ 0x6b6579);
	RssConfig c = make_config(rng, VSTEER_HASH_ALL, 128);
	h.write(c);
	const auto frames = probe_frames();

	SUBCASE("random keys, one packet each")
	{
		for (int round = 0; round < 400; round++) {
			c.key = rng.array<VSTEER_KEY_SIZE>();
			h.write_key(c.key);
			const Bytes &f = frames[static_cast<size_t>(round) % frames.size()];
			REQUIRE(h.run(f) == expected_output(c, f));
		}
	}
	SUBCASE("keys that differ from the previous one in a single byte, at every position")
	{
		// Only a full comparison of all 40 bytes catches a change in the last one.
		for (size_t pos = 0; pos < VSTEER_KEY_SIZE; pos++) {
			for (uint8_t bit = 1; bit; bit = static_cast<uint8_t>(bit << 1)) {
				c.key[pos] ^= bit;
				h.write_key(c.key);
				INFO("key byte " << pos << " bit value " << int(bit));
				REQUIRE(h.run(frames[0]) == expected_output(c, frames[0]));
			}
		}
	}
	SUBCASE("switching back to an earlier key")
	{
		RssKey a = c.key, b = rng.array<VSTEER_KEY_SIZE>();
		for (int round = 0; round < 50; round++) {
			c.key = round % 2 ? b : a;
			h.write_key(c.key);
			for (const Bytes &f : frames)
				REQUIRE(h.run(f) == expected_output(c, f));
		}
	}
}

TEST_CASE("config and indirection table writes are used by the very next packet")
{
	if (!require_privileges("BPF_PROG_TEST_RUN of the steering program"))
		return;
	SteeringHarness &h = harness();
	Rng rng(test_seed() ^ 0x636667);
	RssConfig c = make_config(rng, VSTEER_HASH_ALL, 128);
	h.write(c);
	const auto frames = probe_frames();

	SUBCASE("hash types")
	{
		for (int round = 0; round < 300; round++) {
			c.hash_types = rng.below(VSTEER_HASH_ALL + 1);
			h.write_map_config(to_map_config(c));
			for (const Bytes &f : frames)
				REQUIRE(h.run(f) == expected_output(c, f));
		}
	}
	SUBCASE("the table entry the hash selects")
	{
		const Bytes &f = frames[2];
		const RssResult r = compute_rss(c, f);
		REQUIRE(r.report == VSTEER_REPORT_TCPV4);
		const size_t index = r.hash & (c.table.size() - 1);
		for (uint16_t q = 0; q < VSTEER_MAX_QUEUES; q++) {
			h.write_table_entry(index, q);
			REQUIRE(h.run(f).queue == q);
		}
	}
	SUBCASE("table length, redirect and unclassified queue")
	{
		for (int round = 0; round < 300; round++) {
			size_t len = size_t{1} << rng.below(8);
			c.table = random_table(rng, len, VSTEER_MAX_QUEUES);
			c.redirect = rng.percent(80);
			c.unclassified_queue = static_cast<uint16_t>(rng.below(VSTEER_MAX_QUEUES));
			h.write(c);
			for (const Bytes &f : frames)
				REQUIRE(h.run(f) == expected_output(c, f));
		}
	}
}

TEST_CASE("a key rewritten while the program rebuilds its table never leaves a stale table behind")
{
	if (!require_privileges("BPF_PROG_TEST_RUN of the steering program"))
		return;
	if (std::thread::hardware_concurrency() < 2) {
		MESSAGE("SKIPPED: needs two CPUs to race a key writer against the program");
		return;
	}
	SteeringHarness &h = harness();
	Rng rng(test_seed() ^ 0x72616365);
	RssConfig c = make_config(rng, VSTEER_HASH_ALL, 128);
	h.write(c);
	const Bytes frame = probe_frames()[0]; // IPv6 TCP: the hash uses all 40 key bytes
	const RssKey keys[2] = {rng.array<VSTEER_KEY_SIZE>(), rng.array<VSTEER_KEY_SIZE>()};
	size_t stale = 0;
	constexpr int kTrials = 100;
	size_t overlapped = 0;
	for (int trial = 0; trial < kTrials; trial++) {
		std::atomic<bool> stop{false};
		std::atomic<int> last{-1};
		std::atomic<size_t> writes{0};
		// QEMU writes the key through mmap at any moment, here while packets run.
		std::thread writer([&] {
			for (int i = 0; !stop.load(std::memory_order_relaxed); i ^= 1) {
				h.write_key(keys[i]);
				last.store(i, std::memory_order_release);
				writes.fetch_add(1, std::memory_order_release);
			}
		});
		while (writes.load(std::memory_order_acquire) == 0)
			std::this_thread::yield();
		// Packets (nearly each one rebuilding the table) until the writer has visibly
		// written during them.
		const size_t before = writes.load(std::memory_order_acquire);
		for (int n = 0; n < 5000; n++) {
			h.run(frame);
			if (n >= 20 && writes.load(std::memory_order_acquire) > before + 100)
				break;
		}
		overlapped += writes.load(std::memory_order_acquire) > before + 100;
		stop = true;
		writer.join();
		// The writer is done: the next packet must hash with the key that is in the map.
		c.key = keys[last.load(std::memory_order_acquire)];
		stale += !(h.run(frame) == expected_output(c, frame));
	}
	MESSAGE("key race: " << overlapped << " of " << kTrials << " trials ran packets during key writes, "
	                     << stale << " left a stale table");
	CHECK(overlapped > kTrials * 9 / 10);
	INFO(stale << " of " << kTrials << " trials hashed with a table built from an older key");
	CHECK(stale == 0);
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
	    make_config(rng, VSTEER_HASH_ALL, 128), make_config(rng, VSTEER_HASH_DEFAULT, 64),
	    make_config(rng, VSTEER_HASH_IP_EX | VSTEER_HASH_UDP_EX | VSTEER_HASH_TCPV6, 8)};
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
	RssConfig c = make_config(rng, VSTEER_HASH_ALL & ~VSTEER_HASH_IP_EX, 32);
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

// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
// Live updates of the steering program's QEMU-layout maps through mmap: a key, hash types,
// table entries, table length, redirect or unclassified queue written at any moment (even
// while packets run on another CPU) is what the very next packet uses.
#include "privileges.hpp"
#include "prog_run_support.hpp"

#include <doctest/doctest.h>

#include <atomic>
#include <thread>

using namespace vsteer;
using namespace vsteer::test;

TEST_CASE("a key written through the mmapped key map is used by the very next packet")
{
	if (!require_privileges("BPF_PROG_TEST_RUN of the steering program"))
		return;
	SteeringHarness &h = harness();
	Rng rng(test_seed() ^ 0x6b6579);
	RssConfig c = random_config(rng, VSTEER_HASH_ALL, 128);
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
	RssConfig c = random_config(rng, VSTEER_HASH_ALL, 128);
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
	RssConfig c = random_config(rng, VSTEER_HASH_ALL, 128);
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

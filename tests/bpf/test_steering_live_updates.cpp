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

namespace
{

// The start of every case here: the program's maps hold a random policy `c` with every hash
// type and a 128-entry table; `rng` (seeded from the run's seed and the case's `salt`)
// continues from there.
struct LivePolicy {
	explicit LivePolicy(uint64_t salt)
	    : h(harness()), rng(test_seed() ^ salt), c(random_config(rng, VSTEER_HASH_ALL, 128)),
	      frames(probe_frames())
	{
		h.write(c);
	}
	// Every probe frame comes out as the reference predicts for `c`.
	void require_expected() const
	{
		for (const Bytes &f : frames)
			REQUIRE(h.run(f) == expected_output(c, f));
	}

	SteeringHarness &h;
	Rng rng;
	RssConfig c;
	const std::vector<Bytes> frames;
};

constexpr const char *kWhat = "BPF_PROG_TEST_RUN of the steering program";

} // namespace

TEST_CASE("a key written through the mmapped key map is used by the very next packet")
{
	if (!require_privileges(kWhat))
		return;
	LivePolicy p(0x6b6579);

	SUBCASE("random keys, one packet each")
	{
		for (int round = 0; round < 400; round++) {
			p.c.key = p.rng.array<VSTEER_KEY_SIZE>();
			p.h.write_key(p.c.key);
			const Bytes &f = p.frames[static_cast<size_t>(round) % p.frames.size()];
			REQUIRE(p.h.run(f) == expected_output(p.c, f));
		}
	}
	SUBCASE("keys that differ from the previous one in a single byte, at every position")
	{
		// Only a full comparison of all 40 bytes catches a change in the last one.
		for (size_t pos = 0; pos < VSTEER_KEY_SIZE; pos++) {
			for (uint8_t bit = 1; bit; bit = static_cast<uint8_t>(bit << 1)) {
				p.c.key[pos] ^= bit;
				p.h.write_key(p.c.key);
				INFO("key byte " << pos << " bit value " << int(bit));
				REQUIRE(p.h.run(p.frames[0]) == expected_output(p.c, p.frames[0]));
			}
		}
	}
	SUBCASE("switching back to an earlier key")
	{
		RssKey a = p.c.key, b = p.rng.array<VSTEER_KEY_SIZE>();
		for (int round = 0; round < 50; round++) {
			p.c.key = round % 2 ? b : a;
			p.h.write_key(p.c.key);
			p.require_expected();
		}
	}
}

TEST_CASE("config and indirection table writes are used by the very next packet")
{
	if (!require_privileges(kWhat))
		return;
	LivePolicy p(0x636667);

	SUBCASE("hash types")
	{
		for (int round = 0; round < 300; round++) {
			p.c.hash_types = p.rng.below(VSTEER_HASH_ALL + 1);
			p.h.write_map_config(to_map_config(p.c));
			p.require_expected();
		}
	}
	SUBCASE("the table entry the hash selects")
	{
		const Bytes &f = p.frames[2];
		const RssResult r = compute_rss(p.c, f);
		REQUIRE(r.report == VSTEER_REPORT_TCPV4);
		const size_t index = r.hash & (p.c.table.size() - 1);
		for (uint16_t q = 0; q < VSTEER_MAX_QUEUES; q++) {
			p.h.write_table_entry(index, q);
			REQUIRE(p.h.run(f).queue == q);
		}
	}
	SUBCASE("table length, redirect and unclassified queue")
	{
		for (int round = 0; round < 300; round++) {
			size_t len = size_t{1} << p.rng.below(8);
			p.c.table = random_table(p.rng, len, VSTEER_MAX_QUEUES);
			p.c.redirect = p.rng.percent(80);
			p.c.unclassified_queue = static_cast<uint16_t>(p.rng.below(VSTEER_MAX_QUEUES));
			p.h.write(p.c);
			p.require_expected();
		}
	}
}

TEST_CASE("a key rewritten while the program rebuilds its table never leaves a stale table behind")
{
	if (!require_privileges(kWhat))
		return;
	if (std::thread::hardware_concurrency() < 2) {
		MESSAGE("SKIPPED: needs two CPUs to race a key writer against the program");
		return;
	}
	LivePolicy p(0x72616365);
	const Bytes frame = p.frames[0]; // IPv6 TCP: the hash uses all 40 key bytes
	const RssKey keys[2] = {p.rng.array<VSTEER_KEY_SIZE>(), p.rng.array<VSTEER_KEY_SIZE>()};
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
				p.h.write_key(keys[i]);
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
			p.h.run(frame);
			if (n >= 20 && writes.load(std::memory_order_acquire) > before + 100)
				break;
		}
		overlapped += writes.load(std::memory_order_acquire) > before + 100;
		stop = true;
		writer.join();
		// The writer is done: the next packet must hash with the key that is in the map.
		p.c.key = keys[last.load(std::memory_order_acquire)];
		stale += !(p.h.run(frame) == expected_output(p.c, frame));
	}
	MESSAGE("key race: " << overlapped << " of " << kTrials << " trials ran packets during key writes, "
	                     << stale << " left a stale table");
	CHECK(overlapped > kTrials * 9 / 10);
	INFO(stale << " of " << kTrials << " trials hashed with a table built from an older key");
	CHECK(stale == 0);
}

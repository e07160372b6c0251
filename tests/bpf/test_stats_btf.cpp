// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
// The per-CPU `stats` map carries BTF: `bpftool map dump pinned ... -j` must print it with
// its field names (packets, bytes, by_report.tcpv4, by_queue[...]), and the counts summed
// over CPUs must match the packets the test sent.
#include "frame_generator.hpp"
#include "privileges.hpp"
#include "run_command.hpp"
#include "json.hpp"
#include "rss_reference.hpp"
#include "steering_harness.hpp"
#include "steering_objects.hpp"

#include <doctest/doctest.h>

#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <system_error>
#include <vector>
#include <string>

using namespace vsteer;
using namespace vsteer::test;
using vsteer::Json;

namespace
{

constexpr const char *kBpftool = "/usr/sbin/bpftool";

// A fresh directory under bpffs, removed with whatever is pinned in it.
class TempPinDir
{
public:
	TempPinDir()
	{
		ensure_bpffs();
		char tmpl[] = "/sys/fs/bpf/vsteer-test-XXXXXX";
		if (!mkdtemp(tmpl))
			throw std::system_error(errno, std::generic_category(), "mkdtemp under /sys/fs/bpf");
		path_ = tmpl;
	}
	~TempPinDir()
	{
		for (const auto &p : pins_)
			unlink(p.c_str());
		rmdir(path_.c_str());
	}
	std::string pin(bpf_map *map, const char *name)
	{
		std::string p = path_ + "/" + name;
		if (bpf_map__pin(map, p.c_str()))
			throw std::system_error(errno, std::generic_category(), "pin " + p);
		pins_.push_back(p);
		return p;
	}

private:
	std::string path_;
	std::vector<std::string> pins_;
};

const Json &field(const Json &obj, const char *name)
{
	const Json *f = vsteer::json_member(obj, name);
	REQUIRE_MESSAGE(f, "bpftool output has no field '" << name << "' in " << obj.dump().substr(0, 300));
	return *f;
}

// Counters expected from the reference for the frames sent.
struct ExpectedStats {
	uint64_t packets = 0, bytes = 0, not_redirected = 0;
	std::array<uint64_t, VSTEER_REPORT_COUNT> by_report{};
	std::array<uint64_t, VSTEER_MAX_QUEUES> by_queue{};

	void add(const RssConfig &c, std::span<const uint8_t> frame)
	{
		RssResult r = compute_rss(c, frame);
		packets++;
		// BPF_PROG_TEST_RUN pulls the Ethernet header before a socket filter runs, so
		// skb->len lacks its 14 bytes (on the tun xmit path it is the whole frame).
		bytes += frame.size() - kEthHeaderLen;
		not_redirected += r.report == VSTEER_REPORT_NONE || !c.redirect;
		by_report[r.report]++;
		by_queue[r.queue]++;
	}
};

} // namespace

TEST_CASE("bpftool dumps the pinned stats map with typed field names and the right counts")
{
	if (!require_privileges("pinning and dumping the stats map"))
		return;
	SteeringHarness h; // fresh counters
	TempPinDir dir;
	const std::string pinned = dir.pin(h.skel()->maps.stats, VSTEER_PIN_STATS);

	ExpectedStats want;
	FrameGenerator gen(0x57a75);
	RssConfig c;
	c.key = gen.rng().array<VSTEER_KEY_SIZE>();
	c.hash_types = VSTEER_HASH_ALL;
	c.table = equal_table(8);
	c.unclassified_queue = 9;
	for (int phase = 0; phase < 2; phase++) {
		c.redirect = phase == 0; // the second phase is hash-report-only
		h.write(c);
		for (int sent = 0; sent < 400;) {
			GeneratedFrame g = gen.next();
			if (!SteeringHarness::test_run_accepts(g.bytes))
				continue;
			h.run(g.bytes);
			want.add(c, g.bytes);
			sent++;
		}
	}

	const std::string out =
	    vsteer::test::run_command_ok(std::string(kBpftool) + " map dump pinned " + pinned + " -j");
	const Json dump = vsteer::parse_json(out);
	REQUIRE(dump.size() == 1);
	const Json &per_cpu = field(field(dump[0], "formatted"), "values");
	REQUIRE(per_cpu.size() == possible_cpus());

	uint64_t packets = 0, bytes = 0, rebuilds = 0, not_redirected = 0;
	std::array<uint64_t, VSTEER_REPORT_COUNT> by_report{};
	std::array<uint64_t, VSTEER_MAX_QUEUES> by_queue{};
	for (const Json &cpu : per_cpu) {
		const Json &v = field(cpu, "value");
		packets += static_cast<uint64_t>(field(v, "packets").get<uint64_t>());
		bytes += static_cast<uint64_t>(field(v, "bytes").get<uint64_t>());
		rebuilds += static_cast<uint64_t>(field(v, "table_rebuilds").get<uint64_t>());
		not_redirected += static_cast<uint64_t>(field(v, "not_redirected").get<uint64_t>());
		const Json &reports = field(v, "by_report");
		for (uint8_t r = 0; r < VSTEER_REPORT_COUNT; r++)
			by_report[r] += static_cast<uint64_t>(field(reports, report_name(r)).get<uint64_t>());
		const auto &queues = field(v, "by_queue");
		REQUIRE(queues.size() == VSTEER_MAX_QUEUES);
		for (size_t q = 0; q < queues.size(); q++)
			by_queue[q] += static_cast<uint64_t>(queues[q].get<uint64_t>());
	}

	CHECK(packets == want.packets);
	CHECK(bytes == want.bytes);
	CHECK(not_redirected == want.not_redirected);
	CHECK(rebuilds >= 1); // the key changed from all-zero once; at most once per CPU
	CHECK(rebuilds <= possible_cpus());
	for (uint8_t r = 0; r < VSTEER_REPORT_COUNT; r++) {
		INFO("by_report." << report_name(r));
		CHECK(by_report[r] == want.by_report[r]);
	}
	CHECK(by_queue == want.by_queue);
	MESSAGE("stats over " << per_cpu.size() << " CPUs: " << packets << " packets, tcpv4 "
	                      << by_report[VSTEER_REPORT_TCPV4] << ", unclassified queue " << by_queue[9]);
}

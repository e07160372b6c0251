// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
// The flows `make hash-e2e` sends (tests/qemu/hash_flows.hpp) cover what the test claims:
// the six base hash types and unclassified traffic, with the guest's default types, each
// frame long enough for the wire and tagged at its very end for the L2 guest's filter.
#include "../qemu/hash_flows.hpp"
#include "rss_reference.hpp"

#include <doctest/doctest.h>

#include <map>

using namespace vsteer;
using namespace vsteer::test;

TEST_CASE("hash-e2e flows: every base hash type and unclassified, tagged at the end")
{
	RssConfig cfg;
	cfg.key = RssKey{};
	for (size_t i = 0; i < cfg.key.size(); i++)
		cfg.key[i] = static_cast<uint8_t>(i * 37 + 11);
	cfg.table = {0, 1, 2, 3};
	// what a Linux guest enables by default: the device's types minus the _EX ones
	cfg.hash_types = VSTEER_HASH_IPV4 | VSTEER_HASH_TCPV4 | VSTEER_HASH_UDPV4 | VSTEER_HASH_IPV6 |
	                 VSTEER_HASH_TCPV6 | VSTEER_HASH_UDPV6;
	const uint8_t want[kHashKinds] = {VSTEER_REPORT_TCPV4, VSTEER_REPORT_UDPV4, VSTEER_REPORT_IPV4,
	                                  VSTEER_REPORT_TCPV6, VSTEER_REPORT_UDPV6, VSTEER_REPORT_IPV6,
	                                  VSTEER_REPORT_NONE};
	const uint32_t n = 210, round = 3;
	auto flows = make_hash_flows(round, n, 42);
	REQUIRE(flows.size() == n);
	std::map<uint8_t, unsigned> per_report;
	for (uint32_t i = 0; i < n; i++) {
		const Bytes &f = flows[i];
		CAPTURE(i);
		CHECK(f.size() >= 60);
		Bytes tag = hash_tag(i, round);
		REQUIRE(f.size() > tag.size());
		CHECK(Bytes(f.end() - static_cast<long>(tag.size()), f.end()) == tag);
		RssResult r = compute_rss(cfg, f);
		CHECK(r.report == want[i % kHashKinds]);
		per_report[r.report]++;
	}
	CHECK(per_report.size() == kHashKinds);
	for (auto [report, count] : per_report)
		CHECK(count >= n / kHashKinds);
	// the same seed gives the same frames: L1 sends what the host verifies
	CHECK(make_hash_flows(round, n, 42) == flows);
	Bytes end = end_of_round_frame(round);
	CHECK(Bytes(end.end() - 12, end.end()) == hash_tag(kEndOfRound, round));
}

// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
// The Microsoft RSS verification vectors through the steering program (BPF_PROG_TEST_RUN):
// the published hashes themselves, not the C++ reference, are what cb[0] must hold.
#include "ms_rss_vectors.hpp"
#include "privileges.hpp"
#include "prog_run_support.hpp"

#include <doctest/doctest.h>

#include <fstream>

using namespace vsteer;
using namespace vsteer::test;

TEST_CASE("Microsoft RSS vectors: the steering program (TCP frames hash L4, UDP without UDP types L3)")
{
	if (!require_privileges("BPF_PROG_TEST_RUN of the steering program"))
		return;
	std::ifstream in(VSTEER_TEST_DATA_DIR "/ms-rss-vectors.tsv");
	REQUIRE_MESSAGE(in.good(), "missing " VSTEER_TEST_DATA_DIR "/ms-rss-vectors.tsv");
	const MsRssVectors vectors = read_ms_rss_vectors(in);
	REQUIRE(vectors.flows.size() == 8);
	RssConfig c;
	c.key = parse_key(vectors.key_hex);
	c.hash_types = VSTEER_HASH_IPV4 | VSTEER_HASH_TCPV4 | VSTEER_HASH_IPV6 | VSTEER_HASH_TCPV6;
	c.table = equal_table(4);
	SteeringHarness &h = harness();
	h.write(c);
	for (const auto &v : vectors.flows) {
		INFO(v.src << " -> " << v.dst);
		const ProgOutput tcp = h.run(ms_rss_frame(v).tcp(v.sport, v.dport).build());
		CHECK(tcp.hash == v.l4);
		CHECK(tcp.report == (v.v6 ? VSTEER_REPORT_TCPV6 : VSTEER_REPORT_TCPV4));
		CHECK(tcp.queue == c.table[v.l4 & (c.table.size() - 1)]);
		const ProgOutput udp = h.run(ms_rss_frame(v).udp(v.sport, v.dport).build());
		CHECK(udp.hash == v.l3);
		CHECK(udp.report == (v.v6 ? VSTEER_REPORT_IPV6 : VSTEER_REPORT_IPV4));
		CHECK(udp.queue == c.table[v.l3 & (c.table.size() - 1)]);
	}
}

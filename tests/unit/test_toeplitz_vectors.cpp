// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
// The Microsoft RSS verification vectors, through the reference Toeplitz and the reference's
// full frame pipeline (parse -> choose -> hash). tests/bpf/test_ms_rss_vectors.cpp runs the
// same frames through the steering program.
#include "ms_rss_vectors.hpp"
#include "rss_reference.hpp"

#include <arpa/inet.h>
#include <doctest/doctest.h>

#include <fstream>
#include <string>
#include <vector>

using namespace vsteer;
using namespace vsteer::test;

namespace
{

// The address bytes of `text`, 4 (IPv4) or 16 (IPv6) of them.
std::vector<uint8_t> addr(bool v6, const std::string &text)
{
	std::vector<uint8_t> a(v6 ? 16 : 4);
	REQUIRE(inet_pton(v6 ? AF_INET6 : AF_INET, text.c_str(), a.data()) == 1);
	return a;
}

MsRssVectors load_vectors()
{
	std::ifstream in(VSTEER_TEST_DATA_DIR "/ms-rss-vectors.tsv");
	REQUIRE_MESSAGE(in.good(), "missing " VSTEER_TEST_DATA_DIR "/ms-rss-vectors.tsv");
	MsRssVectors v = read_ms_rss_vectors(in);
	REQUIRE(v.flows.size() == 8); // 8 flows x (L3, L4) = the 16 published values
	return v;
}

} // namespace

TEST_CASE("Microsoft RSS vectors: reference Toeplitz")
{
	const MsRssVectors vectors = load_vectors();
	const RssKey key = parse_key(vectors.key_hex);
	for (const auto &v : vectors.flows) {
		std::vector<uint8_t> in = addr(v.v6, v.src);
		const std::vector<uint8_t> dst = addr(v.v6, v.dst);
		in.insert(in.end(), dst.begin(), dst.end());
		CHECK(toeplitz_hash(key, in) == v.l3);
		in.push_back(static_cast<uint8_t>(v.sport >> 8));
		in.push_back(static_cast<uint8_t>(v.sport));
		in.push_back(static_cast<uint8_t>(v.dport >> 8));
		in.push_back(static_cast<uint8_t>(v.dport));
		CHECK(toeplitz_hash(key, in) == v.l4);
	}
}

TEST_CASE("Microsoft RSS vectors: reference frame pipeline (TCP frames hash L4, UDP without UDP types L3)")
{
	const MsRssVectors vectors = load_vectors();
	RssConfig c;
	c.key = parse_key(vectors.key_hex);
	c.hash_types = VSTEER_HASH_IPV4 | VSTEER_HASH_TCPV4 | VSTEER_HASH_IPV6 | VSTEER_HASH_TCPV6;
	for (const auto &v : vectors.flows) {
		INFO(v.src << " -> " << v.dst);
		const RssResult tcp = compute_rss(c, ms_rss_frame(v).tcp(v.sport, v.dport).build());
		CHECK(tcp.hash == v.l4);
		CHECK(tcp.report == (v.v6 ? VSTEER_REPORT_TCPV6 : VSTEER_REPORT_TCPV4));
		const RssResult udp = compute_rss(c, ms_rss_frame(v).udp(v.sport, v.dport).build());
		CHECK(udp.hash == v.l3);
		CHECK(udp.report == (v.v6 ? VSTEER_REPORT_IPV6 : VSTEER_REPORT_IPV4));
	}
}

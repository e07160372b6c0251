// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
// The published RSS verification vectors (tests/data/ms-rss-vectors.tsv, tests/data/README.md):
// a "# key HEX" line, then one flow a line, "FAMILY SRC SPORT DST DPORT L3_HASH L4_HASH".
// Read by the unit, BPF and VM guest suites.
#pragma once

#include "frame_builder.hpp"

#include <cstdint>
#include <istream>
#include <sstream>
#include <string>
#include <vector>

namespace vsteer::test
{

struct MsRssVector {
	bool v6 = false;
	std::string src, dst; // addresses as text
	uint16_t sport = 0, dport = 0;
	uint32_t l3 = 0; // hash of the addresses
	uint32_t l4 = 0; // hash of the addresses and ports
};

struct MsRssVectors {
	std::string key_hex;
	std::vector<MsRssVector> flows;
};

inline MsRssVectors read_ms_rss_vectors(std::istream &in)
{
	MsRssVectors out;
	std::string line;
	while (std::getline(in, line)) {
		if (line.rfind("# key ", 0) == 0)
			out.key_hex = line.substr(6);
		if (line.empty() || line[0] == '#')
			continue;
		std::istringstream f(line);
		std::string fam, l3, l4;
		MsRssVector v;
		f >> fam >> v.src >> v.sport >> v.dst >> v.dport >> l3 >> l4;
		v.v6 = fam == "ipv6";
		v.l3 = static_cast<uint32_t>(std::stoul(l3, nullptr, 16));
		v.l4 = static_cast<uint32_t>(std::stoul(l4, nullptr, 16));
		out.flows.push_back(v);
	}
	return out;
}

// An IP frame of the vector's addresses; add .tcp() or .udp() with its ports.
inline FrameBuilder ms_rss_frame(const MsRssVector &v)
{
	FrameBuilder b;
	if (v.v6)
		b.ipv6(v.src.c_str(), v.dst.c_str());
	else
		b.ipv4(v.src.c_str(), v.dst.c_str());
	return b;
}

} // namespace vsteer::test

// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include "flow_text.hpp"
#include "text.hpp"

#include <arpa/inet.h>

#include <cctype>
#include <string>

namespace vsteer
{

std::vector<uint8_t> parse_packet_hex(std::string_view hex)
{
	auto nibble = [](char c) {
		return static_cast<uint8_t>(std::isdigit(static_cast<unsigned char>(c))
		                                ? c - '0'
		                                : std::tolower(static_cast<unsigned char>(c)) - 'a' + 10);
	};
	std::vector<uint8_t> out;
	bool half = false;
	for (char c : hex) {
		if (c == ':' || c == ' ' || c == '-')
			continue;
		if (!std::isxdigit(static_cast<unsigned char>(c)))
			throw ConfigError(std::string("--packet: '") + c + "' is not a hex digit");
		if (half)
			out.back() = static_cast<uint8_t>(out.back() << 4 | nibble(c));
		else
			out.push_back(nibble(c));
		half = !half;
	}
	if (half)
		throw ConfigError("--packet: odd number of hex digits");
	return out;
}

ParsedFlow parse_tuple(std::string_view tuple)
{
	auto f = text::split(tuple, ',');
	if (f.size() != 2 && f.size() != 4)
		throw ConfigError("--tuple wants SRC,DST[,SPORT,DPORT], got '" + std::string(tuple) + "'");
	ParsedFlow flow;
	const std::string src(f[0]), dst(f[1]);
	int family = src.find(':') != std::string::npos ? AF_INET6 : AF_INET;
	flow.l3 = family == AF_INET ? 4 : 6;
	if (inet_pton(family, src.c_str(), flow.src.data()) != 1 ||
	    inet_pton(family, dst.c_str(), flow.dst.data()) != 1)
		throw ConfigError("--tuple: '" + src + "' or '" + dst +
		                  "' is not an address of the same family");
	if (f.size() == 4) {
		auto sport = text::parse_decimal(f[2], 65535), dport = text::parse_decimal(f[3], 65535);
		if (!sport || !dport)
			throw ConfigError("--tuple: port '" + std::string(sport ? f[3] : f[2]) +
			                  "' is not a number from 0 to 65535");
		flow.l4 = 6;
		flow.sport = static_cast<uint16_t>(*sport);
		flow.dport = static_cast<uint16_t>(*dport);
	}
	return flow;
}

} // namespace vsteer

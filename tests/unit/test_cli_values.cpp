// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
// The values a user types for `vsteer hash` (--packet, --tuple) and the one decimal parser of
// the CLI: garbage after a number is refused, messages name the option and the value.
#include "flow_text.hpp"
#include "text.hpp"

#include <doctest/doctest.h>

#include <arpa/inet.h>

using namespace vsteer;

TEST_CASE("decimal values: digits only, within the maximum")
{
	CHECK(text::parse_decimal("80", 65535) == 80u);
	CHECK(text::parse_decimal("65535", 65535) == 65535u);
	for (const char *bad : {"", "80abc", "65536", "-1", "+1", " 1", "0x10", "99999999999999999999"})
		CHECK_MESSAGE(!text::parse_decimal(bad, 65535), bad);
	CHECK(text::parse_decimal("18446744073709551615", UINT64_MAX) == UINT64_MAX);
}

TEST_CASE("--tuple: addresses of one family, ports 0..65535 with nothing after them")
{
	ParsedFlow f = parse_tuple("10.0.0.1,10.0.0.2,1234,80");
	CHECK(f.l3 == 4);
	CHECK(f.l4 == 6);
	CHECK(f.sport == 1234);
	CHECK(f.dport == 80);
	CHECK(f.src[3] == 1);
	ParsedFlow l3 = parse_tuple("fd00::1,fd00::2");
	CHECK(l3.l3 == 6);
	CHECK(l3.l4 == 0);
	CHECK_THROWS_WITH_AS(parse_tuple("10.0.0.1,10.0.0.2,80abc,80"), doctest::Contains("'80abc'"),
	                     ConfigError);
	CHECK_THROWS_WITH_AS(parse_tuple("10.0.0.1,10.0.0.2,80,99999999999999999999"),
	                     doctest::Contains("99999999999999999999"), ConfigError);
	CHECK_THROWS_WITH_AS(parse_tuple("10.0.0.1,10.0.0.2,80,65536"), doctest::Contains("--tuple"),
	                     ConfigError);
	CHECK_THROWS_AS(parse_tuple("10.0.0.1,fd00::1"), ConfigError);
	CHECK_THROWS_AS(parse_tuple("10.0.0.1,10.0.0.2,80"), ConfigError);
}

TEST_CASE("--packet: hex bytes with optional separators")
{
	CHECK(parse_packet_hex("00:1a-FF 0b") == std::vector<uint8_t>{0x00, 0x1a, 0xff, 0x0b});
	CHECK(parse_packet_hex("").empty());
	CHECK_THROWS_WITH_AS(parse_packet_hex("0g"), doctest::Contains("'g'"), ConfigError);
	CHECK_THROWS_WITH_AS(parse_packet_hex("abc"), doctest::Contains("odd"), ConfigError);
}

// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
// The configuration model: validation with messages that name the problem, the text forms
// the CLI parses and prints, and the conversion to QEMU's map layout (rss_abi.h).
#include "rss_config.hpp"

#include <doctest/doctest.h>

#include <bit>
#include <cstring>
#include <functional>
#include <string>

using namespace vsteer;

namespace
{

const std::string kMsKeyHex =
    "6d5a56da255b0ec24167253d43a38fb0d0ca2bcbae7b30b477cb2da38030f20c6a42b73bbeac01fa";

// The ConfigError message of `fn`, or "" if it did not throw one.
std::string config_error(const std::function<void()> &fn)
{
	try {
		fn();
	} catch (const ConfigError &e) {
		return e.what();
	}
	return "";
}

bool contains(const std::string &text, const std::string &part)
{
	return text.find(part) != std::string::npos;
}

RssConfig valid_config(size_t table_len = 8)
{
	RssConfig c;
	c.key = parse_key(kMsKeyHex);
	c.table.assign(table_len, 0);
	for (size_t i = 0; i < table_len; i++)
		c.table[i] = static_cast<uint16_t>(i % 4);
	return c;
}

} // namespace

TEST_CASE("parse_key accepts 40 bytes of hex in the usual spellings")
{
	const RssKey key = parse_key(kMsKeyHex);
	CHECK(key[0] == 0x6d);
	CHECK(key[1] == 0x5a);
	CHECK(key[39] == 0xfa);
	CHECK(format_key(key) == kMsKeyHex);

	std::string colons, upper;
	for (size_t i = 0; i < kMsKeyHex.size(); i += 2)
		colons += (i ? ":" : "") + kMsKeyHex.substr(i, 2);
	for (char ch : kMsKeyHex)
		upper += static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
	CHECK(parse_key(colons) == key);
	CHECK(parse_key(upper) == key);
	CHECK(parse_key("  " + kMsKeyHex + "\n") == key);
}

TEST_CASE("parse_key refuses wrong lengths and non-hex with a message naming the problem")
{
	const std::string short_key = kMsKeyHex.substr(0, 78); // 39 bytes
	const std::string long_key = kMsKeyHex + "00";         // 41 bytes
	CHECK(contains(config_error([&] { parse_key(short_key); }), "39 bytes"));
	CHECK(contains(config_error([&] { parse_key(short_key); }), "exactly 40 bytes"));
	CHECK(contains(config_error([&] { parse_key(long_key); }), "41 bytes"));
	CHECK(contains(config_error([] { parse_key(""); }), "0 bytes"));
	CHECK(contains(config_error([&] { parse_key(kMsKeyHex.substr(1)); }), "odd number of hex digits"));
	std::string bad = kMsKeyHex;
	bad[10] = 'g';
	CHECK(contains(config_error([&] { parse_key(bad); }), "'g' is not a hex digit"));
	CHECK(contains(config_error([] { parse_key("0x6d5a"); }), "'x' is not a hex digit"));
}

TEST_CASE("hash type names: parse, format, refuse unknown names")
{
	CHECK(parse_hash_types("ipv4") == VSTEER_HASH_IPV4);
	CHECK(parse_hash_types("ipv4,tcpv4,udpv4,ipv6,tcpv6,udpv6") == VSTEER_HASH_DEFAULT);
	CHECK(parse_hash_types("ip_ex,tcp_ex,udp_ex") ==
	      (VSTEER_HASH_IP_EX | VSTEER_HASH_TCP_EX | VSTEER_HASH_UDP_EX));
	CHECK(parse_hash_types("TCPv6, UDP_EX") == (VSTEER_HASH_TCPV6 | VSTEER_HASH_UDP_EX));
	CHECK(parse_hash_types("all") == VSTEER_HASH_ALL);
	CHECK(parse_hash_types("default") == VSTEER_HASH_DEFAULT);
	CHECK(parse_hash_types("none") == 0);
	CHECK(parse_hash_types("") == 0);
	CHECK(format_hash_types(0) == "none");
	CHECK(format_hash_types(VSTEER_HASH_DEFAULT) == "ipv4,tcpv4,udpv4,ipv6,tcpv6,udpv6");
	for (uint32_t types = 0; types <= VSTEER_HASH_ALL; types++)
		REQUIRE(parse_hash_types(format_hash_types(types)) == types);

	const std::string err = config_error([] { parse_hash_types("ipv4,tcpv7"); });
	CHECK(contains(err, "unknown hash type 'tcpv7'"));
	CHECK(contains(err, "tcp_ex")); // lists the known names
	CHECK(contains(config_error([] { parse_hash_types("ipv4;tcpv4"); }), "'ipv4;tcpv4'"));
}

TEST_CASE("indirection table text form")
{
	CHECK(parse_table("0,1,2,3") == std::vector<uint16_t>{0, 1, 2, 3});
	CHECK(parse_table(" 7 , 255 ") == std::vector<uint16_t>{7, 255});
	CHECK(contains(config_error([] { parse_table("0,,1"); }), "empty entry"));
	CHECK(contains(config_error([] { parse_table("0,x,1"); }), "'x' is not a queue number"));
	CHECK(contains(config_error([] { parse_table("0,-1"); }), "'-1' is not a queue number"));
	CHECK(contains(config_error([] { parse_table("256"); }), "queue 256 is above 255"));
}

TEST_CASE("validate: table sizes are powers of two from 1 to 128")
{
	for (size_t len = 1; len <= 128; len *= 2)
		CHECK_NOTHROW(valid_config(len).validate(4));
	for (size_t len : {0, 3, 6, 12, 100, 127, 129, 256}) {
		INFO("table length " << len);
		const std::string err = config_error([&] { valid_config(len).validate(4); });
		CHECK(contains(err, std::to_string(len) + " entries"));
		CHECK(contains(err, "power of two from 1 to 128"));
	}
}

TEST_CASE("validate: queues beyond the tap's queues are refused, naming the entry")
{
	RssConfig c = valid_config(8);
	c.table[5] = 4;
	std::string err = config_error([&] { c.validate(4); });
	CHECK(contains(err, "entry 5 is queue 4"));
	CHECK(contains(err, "only 4 queues (0..3)"));
	CHECK_NOTHROW(c.validate(5));
	CHECK_NOTHROW(c.validate(0)); // 0: queue count unknown, range not checked

	RssConfig u = valid_config(8);
	u.unclassified_queue = 9;
	err = config_error([&] { u.validate(4); });
	CHECK(contains(err, "unclassified queue 9"));
	CHECK(contains(err, "4 queues"));
	CHECK_NOTHROW(u.validate(10));
}

TEST_CASE("validate: unknown hash type bits are refused")
{
	RssConfig c = valid_config();
	c.hash_types = VSTEER_HASH_ALL;
	CHECK_NOTHROW(c.validate(4));
	c.hash_types = VSTEER_HASH_ALL + 1; // bit 9
	CHECK(contains(config_error([&] { c.validate(4); }), "unknown bits"));
}

TEST_CASE("equal_table and default_config")
{
	const auto t = equal_table(3);
	REQUIRE(t.size() == VSTEER_MAX_TABLE_LEN);
	for (size_t i = 0; i < t.size(); i++)
		CHECK(t[i] == i % 3);
	CHECK(equal_table(VSTEER_MAX_QUEUES)[127] == 127);
	CHECK(contains(config_error([] { equal_table(0); }), "got 0"));
	CHECK(contains(config_error([] { equal_table(VSTEER_MAX_QUEUES + 1); }), "got 257"));

	const RssConfig a = default_config(4), b = default_config(4);
	CHECK(a.hash_types == VSTEER_HASH_DEFAULT);
	CHECK(a.table == equal_table(4));
	CHECK(a.unclassified_queue == 0);
	CHECK(a.redirect);
	CHECK(a.key != b.key); // random keys
	CHECK_NOTHROW(a.validate(4));
}

TEST_CASE("QEMU map layout: config")
{
	RssConfig c = valid_config(64);
	c.hash_types = 0x1c5;
	c.unclassified_queue = 0x0203;
	c.redirect = false;
	const vsteer_rss_config m = to_map_config(c);
	CHECK(m.redirect == 0);
	CHECK(m.populate_hash == 1);
	CHECK(m.hash_types == 0x1c5u);
	CHECK(m.indirections_len == 64);
	CHECK(m.default_queue == 0x0203);

	// The bytes QEMU reads: packed, host-order fields at offsets 0, 1, 2, 6, 8.
	uint8_t raw[sizeof(m)];
	std::memcpy(raw, &m, sizeof(m));
	static_assert(std::endian::native == std::endian::little, "offsets below are little-endian");
	const uint8_t expected[10] = {0, 1, 0xc5, 0x01, 0, 0, 64, 0, 0x03, 0x02};
	CHECK(std::memcmp(raw, expected, sizeof(expected)) == 0);
	c.redirect = true;
	CHECK(to_map_config(c).redirect == 1);
}

TEST_CASE("QEMU map layout: the key's first word is stored in host order")
{
	const RssKey key = parse_key(kMsKeyHex);
	const vsteer_toeplitz_key k = to_map_key(key);
	CHECK(k.leftmost_32_bits == 0x6d5a56dau);
	uint8_t raw[sizeof(k)];
	std::memcpy(raw, &k, sizeof(k));
	const uint8_t first_word_le[4] = {0xda, 0x56, 0x5a, 0x6d};
	CHECK(std::memcmp(raw, first_word_le, 4) == 0);
	CHECK(std::memcmp(k.next_byte, key.data() + 4, VSTEER_KEY_NEXT_BYTES) == 0);
	CHECK(from_map_key(k) == key);

	// Round trip over keys that exercise every byte position.
	for (int i = 0; i < 40; i++) {
		RssKey r{};
		for (size_t j = 0; j < r.size(); j++)
			r[j] = static_cast<uint8_t>(j * 7 + static_cast<size_t>(i) * 13 + 1);
		REQUIRE(from_map_key(to_map_key(r)) == r);
	}
}

TEST_CASE("report names")
{
	const char *names[] = {"none",  "ipv4",  "tcpv4",   "udpv4",    "ipv6",
	                       "tcpv6", "udpv6", "ipv6_ex", "tcpv6_ex", "udpv6_ex"};
	for (uint8_t r = 0; r < VSTEER_REPORT_COUNT; r++)
		CHECK(std::string(report_name(r)) == names[r]);
	CHECK(std::string(report_name(VSTEER_REPORT_COUNT)) == "invalid");
}

// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include "rss_config.hpp"
#include "text.hpp"

#include <arpa/inet.h>
#include <sys/random.h>

#include <cctype>
#include <cstring>
#include <string>
#include <system_error>

namespace vsteer
{
namespace
{

using text::split;
using text::trim;

struct TypeName {
	const char *name;
	uint32_t bit;
};

constexpr TypeName kTypeNames[] = {
    {"ipv4", VSTEER_HASH_IPV4},   {"tcpv4", VSTEER_HASH_TCPV4},   {"udpv4", VSTEER_HASH_UDPV4},
    {"ipv6", VSTEER_HASH_IPV6},   {"tcpv6", VSTEER_HASH_TCPV6},   {"udpv6", VSTEER_HASH_UDPV6},
    {"ip_ex", VSTEER_HASH_IP_EX}, {"tcp_ex", VSTEER_HASH_TCP_EX}, {"udp_ex", VSTEER_HASH_UDP_EX},
};

bool is_power_of_two(size_t n)
{
	return n && !(n & (n - 1));
}

} // namespace

void RssConfig::validate(unsigned num_queues) const
{
	if (hash_types & ~VSTEER_HASH_ALL)
		throw ConfigError("hash types 0x" + std::to_string(hash_types) +
		                  " include unknown bits (valid: 0x1ff)");
	if (!is_power_of_two(table.size()) || table.size() > VSTEER_MAX_TABLE_LEN)
		throw ConfigError("indirection table has " + std::to_string(table.size()) +
		                  " entries; it needs a power of two from 1 to 128");
	if (num_queues == 0)
		return;
	for (size_t i = 0; i < table.size(); i++)
		if (table[i] >= num_queues)
			throw ConfigError("indirection table entry " + std::to_string(i) + " is queue " +
			                  std::to_string(table[i]) + ", but the tap has only " +
			                  std::to_string(num_queues) + " queues (0.." +
			                  std::to_string(num_queues - 1) + ")");
	if (unclassified_queue >= num_queues)
		throw ConfigError("unclassified queue " + std::to_string(unclassified_queue) +
		                  " is beyond the tap's " + std::to_string(num_queues) + " queues");
}

RssKey random_key()
{
	RssKey key;
	if (getrandom(key.data(), key.size(), 0) != static_cast<ssize_t>(key.size()))
		throw_errno("RSS key", "read random bytes (getrandom)");
	return key;
}

std::vector<uint16_t> equal_table(unsigned num_queues)
{
	if (num_queues == 0 || num_queues > VSTEER_MAX_QUEUES)
		throw ConfigError("--equal needs 1.." + std::to_string(VSTEER_MAX_QUEUES) + " queues, got " +
		                  std::to_string(num_queues));
	std::vector<uint16_t> t(VSTEER_MAX_TABLE_LEN);
	for (size_t i = 0; i < t.size(); i++)
		t[i] = static_cast<uint16_t>(i % num_queues);
	return t;
}

RssConfig default_config(unsigned num_queues)
{
	RssConfig c;
	c.key = random_key();
	c.hash_types = VSTEER_HASH_DEFAULT;
	c.table = equal_table(num_queues);
	c.unclassified_queue = 0;
	c.redirect = true;
	return c;
}

RssKey parse_key(std::string_view text)
{
	std::string hex;
	for (char ch : trim(text)) {
		if (ch == ':' || ch == '-' || ch == ' ')
			continue;
		if (!std::isxdigit(static_cast<unsigned char>(ch)))
			throw ConfigError(std::string("key: '") + ch + "' is not a hex digit");
		hex += ch;
	}
	if (hex.size() % 2)
		throw ConfigError("key: odd number of hex digits");
	if (hex.size() != 2 * VSTEER_KEY_SIZE)
		throw ConfigError("key has " + std::to_string(hex.size() / 2) +
		                  " bytes; virtio-net RSS keys are exactly " +
		                  std::to_string(VSTEER_KEY_SIZE) + " bytes (80 hex digits)");
	RssKey key;
	for (size_t i = 0; i < key.size(); i++)
		key[i] = static_cast<uint8_t>(std::stoul(hex.substr(2 * i, 2), nullptr, 16));
	return key;
}

std::string format_key(const RssKey &key)
{
	static const char digits[] = "0123456789abcdef";
	std::string s;
	for (uint8_t b : key) {
		s += digits[b >> 4];
		s += digits[b & 15];
	}
	return s;
}

uint32_t parse_hash_types(std::string_view list)
{
	uint32_t types = 0;
	for (std::string_view tok : split(list, ',')) {
		tok = trim(tok);
		if (tok.empty())
			continue;
		std::string lower(tok);
		for (auto &ch : lower)
			ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
		if (lower == "all") {
			types |= VSTEER_HASH_ALL;
			continue;
		}
		if (lower == "default") {
			types |= VSTEER_HASH_DEFAULT;
			continue;
		}
		if (lower == "none")
			continue;
		bool found = false;
		for (const auto &t : kTypeNames)
			if (lower == t.name) {
				types |= t.bit;
				found = true;
			}
		if (!found)
			throw ConfigError(
			    "unknown hash type '" + std::string(tok) +
			    "' (known: "
			    "ipv4,tcpv4,udpv4,ipv6,tcpv6,udpv6,ip_ex,tcp_ex,udp_ex,all,default,none)");
	}
	return types;
}

std::string format_hash_types(uint32_t types)
{
	std::string s;
	for (const auto &t : kTypeNames)
		if (types & t.bit) {
			if (!s.empty())
				s += ',';
			s += t.name;
		}
	return s.empty() ? "none" : s;
}

std::vector<uint16_t> parse_table(std::string_view list)
{
	std::vector<uint16_t> t;
	for (std::string_view tok : split(list, ',')) {
		tok = trim(tok);
		if (tok.empty())
			throw ConfigError("indirection table: empty entry in '" + std::string(list) + "'");
		unsigned long v = 0;
		for (char ch : tok) {
			if (!std::isdigit(static_cast<unsigned char>(ch)))
				throw ConfigError("indirection table: '" + std::string(tok) +
				                  "' is not a queue number");
			v = v * 10 + static_cast<unsigned long>(ch - '0');
			if (v >= VSTEER_MAX_QUEUES)
				throw ConfigError("indirection table: queue " + std::string(tok) +
				                  " is above " + std::to_string(VSTEER_MAX_QUEUES - 1));
		}
		t.push_back(static_cast<uint16_t>(v));
	}
	return t;
}

const char *report_name(uint8_t report)
{
	static const char *names[VSTEER_REPORT_COUNT] = {"none",  "ipv4",  "tcpv4",   "udpv4",    "ipv6",
	                                                 "tcpv6", "udpv6", "ipv6_ex", "tcpv6_ex", "udpv6_ex"};
	return report < VSTEER_REPORT_COUNT ? names[report] : "invalid";
}

vsteer_rss_config to_map_config(const RssConfig &c)
{
	vsteer_rss_config m{};
	m.redirect = c.redirect ? 1 : 0;
	m.populate_hash = 1;
	m.hash_types = c.hash_types;
	m.indirections_len = static_cast<uint16_t>(c.table.size());
	m.default_queue = c.unclassified_queue;
	return m;
}

vsteer_toeplitz_key to_map_key(const RssKey &key)
{
	vsteer_toeplitz_key k{};
	uint32_t be;
	std::memcpy(&be, key.data(), 4);
	k.leftmost_32_bits = ntohl(be); // QEMU stores the first word in host order
	std::memcpy(k.next_byte, key.data() + 4, VSTEER_KEY_NEXT_BYTES);
	return k;
}

RssKey from_map_key(const vsteer_toeplitz_key &k)
{
	RssKey key;
	uint32_t be = htonl(k.leftmost_32_bits);
	std::memcpy(key.data(), &be, 4);
	std::memcpy(key.data() + 4, k.next_byte, VSTEER_KEY_NEXT_BYTES);
	return key;
}

} // namespace vsteer

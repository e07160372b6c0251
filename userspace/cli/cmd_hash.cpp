// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
// vsteer hash: the offline hash, report type and table index of a frame or a tuple.
#include "commands.hpp"
#include "json_writer.hpp"
#include "rss_reference.hpp"

#include <arpa/inet.h>

#include <cstdio>
#include <iostream>

namespace vsteer::cli
{
namespace
{

struct HashOptions {
	std::string key, types = "default", packet, tuple;
	bool json = false;
	unsigned table_len = VSTEER_MAX_TABLE_LEN;
};

std::vector<uint8_t> parse_hex_bytes(const std::string &hex)
{
	std::vector<uint8_t> out;
	std::string digits;
	for (char c : hex)
		if (std::isxdigit(static_cast<unsigned char>(c)))
			digits += c;
		else if (c != ':' && c != ' ' && c != '-')
			throw ConfigError(std::string("--packet: '") + c + "' is not a hex digit");
	if (digits.size() % 2)
		throw ConfigError("--packet: odd number of hex digits");
	for (size_t i = 0; i < digits.size(); i += 2)
		out.push_back(static_cast<uint8_t>(std::stoul(digits.substr(i, 2), nullptr, 16)));
	return out;
}

// "SRC,DST,SPORT,DPORT" (IPv4 or IPv6) -> the hash choice as if it were a TCP flow,
// or an L3-only flow when the ports are omitted.
HashChoice tuple_choice(const std::string &tuple, uint32_t types)
{
	std::vector<std::string> f;
	size_t start = 0;
	while (true) {
		size_t pos = tuple.find(',', start);
		f.push_back(tuple.substr(start, pos == std::string::npos ? std::string::npos : pos - start));
		if (pos == std::string::npos)
			break;
		start = pos + 1;
	}
	if (f.size() != 2 && f.size() != 4)
		throw ConfigError("--tuple wants SRC,DST[,SPORT,DPORT], got '" + tuple + "'");
	ParsedFlow flow;
	int family = f[0].find(':') != std::string::npos ? AF_INET6 : AF_INET;
	flow.l3 = family == AF_INET ? 4 : 6;
	if (inet_pton(family, f[0].c_str(), flow.src.data()) != 1 ||
	    inet_pton(family, f[1].c_str(), flow.dst.data()) != 1)
		throw ConfigError("--tuple: '" + f[0] + "' or '" + f[1] +
		                  "' is not an address of the same family");
	if (f.size() == 4) {
		flow.l4 = 6;
		unsigned long sp = std::stoul(f[2]), dp = std::stoul(f[3]);
		if (sp > 65535 || dp > 65535)
			throw ConfigError("--tuple: ports are 0..65535");
		flow.sport = static_cast<uint16_t>(sp);
		flow.dport = static_cast<uint16_t>(dp);
	}
	return choose_hash(flow, types);
}

void run_hash(const HashOptions &o)
{
	RssConfig c;
	c.key = parse_key(o.key);
	c.hash_types = parse_hash_types(o.types);
	HashChoice choice;
	if (!o.packet.empty())
		choice = choose_hash(parse_frame(parse_hex_bytes(o.packet)), c.hash_types);
	else
		choice = tuple_choice(o.tuple, c.hash_types);
	uint32_t hash = choice.report ? toeplitz_hash(c.key, choice.input) : 0;
	if (o.table_len == 0 || (o.table_len & (o.table_len - 1)) || o.table_len > VSTEER_MAX_TABLE_LEN)
		throw ConfigError("--table-len must be a power of two from 1 to 128");
	unsigned index = hash & (o.table_len - 1);
	if (o.json) {
		JsonWriter j;
		j.begin_object().value("hash", hash).value("report", report_name(choice.report));
		j.value("report_value", choice.report).value("table_index", choice.report ? int(index) : -1);
		std::cout << j.end_object().str();
		return;
	}
	std::printf("hash 0x%08x report %s (%u)", hash, report_name(choice.report), choice.report);
	if (choice.report)
		std::printf(" table_index %u (of %u)\n", index, o.table_len);
	else
		std::printf(" -> unclassified queue\n");
}

} // namespace

void register_hash_command(CLI::App &app)
{
	auto o = std::make_shared<HashOptions>();
	auto *cmd =
	    app.add_subcommand("hash", "Compute the RSS hash of a frame or tuple offline (debugging)");
	cmd->add_option("--key", o->key, "40-byte key in hex")->required();
	cmd->add_option("--hash-types", o->types,
	                "comma list: ipv4,tcpv4,udpv4,ipv6,tcpv6,udpv6,ip_ex,tcp_ex,udp_ex");
	auto *pkt = cmd->add_option("--packet", o->packet, "whole Ethernet frame in hex");
	auto *tup = cmd->add_option("--tuple", o->tuple, "SRC,DST[,SPORT,DPORT] (ports: as a TCP flow)");
	pkt->excludes(tup);
	cmd->add_option("--table-len", o->table_len, "indirection table length for the index (default 128)");
	cmd->add_flag("--json", o->json, "machine-readable output");
	cmd->callback([o, pkt, tup] {
		if (!*pkt && !*tup)
			throw ConfigError("vsteer hash needs --packet HEX or --tuple SRC,DST,SPORT,DPORT");
		run_hash(*o);
	});
}

} // namespace vsteer::cli

// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
// vsteer hash: the offline hash, report type and table index of a frame or a tuple.
#include "commands.hpp"
#include "json.hpp"
#include "flow_text.hpp"

#include <cstdio>
#include <iostream>
#include <vector>

namespace vsteer::cli
{
namespace
{

struct HashOptions {
	std::string key, types = "default", packet, tuple;
	bool json = false;
	unsigned table_len = VSTEER_MAX_TABLE_LEN;
};

void run_hash(const HashOptions &o)
{
	RssConfig c;
	c.key = parse_key(o.key);
	c.hash_types = parse_hash_types(o.types);
	HashChoice choice;
	if (!o.packet.empty())
		choice = choose_hash(parse_frame(parse_packet_hex(o.packet)), c.hash_types);
	else
		choice = choose_hash(parse_tuple(o.tuple), c.hash_types);
	uint32_t hash = choice.report ? toeplitz_hash(c.key, choice.input) : 0;
	unsigned index = hash & (o.table_len - 1);
	if (o.json) {
		Json j = {{"hash", hash},
		          {"report", report_name(choice.report)},
		          {"report_value", choice.report},
		          {"table_index", choice.report ? int(index) : -1}};
		std::cout << to_json_text(j) << "\n";
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
	auto *input = cmd->add_option_group("input", "what to hash: one of");
	input->add_option("--packet", o->packet, "whole Ethernet frame in hex");
	input->add_option("--tuple", o->tuple, "SRC,DST[,SPORT,DPORT] (ports: as a TCP flow)");
	input->require_option(1);
	std::vector<unsigned> table_lens;
	for (unsigned n = 1; n <= VSTEER_MAX_TABLE_LEN; n *= 2)
		table_lens.push_back(n);
	cmd->add_option("--table-len", o->table_len, "indirection table length for the index (default 128)")
	    ->check(CLI::IsMember(table_lens));
	cmd->add_flag("--json", o->json, "machine-readable output");
	cmd->callback([o] { run_hash(*o); });
}

} // namespace vsteer::cli

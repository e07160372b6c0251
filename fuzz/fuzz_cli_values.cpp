// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
// The values users type on vsteer's command line: RSS key, hash-type list, indirection table,
// --packet hex (and the frame it describes), --tuple, and the XDP classifier's MAC, prefix,
// CPU list, VM action, rule match and rule action. Each refuses only with ConfigError; what it
// accepts formats to text that parses back to the same value.
#include "flow_text.hpp"
#include "fuzz_common.hpp"
#include "rss_config.hpp"
#include "rss_reference.hpp"
#include "text.hpp"
#include "xdp_text.hpp"

using namespace vsteer;

namespace
{

void one(uint8_t which, std::string_view s)
{
	switch (which % 12) {
	case 0: {
		RssKey k = parse_key(s);
		if (parse_key(format_key(k)) != k)
			fuzz::broken("key round trip", s);
		break;
	}
	case 1: {
		uint32_t t = parse_hash_types(s);
		if (t & ~VSTEER_HASH_ALL || parse_hash_types(format_hash_types(t)) != t)
			fuzz::broken("hash types", s);
		break;
	}
	case 2: {
		RssConfig c;
		c.table = parse_table(s);
		for (uint16_t q : c.table)
			if (q >= VSTEER_MAX_QUEUES)
				fuzz::broken("table entry beyond the queues", s);
		try {
			c.validate(VSTEER_MAX_QUEUES);
		} catch (const ConfigError &) {
		}
		break;
	}
	case 3: {
		auto frame = parse_packet_hex(s);
		RssConfig c;
		c.table = equal_table(4);
		c.hash_types = VSTEER_HASH_ALL;
		RssResult r = compute_rss(c, frame);
		if (r.queue >= 4)
			fuzz::broken("queue beyond the table", s);
		break;
	}
	case 4: {
		ParsedFlow f = parse_tuple(s);
		(void)choose_hash(f, VSTEER_HASH_ALL);
		break;
	}
	case 5: {
		MacAddress m = parse_mac(s);
		if (parse_mac(format_mac(m)) != m)
			fuzz::broken("mac round trip", s);
		break;
	}
	case 6: {
		IpPrefix p = parse_prefix(s);
		if (parse_prefix(format_prefix(p)) != p)
			fuzz::broken("prefix round trip", s);
		break;
	}
	case 7:
		(void)parse_cpu_list(s);
		break;
	case 8:
		(void)vm_action_name(parse_vm_action(s));
		break;
	case 9: {
		RuleMatch m = parse_match(s);
		if (parse_match(format_match(m)) != m)
			fuzz::broken("rule match round trip", format_match(m));
		if (from_rule_key(to_rule_key(m)) != m)
			fuzz::broken("rule key round trip", format_match(m));
		break;
	}
	case 10:
		(void)parse_rule_action(s);
		break;
	case 11:
		if (auto v = text::parse_decimal(s, 65535); v && *v > 65535)
			fuzz::broken("decimal beyond its maximum", s);
		break;
	}
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	try {
		one(data[0], fuzz::as_text(data + 1, size - 1));
	} catch (const ConfigError &) {
	}
	return 0;
}

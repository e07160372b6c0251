/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Choosing the hash type and its input (rss-semantics.md, "Choosing the hash").
 * First match wins; the _EX types stand on their own (QEMU only honours them
 * together with the base type, which is a deviation from the spec). The input
 * is the flow's own `in` (parse.h lays it out as the hash input), so choosing
 * copies nothing, except the _EX addresses over the plain ones.
 */
#ifndef VSTEER_BPF_RSS_SELECT_H
#define VSTEER_BPF_RSS_SELECT_H

#include "rss_abi.h"
#include "parse.h"

struct vsteer_hash_choice {
	__u32 len; /* bytes of f->in to hash: 8, 12, 32 or 36; 0: no hash */
	__u32 report;
};

static __always_inline struct vsteer_hash_choice vsteer_select_ipv4(const struct vsteer_flow *f, __u32 types)
{
	struct vsteer_hash_choice c = {};

	if (f->l4 == VSTEER_IPPROTO_TCP && (types & VSTEER_HASH_TCPV4)) {
		c.len = 12;
		c.report = VSTEER_REPORT_TCPV4;
	} else if (f->l4 == VSTEER_IPPROTO_UDP && (types & VSTEER_HASH_UDPV4)) {
		c.len = 12;
		c.report = VSTEER_REPORT_UDPV4;
	} else if (types & VSTEER_HASH_IPV4) {
		c.len = 8;
		c.report = VSTEER_REPORT_IPV4;
	}
	return c;
}

static __always_inline struct vsteer_hash_choice vsteer_select_ipv6(struct vsteer_flow *f, __u32 types)
{
	struct vsteer_hash_choice c = {};
	int ex;

	if (f->l4 == VSTEER_IPPROTO_TCP && (types & (VSTEER_HASH_TCP_EX | VSTEER_HASH_TCPV6))) {
		ex = !!(types & VSTEER_HASH_TCP_EX);
		c.report = ex ? VSTEER_REPORT_TCPV6_EX : VSTEER_REPORT_TCPV6;
		c.len = 36;
	} else if (f->l4 == VSTEER_IPPROTO_UDP && (types & (VSTEER_HASH_UDP_EX | VSTEER_HASH_UDPV6))) {
		ex = !!(types & VSTEER_HASH_UDP_EX);
		c.report = ex ? VSTEER_REPORT_UDPV6_EX : VSTEER_REPORT_UDPV6;
		c.len = 36;
	} else if (types & (VSTEER_HASH_IP_EX | VSTEER_HASH_IPV6)) {
		ex = !!(types & VSTEER_HASH_IP_EX);
		c.report = ex ? VSTEER_REPORT_IPV6_EX : VSTEER_REPORT_IPV6;
		c.len = 32;
	} else {
		return c;
	}
	/* The _EX types hash the Home Address and the final destination when present. */
	if (ex && f->has_home_addr)
		__builtin_memcpy(&f->in[0], f->home_addr, 16);
	if (ex && f->has_final_dst)
		__builtin_memcpy(&f->in[16], f->final_dst, 16);
	return c;
}

/*
 * The hash input length and report type for the enabled types. For the _EX
 * types it puts the Home Address / final destination into f->in (the flow's
 * addresses are not needed afterwards).
 */
static __always_inline struct vsteer_hash_choice vsteer_select_hash(struct vsteer_flow *f, __u32 types)
{
	struct vsteer_hash_choice none = {};

	if (f->l3 == 4)
		return vsteer_select_ipv4(f, types);
	if (f->l3 == 6)
		return vsteer_select_ipv6(f, types);
	return none;
}

#endif /* VSTEER_BPF_RSS_SELECT_H */

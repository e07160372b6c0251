/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Choosing the hash type and its input (rss-semantics.md, "Choosing the hash").
 * First match wins; the _EX types stand on their own (QEMU only honours them
 * together with the base type, which is a deviation from the spec).
 */
#ifndef VSTEER_BPF_RSS_SELECT_H
#define VSTEER_BPF_RSS_SELECT_H

#include "vsteer_abi.h"
#include "parse.h"

struct vsteer_hash_input {
	__u8 bytes[VSTEER_MAX_HASH_INPUT];
	__u32 len; /* 0: no hash */
	__u32 report;
};

static __always_inline void vsteer_put_ports(struct vsteer_hash_input *in, const struct vsteer_flow *f,
                                             __u32 at)
{
	__builtin_memcpy(&in->bytes[at], &f->sport, 2);
	__builtin_memcpy(&in->bytes[at + 2], &f->dport, 2);
}

static __always_inline void vsteer_select_ipv4(struct vsteer_hash_input *in, const struct vsteer_flow *f,
                                               __u32 types)
{
	__builtin_memcpy(&in->bytes[0], f->src, 4);
	__builtin_memcpy(&in->bytes[4], f->dst, 4);
	if (f->l4 == VSTEER_IPPROTO_TCP && (types & VSTEER_HASH_TCPV4)) {
		vsteer_put_ports(in, f, 8);
		in->len = 12;
		in->report = VSTEER_REPORT_TCPV4;
	} else if (f->l4 == VSTEER_IPPROTO_UDP && (types & VSTEER_HASH_UDPV4)) {
		vsteer_put_ports(in, f, 8);
		in->len = 12;
		in->report = VSTEER_REPORT_UDPV4;
	} else if (types & VSTEER_HASH_IPV4) {
		in->len = 8;
		in->report = VSTEER_REPORT_IPV4;
	}
}

/* Addresses for the _EX types: Home Address and final destination when present. */
static __always_inline void vsteer_put_ipv6_addrs(struct vsteer_hash_input *in, const struct vsteer_flow *f,
                                                  int ex)
{
	__builtin_memcpy(&in->bytes[0], ex && f->has_home_addr ? f->home_addr : f->src, 16);
	__builtin_memcpy(&in->bytes[16], ex && f->has_final_dst ? f->final_dst : f->dst, 16);
}

static __always_inline void vsteer_select_ipv6(struct vsteer_hash_input *in, const struct vsteer_flow *f,
                                               __u32 types)
{
	int ex;

	if (f->l4 == VSTEER_IPPROTO_TCP && (types & (VSTEER_HASH_TCP_EX | VSTEER_HASH_TCPV6))) {
		ex = !!(types & VSTEER_HASH_TCP_EX);
		in->report = ex ? VSTEER_REPORT_TCPV6_EX : VSTEER_REPORT_TCPV6;
		in->len = 36;
	} else if (f->l4 == VSTEER_IPPROTO_UDP && (types & (VSTEER_HASH_UDP_EX | VSTEER_HASH_UDPV6))) {
		ex = !!(types & VSTEER_HASH_UDP_EX);
		in->report = ex ? VSTEER_REPORT_UDPV6_EX : VSTEER_REPORT_UDPV6;
		in->len = 36;
	} else if (types & (VSTEER_HASH_IP_EX | VSTEER_HASH_IPV6)) {
		ex = !!(types & VSTEER_HASH_IP_EX);
		in->report = ex ? VSTEER_REPORT_IPV6_EX : VSTEER_REPORT_IPV6;
		in->len = 32;
	} else {
		return;
	}
	vsteer_put_ipv6_addrs(in, f, ex);
	if (in->len == 36)
		vsteer_put_ports(in, f, 32);
}

/* Fills `in` (zeroed by the caller) with the hash input for the enabled types. */
static __always_inline void vsteer_select_hash(struct vsteer_hash_input *in, const struct vsteer_flow *f,
                                               __u32 types)
{
	if (f->l3 == 4)
		vsteer_select_ipv4(in, f, types);
	else if (f->l3 == 6)
		vsteer_select_ipv6(in, f, types);
}

#endif /* VSTEER_BPF_RSS_SELECT_H */

/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Classification shared by the XDP classifier, its cpumap program and the tc
 * east-west program (docs/xdp.md): exact 5-tuple rules first, then the
 * destination MAC (exact), then the destination IPv4/IPv6 prefix (longest
 * match). Needs VSTEER_LOAD (parse.h).
 */
#ifndef VSTEER_BPF_XDP_CLASSIFY_H
#define VSTEER_BPF_XDP_CLASSIFY_H

#include "xdp_abi.h"
#include "parse.h"
#include "xdp_classify_maps.h"

struct vsteer_xdp_verdict {
	__u32 vm;     /* VSTEER_XDP_NO_VM unless the action is VM */
	__u32 action; /* PASS, DROP or VM */
	__u32 match;  /* enum vsteer_xdp_match */
	__u32 rule;   /* rule id with MATCH_RULE */
};

/* Destination MAC, then destination prefix. Returns 1 and sets *vm on a match. */
static __always_inline int vsteer_xdp_lookup_dest(void *ctx, const struct vsteer_flow *f,
                                                  struct vsteer_xdp_verdict *v)
{
	struct vsteer_xdp_mac_key mk = {};
	__u32 *target;

	if (!VSTEER_LOAD(ctx, 0, mk.addr, 6)) {
		target = bpf_map_lookup_elem(&xdp_macs, &mk);
		if (target) {
			v->vm = *target;
			v->match = VSTEER_XDP_MATCH_MAC;
			return 1;
		}
	}
	if (f->l3 == 4) {
		struct vsteer_xdp_lpm4 k = {.prefixlen = 32};

		__builtin_memcpy(k.addr, vsteer_flow_dst(f), 4);
		target = bpf_map_lookup_elem(&xdp_prefix4, &k);
	} else if (f->l3 == 6) {
		struct vsteer_xdp_lpm6 k = {.prefixlen = 128};

		__builtin_memcpy(k.addr, vsteer_flow_dst(f), 16);
		target = bpf_map_lookup_elem(&xdp_prefix6, &k);
	} else {
		return 0;
	}
	if (!target)
		return 0;
	v->vm = *target;
	v->match = VSTEER_XDP_MATCH_PREFIX;
	return 1;
}

static __always_inline void vsteer_xdp_classify(void *ctx, const struct vsteer_flow *f,
                                                struct vsteer_xdp_verdict *v)
{
	v->vm = VSTEER_XDP_NO_VM;
	v->action = VSTEER_XDP_PASS;
	v->match = VSTEER_XDP_MATCH_NONE;
	v->rule = 0;

	if (f->ip_proto) {
		struct vsteer_xdp_rule_key k = {};
		struct vsteer_xdp_rule *r;

		k.family = f->l3;
		k.proto = f->ip_proto;
		if (f->l3 == 4) {
			__builtin_memcpy(k.src, &f->in[0], 4);
			__builtin_memcpy(k.dst, &f->in[4], 4);
			__builtin_memcpy(&k.sport, &f->in[VSTEER_FLOW_PORTS4], 4);
		} else {
			__builtin_memcpy(k.src, &f->in[0], 16);
			__builtin_memcpy(k.dst, &f->in[16], 16);
			__builtin_memcpy(&k.sport, &f->in[VSTEER_FLOW_PORTS6], 4);
		}
		if (f->ip_proto == VSTEER_IPPROTO_ICMP || f->ip_proto == VSTEER_IPPROTO_ICMPV6) {
			k.sport = 0;
			k.dport = 0;
		}
		r = bpf_map_lookup_elem(&xdp_rules, &k);
		if (r) {
			v->match = VSTEER_XDP_MATCH_RULE;
			v->rule = r->id;
			v->action = r->action;
			if (r->action == VSTEER_XDP_VM)
				v->vm = r->vm;
			return;
		}
	}
	if (vsteer_xdp_lookup_dest(ctx, f, v))
		v->action = VSTEER_XDP_VM;
}

#endif /* VSTEER_BPF_XDP_CLASSIFY_H */

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

/* Bit i of a prefilter bitmap (xdp_abi.h). */
static __always_inline int vsteer_xdp_filter_has(const __u64 *bits, __u32 i)
{
	return (bits[(i >> 6) & (VSTEER_XDP_FILTER_BITS / 64 - 1)] >> (i & 63)) & 1;
}

/*
 * The destination MAC: through the prefilter's MAC table (`flt`, NULL when it
 * is not built), xdp_macs only for a shared slot. Returns the VM id or
 * VSTEER_XDP_NO_VM.
 */
static __always_inline __u32 vsteer_xdp_lookup_mac(void *ctx, const struct vsteer_xdp_filter *flt)
{
	struct vsteer_xdp_mac_key mk = {};
	const struct vsteer_xdp_mac_slot *slot;
	__u32 tail, a, b, *target;
	__u16 c, d;

	if (VSTEER_LOAD(ctx, 0, mk.addr, 6))
		return VSTEER_XDP_NO_VM;
	if (flt) {
		__builtin_memcpy(&tail, &mk.addr[2], 4);
		slot = &flt->macs[vsteer_xdp_mac_slot_of(tail) & (VSTEER_XDP_MAC_SLOTS - 1)];
		if (slot->vm == VSTEER_XDP_MAC_EMPTY)
			return VSTEER_XDP_NO_VM;
		if (slot->vm != VSTEER_XDP_MAC_SHARED) {
			__builtin_memcpy(&a, mk.addr, 4);
			__builtin_memcpy(&b, slot->addr, 4);
			__builtin_memcpy(&c, &mk.addr[4], 2);
			__builtin_memcpy(&d, &slot->addr[4], 2);
			return a == b && c == d ? slot->vm : VSTEER_XDP_NO_VM;
		}
	}
	target = bpf_map_lookup_elem(&xdp_macs, &mk);
	return target ? *target : VSTEER_XDP_NO_VM;
}

/* Destination MAC, then destination prefix. Returns 1 and sets *vm on a match. */
static __always_inline int vsteer_xdp_lookup_dest(void *ctx, const struct vsteer_flow *f,
                                                  const struct vsteer_xdp_filter *flt,
                                                  struct vsteer_xdp_verdict *v)
{
	const __u32 *target;
	__u32 w, vm;

	vm = vsteer_xdp_lookup_mac(ctx, flt);
	if (vm != VSTEER_XDP_NO_VM) {
		v->vm = vm;
		v->match = VSTEER_XDP_MATCH_MAC;
		return 1;
	}
	if (f->l3 == 4) {
		struct vsteer_xdp_lpm4 k = {.prefixlen = 32};

		__builtin_memcpy(k.addr, vsteer_flow_dst(f), 4);
		if (flt && !vsteer_xdp_filter_has(flt->prefix4, (__u32)k.addr[0] << 8 | k.addr[1]))
			return 0;
		target = bpf_map_lookup_elem(&xdp_prefix4, &k);
	} else if (f->l3 == 6) {
		struct vsteer_xdp_lpm6 k = {.prefixlen = 128};

		__builtin_memcpy(k.addr, vsteer_flow_dst(f), 16);
		__builtin_memcpy(&w, k.addr, 4);
		if (flt && !flt->prefix6_short && !vsteer_xdp_filter_has(flt->prefix6, vsteer_xdp_mix16(w)))
			return 0;
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

/*
 * The exact 5-tuple rule of the flow (f->ip_proto set). Returns 1 and fills `v`
 * on a match. A function of its own so that the key is built (and zeroed) only
 * on the way to the lookup, not for every frame the prefilter turns away.
 */
static __always_inline int vsteer_xdp_lookup_rule(const struct vsteer_flow *f, struct vsteer_xdp_verdict *v)
{
	/* Aligned beyond its 2 bytes, so that zeroing and filling it are word stores. */
	struct vsteer_xdp_rule_key k __attribute__((aligned(8))) = {};
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
	if (!r)
		return 0;
	v->match = VSTEER_XDP_MATCH_RULE;
	v->rule = r->id;
	v->action = r->action;
	if (r->action == VSTEER_XDP_VM)
		v->vm = r->vm;
	return 1;
}

static __always_inline void vsteer_xdp_classify(void *ctx, const struct vsteer_flow *f,
                                                struct vsteer_xdp_verdict *v)
{
	const struct vsteer_xdp_filter *flt;
	__u32 zero = 0;

	flt = bpf_map_lookup_elem(&xdp_filter, &zero);
	if (flt && !flt->valid)
		flt = NULL; /* not built yet: look everything up */
	v->vm = VSTEER_XDP_NO_VM;
	v->action = VSTEER_XDP_PASS;
	v->match = VSTEER_XDP_MATCH_NONE;
	v->rule = 0;

	if (f->ip_proto) {
		__u32 ports = 0, dst_tail;

		/* Word reads: `in` is 4-aligned, and so are these offsets. */
		if (f->ip_proto != VSTEER_IPPROTO_ICMP && f->ip_proto != VSTEER_IPPROTO_ICMPV6)
			ports = vsteer_word(&f->in[f->l3 == 4 ? VSTEER_FLOW_PORTS4 : VSTEER_FLOW_PORTS6]);
		dst_tail = vsteer_word(&f->in[f->l3 == 4 ? 4 : 28]);
		if ((!flt ||
		     vsteer_xdp_filter_has(flt->rules, vsteer_xdp_rule_bit(f->ip_proto, ports, dst_tail))) &&
		    vsteer_xdp_lookup_rule(f, v))
			return;
	}
	if (vsteer_xdp_lookup_dest(ctx, f, flt, v))
		v->action = VSTEER_XDP_VM;
}

#endif /* VSTEER_BPF_XDP_CLASSIFY_H */

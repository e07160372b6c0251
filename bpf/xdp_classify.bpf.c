// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * vsteer XDP classifier for host NICs (docs/xdp.md). Classifies each frame to
 * a VM (5-tuple rule, destination MAC, destination prefix), applies the VM's
 * token bucket, and passes, drops, redirects it into the VM's tap (devmap) or
 * to the CPU that serves its guest queue (cpumap). The guest queue is computed
 * with the VM's own RSS policy, read from the tap's pinned maps on every
 * packet, exactly as the tun steering program computes it.
 *
 * vsteer_cpumap runs on the target CPU for cpumap'ed frames and delivers them
 * into the tap (CPU) or to the stack (CPU_PASS) there.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

/*
 * Loads at constant offsets (the MAC, the EtherType, the TCP/UDP header after
 * IPv6) use direct packet access, and parse.h's one-load fast path reads the
 * frame in place (VSTEER_HEADER); variable offsets (tags, options, extension
 * chains) the helper, which keeps the verifier's work small. The program does
 * not declare xdp.frags, so the frame is linear: a range outside
 * [data, data_end) is exactly one the helper refuses.
 */
static __always_inline int vsteer_xdp_load_direct(void *ctx, __u32 off, void *dst, const __u32 len)
{
	struct xdp_md *x = ctx;
	void *data = (void *)(long)x->data;
	void *end = (void *)(long)x->data_end;

	__u8 *d = dst;
	__u32 i = 0;

	if (data + off + len > end)
		return -1;
	/* Word loads: a memcpy from the packet is byte loads (the BPF target assumes
	 * no alignment), and the JIT's loads do not need any (nor does the verifier
	 * without BPF_F_STRICT_ALIGNMENT on hosts with efficient unaligned access). */
	for (; i + 8 <= len; i += 8) {
		__u64 v = *(const __u64 *)(data + off + i);

		__builtin_memcpy(d + i, &v, 8);
	}
	if (i + 4 <= len) {
		__u32 v = *(const __u32 *)(data + off + i);

		__builtin_memcpy(d + i, &v, 4);
		i += 4;
	}
	if (i + 2 <= len) {
		__u16 v = *(const __u16 *)(data + off + i);

		__builtin_memcpy(d + i, &v, 2);
		i += 2;
	}
	if (i < len)
		d[i] = *(const __u8 *)(data + off + i);
	return 0;
}
#define VSTEER_LOAD(ctx, off, dst, len)                                                                      \
	(__builtin_constant_p(off) && __builtin_constant_p(len)                                              \
	     ? vsteer_xdp_load_direct((ctx), (off), (dst), (len))                                            \
	     : bpf_xdp_load_bytes((ctx), (off), (dst), (len)))

/* parse.h's fast path reads the frame in place: no copy to the stack. */
static __always_inline const __u8 *vsteer_xdp_header(void *ctx, __u32 off, const __u32 len)
{
	struct xdp_md *x = ctx;
	void *data = (void *)(long)x->data;

	if (data + off + len > (void *)(long)x->data_end)
		return NULL;
	return data + off;
}
#define VSTEER_HEADER(ctx, off, buf, len) ((void)(buf), vsteer_xdp_header((ctx), (off), (len)))

#include "xdp_abi.h"
#include "parse.h"
#include "rss_select.h"
#include "toeplitz_table.h"
#include "xdp_classify_maps.h"
#include "xdp_classify.h"

/*
 * Some kernels do not offer bpf_xdp_adjust_meta to XDP programs; there only
 * vsteer_nometa loads. Tests then set record_verdict before loading, and the
 * verdict that would have gone into the metadata is kept in last_verdict. Off
 * (always, outside tests) the verifier drops the store as dead code.
 */
const volatile __u8 record_verdict = 0;
struct vsteer_xdp_meta last_verdict = {};

static __always_inline void vsteer_xdp_count_action(struct vsteer_xdp_action_counters *c, __u32 action,
                                                    int rate_limited, int error)
{
	if (rate_limited)
		c->rate_limited++;
	else if (error)
		c->redirect_error++;
	else if (action == VSTEER_XDP_PASS)
		c->pass++;
	else if (action == VSTEER_XDP_DROP)
		c->drop++;
	else if (action == VSTEER_XDP_TAP)
		c->redirect_tap++;
	else if (action == VSTEER_XDP_CPU)
		c->redirect_cpu++;
	else if (action == VSTEER_XDP_CPU_PASS)
		c->redirect_cpu_pass++;
}

#define VSTEER_XDP_RATE_TRIES 8

/*
 * GCRA token bucket; returns 1 if the packet exceeds the VM's rate. Lock-free:
 * the VM's one `tat` word advances by compare-and-swap, so CPUs never wait for
 * each other; a failed swap means another CPU's packet conformed meanwhile, and
 * the decision is taken again on the new value. A packet that loses
 * VSTEER_XDP_RATE_TRIES races in a row is counted as exceeding (never more
 * than the rate gets through).
 */
static __noinline int vsteer_xdp_rate_exceeded(__u32 vmid, const struct vsteer_xdp_vm *vm)
{
	struct vsteer_xdp_rate_state *st;
	__u64 now, tat, seen;

	if (!vm->rate_interval_ns)
		return 0;
	st = bpf_map_lookup_elem(&xdp_rate, &vmid);
	if (!st)
		return 0;
	now = bpf_ktime_get_ns();
	seen = *(volatile __u64 *)&st->tat_ns;
	for (int i = 0; i < VSTEER_XDP_RATE_TRIES; i++) {
		__u64 prev;

		tat = seen < now ? now : seen;
		if (tat - now > vm->rate_burst_ns)
			return 1;
		prev = __sync_val_compare_and_swap(&st->tat_ns, seen, tat + vm->rate_interval_ns);
		if (prev == seen)
			return 0;
		seen = prev;
	}
	return 1;
}

/*
 * The guest queue for this flow under the VM's RSS policy (the tap's maps), as
 * the tun steering program computes it, with this CPU's Toeplitz table for the
 * VM brought up to date with the VM's live key (the tap's toeplitz_key map)
 * first. One subprogram for both, so the per-CPU table is looked up once.
 * Without a key map the flow gets no hash (report NONE, the default queue).
 * Returns -1 if the VM has no config or indirection table map.
 */
static __noinline int vsteer_xdp_guest_queue(__u32 vmid, struct vsteer_flow *f, struct vsteer_xdp_meta *m)
{
	__u32 zero = 0, lo_idx = 2 * vmid, hi_idx = 2 * vmid + 1, index;
	struct vsteer_toeplitz_cache *lo, *hi;
	struct vsteer_toeplitz_key *key = NULL;
	struct vsteer_hash_choice in;
	struct vsteer_rss_config *cfg;
	void *cfg_map, *table_map, *key_map;
	__u32 hash = 0;
	int table_ok;
	__u16 *entry;

	cfg_map = bpf_map_lookup_elem(&xdp_vm_config, &vmid);
	table_map = bpf_map_lookup_elem(&xdp_vm_table, &vmid);
	if (!cfg_map || !table_map)
		return -1;
	cfg = bpf_map_lookup_elem(cfg_map, &zero);
	lo = bpf_map_lookup_elem(&xdp_toeplitz_cache, &lo_idx);
	hi = bpf_map_lookup_elem(&xdp_toeplitz_cache, &hi_idx);
	if (!cfg || !lo || !hi)
		return -1;

	/* The refresh before choosing the input: inside the choice's branches the
	 * verifier walked it once per branch (191k instructions instead of 51k). */
	key_map = bpf_map_lookup_elem(&xdp_vm_key, &vmid);
	if (key_map)
		key = bpf_map_lookup_elem(key_map, &zero);
	table_ok = key && vsteer_toeplitz_refresh(lo, hi, key, VSTEER_MAX_HASH_INPUT) >= 0;

	in = vsteer_select_hash(f, cfg->hash_types);
	if (in.len) {
		if (!table_ok)
			in.report = VSTEER_REPORT_NONE;
		else
			hash = vsteer_toeplitz_hash(lo, hi, f->in, in.len);
	}
	m->queue = cfg->default_queue;
	if (in.report != VSTEER_REPORT_NONE && cfg->redirect && cfg->indirections_len) {
		index = hash & (cfg->indirections_len - 1) & (VSTEER_MAX_TABLE_LEN - 1);
		entry = bpf_map_lookup_elem(table_map, &index);
		if (entry)
			m->queue = *entry;
	}
	m->hash = hash;
	m->report = in.report;
	return 0;
}

/*
 * Parses and classifies. A global function: the verifier checks it once, on its
 * own, instead of once for every state of every caller (the flow on the
 * caller's stack made that count grow with each branch of the classifier).
 */
__noinline int vsteer_xdp_parse_classify(struct xdp_md *ctx, struct vsteer_flow *f,
                                         struct vsteer_xdp_verdict *v)
{
	if (!f || !v)
		return 0;
	vsteer_parse(ctx, f, 1);
	vsteer_xdp_classify(ctx, f, v);
	return 0;
}

static __always_inline void vsteer_xdp_write_meta(struct xdp_md *ctx, const struct vsteer_xdp_meta *m)
{
	struct vsteer_xdp_meta *out;
	void *data;

	if (bpf_xdp_adjust_meta(ctx, -(int)sizeof(*m)))
		return;
	out = (void *)(long)ctx->data_meta;
	data = (void *)(long)ctx->data;
	if ((void *)(out + 1) > data)
		return;
	__builtin_memcpy(out, m, sizeof(*m));
}

/*
 * The classifier. `with_meta` is a compile-time constant: the variant without
 * it has no bpf_xdp_adjust_meta call at all, which is what the kernel looks at.
 */
static __always_inline int vsteer_classify_frame(struct xdp_md *ctx, const int with_meta)
{
	__u64 bytes = (__u64)(ctx->data_end - ctx->data);
	struct vsteer_xdp_meta m = {.magic = VSTEER_XDP_META_MAGIC, .vm = VSTEER_XDP_NO_VM};
	struct vsteer_xdp_vm_stats *vs = NULL;
	struct vsteer_xdp_rule_stats *rs;
	struct vsteer_xdp_vm *vm = NULL;
	struct vsteer_flow flow = {};
	struct vsteer_xdp_verdict v;
	struct vsteer_xdp_stats *gs;
	int rate_limited = 0, error = 0, ret;
	__u32 zero = 0, action;
	__u64 q, n;

	vsteer_xdp_parse_classify(ctx, &flow, &v);
	action = v.action;

	gs = bpf_map_lookup_elem(&xdp_stats, &zero);
	if (gs) {
		gs->packets++;
		gs->bytes += bytes;
		if (v.match == VSTEER_XDP_MATCH_RULE)
			gs->matched_rule++;
		else if (v.match == VSTEER_XDP_MATCH_MAC)
			gs->matched_mac++;
		else if (v.match == VSTEER_XDP_MATCH_PREFIX)
			gs->matched_prefix++;
		else
			gs->unmatched++;
	}
	if (v.match == VSTEER_XDP_MATCH_RULE) {
		rs = bpf_map_lookup_elem(&xdp_rule_stats, &v.rule);
		if (rs) {
			rs->packets++;
			rs->bytes += bytes;
		}
	}

	if (action == VSTEER_XDP_VM) {
		vm = bpf_map_lookup_elem(&xdp_vms, &v.vm);
		if (!vm || !vm->in_use || vm->action == VSTEER_XDP_VM) {
			if (gs)
				gs->stale_vm++;
			vm = NULL;
			v.vm = VSTEER_XDP_NO_VM;
			action = VSTEER_XDP_PASS;
		} else {
			action = vm->action;
			vs = bpf_map_lookup_elem(&xdp_vm_stats, &v.vm);
			if (vs) {
				vs->packets++;
				vs->bytes += bytes;
			}
		}
	}

	if (vm && vm->rate_interval_ns && action != VSTEER_XDP_DROP && vsteer_xdp_rate_exceeded(v.vm, vm)) {
		rate_limited = 1;
		action = VSTEER_XDP_DROP;
	}

	if (vm && (action == VSTEER_XDP_CPU || action == VSTEER_XDP_CPU_PASS)) {
		if (vsteer_xdp_guest_queue(v.vm, &flow, &m) < 0) {
			m.queue = 0;
			if (vs)
				vs->no_policy++;
		}
		n = vm->num_queue_cpus;
		q = n ? (__u64)m.queue % n : 0;
		/* An opaque mask the compiler cannot drop: the verifier needs the bound. */
		asm volatile("" : "+r"(q));
		q &= VSTEER_MAX_QUEUES - 1;
		m.cpu = vm->queue_cpu[q];
		if (vs)
			vs->by_queue[m.queue < VSTEER_XDP_STATS_QUEUES ? m.queue
			                                               : VSTEER_XDP_STATS_QUEUES - 1]++;
	}

	m.vm = v.vm;
	m.action = action;
	m.match = v.match;
	m.rule = v.rule;
	if (with_meta)
		vsteer_xdp_write_meta(ctx, &m);
	else if (record_verdict)
		__builtin_memcpy(&last_verdict, &m, sizeof(m));

	switch (action) {
	case VSTEER_XDP_DROP:
		ret = XDP_DROP;
		break;
	case VSTEER_XDP_TAP:
		ret = bpf_redirect_map(&xdp_tap_devmap, v.vm, XDP_PASS);
		error = ret != XDP_REDIRECT;
		break;
	case VSTEER_XDP_CPU:
		/* The frame ends in the tap: without one (the tap is gone, the kernel
		 * emptied its devmap slot) it goes up the stack here, an error as for
		 * a tap-action VM, never a redirect. */
		if (!bpf_map_lookup_elem(&xdp_tap_devmap, &v.vm)) {
			ret = XDP_PASS;
			error = 1;
			break;
		}
		/* fall through */
	case VSTEER_XDP_CPU_PASS:
		ret = bpf_redirect_map(&xdp_cpumap, m.cpu, XDP_PASS);
		error = ret != XDP_REDIRECT;
		break;
	default:
		ret = XDP_PASS;
		break;
	}
	if (gs)
		vsteer_xdp_count_action(&gs->by_action, action, rate_limited, error);
	if (vs)
		vsteer_xdp_count_action(&vs->by_action, action, rate_limited, error);
	return ret;
}

/* Hands its verdict to vsteer_cpumap as XDP metadata. */
SEC("xdp")
int vsteer_classify(struct xdp_md *ctx)
{
	return vsteer_classify_frame(ctx, 1);
}

/*
 * The same without metadata (vsteer_cpumap classifies again, counted in
 * meta_fallback), for libxdp dispatchers that cannot hold the other: the kernel
 * (6.13, 6.12.y) lets an freplace program that changes packet data replace only
 * a function that does too, and older libxdp dispatchers' slots do not; and for
 * kernels that refuse bpf_xdp_adjust_meta to XDP programs altogether.
 * Loaded only when chosen (userspace/xdp/xdp_objects.cpp). The name fits the
 * kernel's 15 characters, so that a listing tells the two variants apart.
 */
SEC("xdp")
int vsteer_nometa(struct xdp_md *ctx)
{
	return vsteer_classify_frame(ctx, 0);
}

/*
 * On the target CPU: into the tap (CPU) or up the stack (CPU_PASS). The
 * classifier's metadata says which VM; without it (generic XDP does not carry
 * metadata across the cpumap) the frame is classified again.
 */
SEC("xdp/cpumap")
int vsteer_cpumap(struct xdp_md *ctx)
{
	struct vsteer_xdp_meta *meta = (void *)(long)ctx->data_meta;
	void *data = (void *)(long)ctx->data;
	struct vsteer_xdp_vm_stats *vs;
	__u32 vmid, action, zero = 0;

	if ((void *)(meta + 1) <= data && meta->magic == VSTEER_XDP_META_MAGIC) {
		vmid = meta->vm;
		action = meta->action;
	} else {
		struct vsteer_flow flow = {};
		struct vsteer_xdp_verdict v;
		struct vsteer_xdp_stats *gs;
		struct vsteer_xdp_vm *vm;

		gs = bpf_map_lookup_elem(&xdp_stats, &zero);
		if (gs)
			gs->meta_fallback++;
		vsteer_xdp_parse_classify(ctx, &flow, &v);
		if (v.action != VSTEER_XDP_VM)
			return XDP_PASS;
		vm = bpf_map_lookup_elem(&xdp_vms, &v.vm);
		if (!vm || !vm->in_use)
			return XDP_PASS;
		vmid = v.vm;
		action = vm->action;
	}
	vs = bpf_map_lookup_elem(&xdp_vm_stats, &vmid);
	if (vs)
		vs->cpumap_delivered++;
	if (action == VSTEER_XDP_CPU) {
		int ret = bpf_redirect_map(&xdp_tap_devmap, vmid, XDP_PASS);

		/* The tap went away after the classifier looked: up the stack. */
		if (ret != XDP_REDIRECT && vs)
			vs->by_action.redirect_error++;
		return ret;
	}
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";

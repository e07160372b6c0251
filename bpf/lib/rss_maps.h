/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The map types of the tun steering ABI (rss_abi.h), declared once: the tun
 * steering program instantiates them (steering_maps.h) and the XDP classifier
 * uses the first three as the inner-map templates of its per-VM policy slots
 * (xdp_maps.h), which then hold the tap's own pinned maps. The first three
 * keep QEMU's ebpf-rss-fds layout and flags exactly.
 */
#ifndef VSTEER_BPF_RSS_MAPS_H
#define VSTEER_BPF_RSS_MAPS_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include "rss_abi.h"

struct vsteer_config_map {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct vsteer_rss_config);
};

struct vsteer_key_map {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct vsteer_toeplitz_key);
};

struct vsteer_table_map {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, VSTEER_MAX_TABLE_LEN);
	__type(key, __u32);
	__type(value, __u16);
};

/* The per-CPU Toeplitz lookup tables of one key, two halves (toeplitz_table.h). */
struct vsteer_toeplitz_cache_map {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, struct vsteer_toeplitz_cache);
};

/*
 * libbpf sizes an inner-map template from its BTF value type, and clang emits a
 * type that only an inner-map template refers to as a bare forward declaration.
 * This function (never called, so never loaded) makes both value types
 * complete in every object that includes this header.
 */
__u32 vsteer_rss_maps_btf(const struct vsteer_rss_config *c, const struct vsteer_toeplitz_key *k)
{
	return c && k;
}

#endif /* VSTEER_BPF_RSS_MAPS_H */

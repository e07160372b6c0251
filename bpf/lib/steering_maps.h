/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The maps of the tun steering program (rss_abi.h has the layouts). The first
 * three are QEMU's ebpf-rss-fds maps (rss_maps.h); programs that share a
 * guest's policy (the XDP classifier) reuse the pinned maps by path.
 */
#ifndef VSTEER_BPF_STEERING_MAPS_H
#define VSTEER_BPF_STEERING_MAPS_H

#include "rss_maps.h"

struct vsteer_config_map config SEC(".maps");
struct vsteer_key_map toeplitz_key SEC(".maps");
struct vsteer_table_map indirection_table SEC(".maps");

struct vsteer_toeplitz_cache_map toeplitz_cache SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct vsteer_stats);
} stats SEC(".maps");

/* Loader bookkeeping, never read by the program; pinned with the others. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct vsteer_meta);
} meta SEC(".maps");

#endif /* VSTEER_BPF_STEERING_MAPS_H */

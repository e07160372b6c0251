/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The maps of the tun steering program. The first three keep QEMU's
 * ebpf-rss-fds layout and flags exactly (see vsteer_abi.h); programs that share
 * a guest's policy (the XDP classifier) include this header and reuse the
 * pinned maps by path.
 */
#ifndef VSTEER_BPF_STEERING_MAPS_H
#define VSTEER_BPF_STEERING_MAPS_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include "vsteer_abi.h"

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct vsteer_rss_config);
} config SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct vsteer_toeplitz_key);
} toeplitz_key SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, VSTEER_MAX_TABLE_LEN);
	__type(key, __u32);
	__type(value, __u16);
} indirection_table SEC(".maps");

/* Per-CPU Toeplitz lookup tables, two halves (see toeplitz.h). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, struct vsteer_toeplitz_cache);
} toeplitz_cache SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct vsteer_stats);
} stats SEC(".maps");

#endif /* VSTEER_BPF_STEERING_MAPS_H */

/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Maps of the XDP classifier (xdp_classify.bpf.c) and the tc east-west program
 * (tc_eastwest.bpf.c). Every map is pinned by name under the XDP pin directory
 * (libbpf pin_root_path, default VSTEER_XDP_PIN_ROOT), so both programs, every
 * attached NIC and every upgrade share one set of maps.
 *
 * Per-VM RSS policy: xdp_vm_config / xdp_vm_key / xdp_vm_table are
 * ARRAY_OF_MAPS whose slot `VM id` holds the tap's own pinned config,
 * toeplitz_key and indirection_table maps (the ones QEMU writes through mmap),
 * so a guest reconfiguration is seen by the next packet. The inner map
 * templates below must stay identical to steering_maps.h (type, sizes, flags).
 *
 * A program that needs only part of the maps defines VSTEER_XDP_MAPS_EASTWEST
 * before including this header.
 */
#ifndef VSTEER_BPF_XDP_MAPS_H
#define VSTEER_BPF_XDP_MAPS_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include "vsteer_abi.h"

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, VSTEER_XDP_MAX_VMS);
	__type(key, __u32);
	__type(value, struct vsteer_xdp_vm);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} xdp_vms SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, VSTEER_XDP_MAX_MACS);
	__type(key, struct vsteer_xdp_mac_key);
	__type(value, __u32);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} xdp_macs SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, VSTEER_XDP_MAX_PREFIXES);
	__type(key, struct vsteer_xdp_lpm4);
	__type(value, __u32);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} xdp_prefix4 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, VSTEER_XDP_MAX_PREFIXES);
	__type(key, struct vsteer_xdp_lpm6);
	__type(value, __u32);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} xdp_prefix6 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, VSTEER_XDP_MAX_VMS);
	__type(key, __u32);
	__type(value, struct vsteer_xdp_vm_stats);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} xdp_vm_stats SEC(".maps");

#ifndef VSTEER_XDP_MAPS_EASTWEST

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, VSTEER_XDP_MAX_RULES);
	__type(key, struct vsteer_xdp_rule_key);
	__type(value, struct vsteer_xdp_rule);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} xdp_rules SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, VSTEER_XDP_MAX_VMS);
	__type(key, __u32);
	__type(value, struct vsteer_xdp_rate_state);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} xdp_rate SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_DEVMAP);
	/* The kernel adds BPF_F_RDONLY_PROG to devmaps, so libbpf's own pin reuse
	 * check fails on it: the loader reuses the pins itself (xdp_objects.cpp). */
	__uint(max_entries, VSTEER_XDP_MAX_VMS);
	__type(key, __u32);
	__type(value, struct bpf_devmap_val);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} xdp_tap_devmap SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_CPUMAP);
	__uint(max_entries, VSTEER_XDP_MAX_CPUS); /* the loader sets it to the possible CPUs */
	__type(key, __u32);
	__type(value, struct bpf_cpumap_val);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} xdp_cpumap SEC(".maps");

/* Inner map templates: the tap's maps (steering_maps.h). */
struct vsteer_xdp_inner_config {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, 1);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(struct vsteer_rss_config)); /* packed, 10 bytes */
};
struct vsteer_xdp_inner_key {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, 1);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(struct vsteer_toeplitz_key));
};
struct vsteer_xdp_inner_table {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, VSTEER_MAX_TABLE_LEN);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(__u16));
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, VSTEER_XDP_MAX_VMS);
	__type(key, __u32);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
	__array(values, struct vsteer_xdp_inner_config);
} xdp_vm_config SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, VSTEER_XDP_MAX_VMS);
	__type(key, __u32);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
	__array(values, struct vsteer_xdp_inner_key);
} xdp_vm_key SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, VSTEER_XDP_MAX_VMS);
	__type(key, __u32);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
	__array(values, struct vsteer_xdp_inner_table);
} xdp_vm_table SEC(".maps");

/* Per-CPU Toeplitz tables of each VM's key: entries 2*vm and 2*vm+1 (toeplitz.h).
 * The classifier's own (not the tap's toeplitz_cache), so the tun steering
 * program, which may run in process context on the same CPU, never interleaves
 * a rebuild with the classifier's. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 2 * VSTEER_XDP_MAX_VMS);
	__type(key, __u32);
	__type(value, struct vsteer_toeplitz_cache);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} xdp_toeplitz_cache SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, VSTEER_XDP_MAX_RULES);
	__type(key, __u32);
	__type(value, struct vsteer_xdp_rule_stats);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} xdp_rule_stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct vsteer_xdp_stats);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} xdp_stats SEC(".maps");

#endif /* !VSTEER_XDP_MAPS_EASTWEST */

#endif /* VSTEER_BPF_XDP_MAPS_H */

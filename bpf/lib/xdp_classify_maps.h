/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The XDP classifier's own maps (xdp_classify.bpf.c), pinned by name beside
 * the shared ones (xdp_maps.h).
 *
 * Per-VM RSS policy: xdp_vm_config / xdp_vm_key / xdp_vm_table are
 * ARRAY_OF_MAPS whose slot `VM id` holds the tap's own pinned config,
 * toeplitz_key and indirection_table maps (the ones QEMU writes through mmap),
 * so a guest reconfiguration is seen by the next packet; their inner-map
 * templates are the tap maps' own types (rss_maps.h).
 */
#ifndef VSTEER_BPF_XDP_CLASSIFY_MAPS_H
#define VSTEER_BPF_XDP_CLASSIFY_MAPS_H

#include "xdp_maps.h"
#include "rss_maps.h"

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

/* The prefilter (xdp_abi.h), rebuilt by userspace from the four maps above. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct vsteer_xdp_filter);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} xdp_filter SEC(".maps");

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

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, VSTEER_XDP_MAX_VMS);
	__type(key, __u32);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
	__array(values, struct vsteer_config_map);
} xdp_vm_config SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, VSTEER_XDP_MAX_VMS);
	__type(key, __u32);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
	__array(values, struct vsteer_key_map);
} xdp_vm_key SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, VSTEER_XDP_MAX_VMS);
	__type(key, __u32);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
	__array(values, struct vsteer_table_map);
} xdp_vm_table SEC(".maps");

/* Per-CPU Toeplitz tables of each VM's key: entries 2*vm and 2*vm+1 (toeplitz_table.h).
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

#endif /* VSTEER_BPF_XDP_CLASSIFY_MAPS_H */

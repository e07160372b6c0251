/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The maps the XDP classifier (xdp_classify.bpf.c) shares with the tc
 * east-west program (tc_eastwest.bpf.c); the classifier's own are in
 * xdp_classify_maps.h. Every map is pinned by name under the XDP pin directory
 * (libbpf pin_root_path, default VSTEER_XDP_PIN_ROOT), so both programs, every
 * attached NIC and every upgrade share one set of maps. An object holds every
 * map its headers declare, used or not, hence the two headers.
 */
#ifndef VSTEER_BPF_XDP_MAPS_H
#define VSTEER_BPF_XDP_MAPS_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include "xdp_abi.h"

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
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, VSTEER_XDP_MAX_VMS);
	__type(key, __u32);
	__type(value, struct vsteer_xdp_vm_stats);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} xdp_vm_stats SEC(".maps");

#endif /* VSTEER_BPF_XDP_MAPS_H */

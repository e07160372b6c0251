/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Rebuild of the per-CPU Toeplitz tables (toeplitz.h layout and semantics:
 * same vsteer_toeplitz_cache, same `built`/`key` check, hashed with
 * vsteer_toeplitz_hash) in a form the verifier accepts inside the XDP
 * classifier: one bpf_loop iteration per table entry (36 x 256), each computed
 * branch-free, so the callback is verified once in a few dozen instructions
 * instead of walking 256 unrolled byte values per row.
 */
#ifndef VSTEER_BPF_XDP_TOEPLITZ_H
#define VSTEER_BPF_XDP_TOEPLITZ_H

#include "vsteer_abi.h"
#include "toeplitz.h"

#define VSTEER_XDP_TOEPLITZ_ENTRIES (VSTEER_MAX_HASH_INPUT * 256)

struct vsteer_xdp_toeplitz_build {
	__u8 key[VSTEER_KEY_SIZE]; /* the key the table is built from, byte order */
	struct vsteer_toeplitz_cache *half[2];
};

static long vsteer_xdp_toeplitz_build_entry(__u64 i, void *data)
{
	struct vsteer_xdp_toeplitz_build *b = data;
	struct vsteer_toeplitz_cache *c;
	__u32 pos = (__u32)(i >> 8), v = (__u32)(i & 0xff), word, h = 0, row;
	__u8 next;

	if (pos >= VSTEER_MAX_HASH_INPUT)
		return 1;
	c = b->half[pos >= VSTEER_TOEPLITZ_HALF];
	if (!c)
		return 1;
	row = pos >= VSTEER_TOEPLITZ_HALF ? pos - VSTEER_TOEPLITZ_HALF : pos;
	if (row >= VSTEER_TOEPLITZ_HALF)
		return 1;
	word = (__u32)b->key[pos] << 24 | (__u32)b->key[pos + 1] << 16 | (__u32)b->key[pos + 2] << 8 |
	       b->key[pos + 3];
	next = b->key[pos + 4];
#pragma unroll
	for (int bit = 0; bit < 8; bit++) {
		__u32 k = bit ? (word << bit | (__u32)next >> (8 - bit)) : word;

		h ^= k & -((v >> (7 - bit)) & 1);
	}
	c->table[row][v] = h;
	return 0;
}

/*
 * Makes this CPU's table match the live key: 1 rebuilt, 0 current, -1 failed.
 * The live key is copied into the cache first and the table is built from that
 * copy, so a key rewritten meanwhile (QEMU, through mmap) is a mismatch on the
 * next packet, never a table trusted for a key it was not built from.
 */
static __always_inline int vsteer_xdp_toeplitz_refresh(struct vsteer_toeplitz_cache *lo,
                                                       struct vsteer_toeplitz_cache *hi,
                                                       const struct vsteer_toeplitz_key *live)
{
	struct vsteer_xdp_toeplitz_build b = {};
	const struct vsteer_toeplitz_key *key = &lo->key;
	__u32 first;

	if (lo->built && vsteer_key_equal(&lo->key, live))
		return 0;
	lo->built = 0;
	__builtin_memcpy(&lo->key, live, sizeof(lo->key));
	first = key->leftmost_32_bits;
	b.key[0] = first >> 24;
	b.key[1] = first >> 16;
	b.key[2] = first >> 8;
	b.key[3] = first;
	__builtin_memcpy(&b.key[4], key->next_byte, VSTEER_KEY_NEXT_BYTES);
	b.half[0] = lo;
	b.half[1] = hi;
	if (bpf_loop(VSTEER_XDP_TOEPLITZ_ENTRIES, vsteer_xdp_toeplitz_build_entry, &b, 0) !=
	    VSTEER_XDP_TOEPLITZ_ENTRIES)
		return -1;
	lo->built = 1;
	return 1;
}

#endif /* VSTEER_BPF_XDP_TOEPLITZ_H */

/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Table-driven Toeplitz hash, shared by the tun steering program and the XDP
 * classifier. The key lives in a QEMU-layout key map, which QEMU may rewrite
 * through mmap at any moment; each CPU keeps its own lookup table (struct
 * vsteer_toeplitz_cache, two map entries: positions 0..17 and 18..35) with
 * the key it was built from, compares that key with the live one on every
 * packet and rebuilds on mismatch, so no packet is hashed with a stale table.
 *
 * table[pos][v] = XOR of K(8*pos + b) for every bit b (MSB first) set in the
 * byte value v, where K(i) is the 32 key bits starting at key bit i. The hash
 * of an input is the XOR of table[pos][input[pos]] over its bytes: 36 loads
 * instead of the 288 conditional shifts of a bit-serial Toeplitz.
 *
 * A row is built by doubling: table[pos][0] = 0, and for each bit m of the
 * byte value, table[pos][m + v] = table[pos][v] ^ K(bit of m) for v < m, one
 * XOR per entry (255 per row) instead of one per set bit (1024 per row).
 * Rows are built only as far as inputs need them: 12 positions cover every
 * IPv4 input, so IPv4-only traffic never builds the other 24.
 */
#ifndef VSTEER_BPF_TOEPLITZ_TABLE_H
#define VSTEER_BPF_TOEPLITZ_TABLE_H

#include <bpf/bpf_helpers.h>
#include "rss_abi.h"

#define VSTEER_TOEPLITZ_IPV4_POSITIONS 12 /* longest IPv4 input: addresses + ports */

struct vsteer_toeplitz_build {
	__u8 key[VSTEER_KEY_SIZE]; /* the key being built from, in byte order */
	__u32 first;               /* first position of this build */
	struct vsteer_toeplitz_cache *half[2];
};

/* Builds table row `first + i` (one bpf_loop iteration), straight-line code. */
static long vsteer_toeplitz_build_row(__u64 i, void *data)
{
	struct vsteer_toeplitz_build *b = data;
	struct vsteer_toeplitz_cache *c;
	__u32 pos = b->first + (__u32)i, row, word, *t;
	__u8 next;

	if (pos >= VSTEER_MAX_HASH_INPUT)
		return 1;
	c = b->half[pos >= VSTEER_TOEPLITZ_HALF];
	if (!c)
		return 1;
	row = pos >= VSTEER_TOEPLITZ_HALF ? pos - VSTEER_TOEPLITZ_HALF : pos;
	if (row >= VSTEER_TOEPLITZ_HALF)
		return 1;
	t = c->table[row];
	word = (__u32)b->key[pos] << 24 | (__u32)b->key[pos + 1] << 16 | (__u32)b->key[pos + 2] << 8 |
	       b->key[pos + 3];
	next = b->key[pos + 4];

	t[0] = 0;
#pragma unroll
	for (int j = 0; j < 8; j++) { /* value bit 1 << j is key bit offset 7 - j */
		const int off = 7 - j, m = 1 << j;
		__u32 k = off ? (word << off | (__u32)next >> (8 - off)) : word;

#pragma unroll
		for (int v = 0; v < m; v++)
			t[m + v] = t[v] ^ k;
	}
	return 0;
}

static __always_inline int vsteer_key_equal(const struct vsteer_toeplitz_key *a,
                                            const struct vsteer_toeplitz_key *b)
{
	const __u64 *x = (const __u64 *)a, *y = (const __u64 *)b;

	return x[0] == y[0] && x[1] == y[1] && x[2] == y[2] && x[3] == y[3] && x[4] == y[4];
}

/*
 * Makes this CPU's table cover positions 0..need-1 (need: the input length,
 * 8..36) for the live key. Returns 1 if the table was rebuilt from scratch (a
 * new key), 0 if it was current or only extended, -1 if the build failed.
 *
 * The live key is copied into the cache first and the table is built from
 * that copy: should QEMU rewrite the key meanwhile (a torn copy included), the
 * next packet sees a mismatch and rebuilds, instead of trusting a table built
 * from a key it does not record. A later extension builds from the same copy.
 */
static __always_inline int vsteer_toeplitz_refresh(struct vsteer_toeplitz_cache *lo,
                                                   struct vsteer_toeplitz_cache *hi,
                                                   const struct vsteer_toeplitz_key *live, __u32 need)
{
	struct vsteer_toeplitz_build b;
	__u32 first, built = lo->built, word;
	int fresh = 0;

	need =
	    need <= VSTEER_TOEPLITZ_IPV4_POSITIONS ? VSTEER_TOEPLITZ_IPV4_POSITIONS : VSTEER_MAX_HASH_INPUT;
	if (built && vsteer_key_equal(&lo->key, live)) {
		if (built >= need)
			return 0;
		first = built;
	} else {
		lo->built = 0;
		__builtin_memcpy(&lo->key, live, sizeof(lo->key));
		first = 0;
		fresh = 1;
	}
	/* The key map holds the first 4 key bytes as one host-order word. */
	word = lo->key.leftmost_32_bits;
	b.key[0] = word >> 24;
	b.key[1] = word >> 16;
	b.key[2] = word >> 8;
	b.key[3] = word;
	__builtin_memcpy(&b.key[4], lo->key.next_byte, VSTEER_KEY_NEXT_BYTES);
	b.first = first;
	b.half[0] = lo;
	b.half[1] = hi;
	if (first >= need || bpf_loop(need - first, vsteer_toeplitz_build_row, &b, 0) != (long)(need - first))
		return -1;
	lo->built = need;
	return fresh;
}

/* The hash of in[0..len-1] (len 8, 12, 32 or 36) from a table that covers len. */
static __always_inline __u32 vsteer_toeplitz_hash(const struct vsteer_toeplitz_cache *lo,
                                                  const struct vsteer_toeplitz_cache *hi, const __u8 *in,
                                                  __u32 len)
{
	__u32 h = 0;

#pragma unroll
	for (int i = 0; i < 8; i++) /* every input has at least 8 bytes */
		h ^= lo->table[i][in[i]];
	if (len == 8)
		return h;
#pragma unroll
	for (int i = 8; i < 12; i++)
		h ^= lo->table[i][in[i]];
	if (len == 12)
		return h;
#pragma unroll
	for (int i = 12; i < VSTEER_TOEPLITZ_HALF; i++)
		h ^= lo->table[i][in[i]];
#pragma unroll
	for (int i = VSTEER_TOEPLITZ_HALF; i < 32; i++)
		h ^= hi->table[i - VSTEER_TOEPLITZ_HALF][in[i]];
	if (len == 32)
		return h;
#pragma unroll
	for (int i = 32; i < VSTEER_MAX_HASH_INPUT; i++)
		h ^= hi->table[i - VSTEER_TOEPLITZ_HALF][in[i]];
	return h;
}

#endif /* VSTEER_BPF_TOEPLITZ_TABLE_H */

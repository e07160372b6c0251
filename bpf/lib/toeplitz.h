/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Table-driven Toeplitz hash. The key lives in the QEMU-layout key map, which
 * QEMU may rewrite through mmap at any moment; each CPU keeps its own lookup
 * table (the per-CPU `toeplitz_cache` map) together with the key it was built
 * from, compares that key with the live one on every packet and rebuilds on
 * mismatch, so no packet is ever hashed with a stale table.
 *
 * table[pos][v] = XOR of the 32 key bits starting at bit 8*pos + b, for every
 * bit b (MSB first) set in the byte value v. The hash of an input is then the
 * XOR of table[pos][input[pos]] over the input bytes: 36 loads instead of the
 * 288 conditional shifts of a bit-serial Toeplitz.
 */
#ifndef VSTEER_BPF_TOEPLITZ_H
#define VSTEER_BPF_TOEPLITZ_H

#include "vsteer_abi.h"
#include "rss_select.h"

struct vsteer_toeplitz_build {
	__u8 key[VSTEER_KEY_SIZE];
	struct vsteer_toeplitz_cache *half[2];
};

/* Builds table row `pos` (one bpf_loop iteration). */
static long vsteer_toeplitz_build_row(__u64 pos, void *data)
{
	struct vsteer_toeplitz_build *b = data;
	struct vsteer_toeplitz_cache *c;
	__u32 bitkey[8], word, row;
	__u8 next;

	if (pos >= VSTEER_MAX_HASH_INPUT)
		return 1;
	c = b->half[pos / VSTEER_TOEPLITZ_HALF];
	if (!c)
		return 1;
	row = pos % VSTEER_TOEPLITZ_HALF;
	if (row >= VSTEER_TOEPLITZ_HALF)
		return 1;

	word = (__u32)b->key[pos] << 24 | (__u32)b->key[pos + 1] << 16 | (__u32)b->key[pos + 2] << 8 |
	       b->key[pos + 3];
	next = b->key[pos + 4];
	bitkey[0] = word;
#pragma unroll
	for (int bit = 1; bit < 8; bit++)
		bitkey[bit] = word << bit | next >> (8 - bit);

	for (__u32 v = 0; v < 256; v++) {
		__u32 h = 0;

#pragma unroll
		for (int bit = 0; bit < 8; bit++)
			if (v & (0x80 >> bit))
				h ^= bitkey[bit];
		c->table[row][v] = h;
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
 * Makes this CPU's table match `key`. Returns 1 if it was rebuilt, 0 if it was
 * current, -1 if the cache map is unusable.
 */
/*
 * Makes this CPU's table match the live key. Returns 1 if it was rebuilt, 0 if
 * it was current, -1 if the rebuild failed.
 *
 * The table is built from one snapshot of the live key and that same snapshot is
 * recorded: should QEMU rewrite the key meanwhile, the next packet sees a
 * mismatch and rebuilds, instead of trusting a table built from an older key.
 */
static __always_inline int vsteer_toeplitz_refresh(struct vsteer_toeplitz_cache *lo,
                                                   struct vsteer_toeplitz_cache *hi,
                                                   const struct vsteer_toeplitz_key *live)
{
	struct vsteer_toeplitz_build b = {};
	__u32 first;

	if (lo->built && vsteer_key_equal(&lo->key, live))
		return 0;

	/* One read each (volatile): the compiler must not read the live map twice. */
	first = *(volatile const __u32 *)&live->leftmost_32_bits;
	__builtin_memcpy(&b.key[4], live->next_byte, VSTEER_KEY_NEXT_BYTES);
	/* The key map holds the first 4 key bytes as one host-order word. */
	b.key[0] = first >> 24;
	b.key[1] = first >> 16;
	b.key[2] = first >> 8;
	b.key[3] = first;
	b.half[0] = lo;
	b.half[1] = hi;
	lo->built = 0;
	if (bpf_loop(VSTEER_MAX_HASH_INPUT, vsteer_toeplitz_build_row, &b, 0) != VSTEER_MAX_HASH_INPUT)
		return -1;
	lo->key.leftmost_32_bits = first;
	__builtin_memcpy(lo->key.next_byte, &b.key[4], VSTEER_KEY_NEXT_BYTES);
	lo->built = 1;
	return 1;
}

static __always_inline __u32 vsteer_toeplitz_hash(const struct vsteer_toeplitz_cache *lo,
                                                  const struct vsteer_toeplitz_cache *hi,
                                                  const struct vsteer_hash_input *in)
{
	__u32 h = 0;

#pragma unroll
	for (int i = 0; i < 8; i++) /* every input has at least 8 bytes */
		h ^= lo->table[i][in->bytes[i]];
	if (in->len == 8)
		return h;
#pragma unroll
	for (int i = 8; i < 12; i++)
		h ^= lo->table[i][in->bytes[i]];
	if (in->len == 12)
		return h;
#pragma unroll
	for (int i = 12; i < VSTEER_TOEPLITZ_HALF; i++)
		h ^= lo->table[i][in->bytes[i]];
#pragma unroll
	for (int i = VSTEER_TOEPLITZ_HALF; i < 32; i++)
		h ^= hi->table[i - VSTEER_TOEPLITZ_HALF][in->bytes[i]];
	if (in->len == 32)
		return h;
#pragma unroll
	for (int i = 32; i < VSTEER_MAX_HASH_INPUT; i++)
		h ^= hi->table[i - VSTEER_TOEPLITZ_HALF][in->bytes[i]];
	return h;
}

#endif /* VSTEER_BPF_TOEPLITZ_H */

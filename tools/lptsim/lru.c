/*
 * lru.c - fully associative LRU tag cache and a u64->u64 hash map for the
 * lptsim models (see lru.h).  The caches are tiny (the hardware structures
 * they model hold 2..64 entries), so a linear search with use stamps is both
 * the simplest and an exact LRU.
 */
#include "lru.h"

#include <stdlib.h>
#include <string.h>

#include "lptsim.h"

void lptsim_lru_init(struct lptsim_lru *c, unsigned int size)
{
	memset(c, 0, sizeof(*c));
	c->size = size;
	c->tags = lptsim_xrealloc(NULL, size ? size : 1, sizeof(uint64_t));
	c->stamps = lptsim_xrealloc(NULL, size ? size : 1, sizeof(uint64_t));
}

void lptsim_lru_free(struct lptsim_lru *c)
{
	free(c->tags);
	free(c->stamps);
	memset(c, 0, sizeof(*c));
}

int lptsim_lru_probe(struct lptsim_lru *c, uint64_t tag)
{
	c->lookups++;
	for (unsigned int i = 0; i < c->used; i++) {
		if (c->tags[i] == tag) {
			c->stamps[i] = ++c->clock;
			c->hits++;
			return 1;
		}
	}
	return 0;
}

void lptsim_lru_fill(struct lptsim_lru *c, uint64_t tag)
{
	unsigned int victim = 0;

	if (!c->size)
		return;
	for (unsigned int i = 0; i < c->used; i++)
		if (c->tags[i] == tag)
			return;
	if (c->used < c->size) {
		victim = c->used++;
	} else {
		for (unsigned int i = 1; i < c->used; i++)
			if (c->stamps[i] < c->stamps[victim])
				victim = i;
	}
	c->tags[victim] = tag;
	c->stamps[victim] = ++c->clock;
}

int lptsim_lru_access(struct lptsim_lru *c, uint64_t tag)
{
	if (lptsim_lru_probe(c, tag))
		return 1;
	lptsim_lru_fill(c, tag);
	return 0;
}

uint64_t lptsim_hash64(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdull;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ull;
	x ^= x >> 33;
	return x;
}

void lptsim_u64map_init(struct lptsim_u64map *m)
{
	memset(m, 0, sizeof(*m));
}

void lptsim_u64map_free(struct lptsim_u64map *m)
{
	free(m->keys);
	free(m->vals);
	free(m->used);
	memset(m, 0, sizeof(*m));
}

uint64_t *lptsim_u64map_find(const struct lptsim_u64map *m, uint64_t key)
{
	if (!m->cap)
		return NULL;
	for (uint64_t i = lptsim_hash64(key) & (m->cap - 1);; i = (i + 1) & (m->cap - 1)) {
		if (!m->used[i])
			return NULL;
		if (m->keys[i] == key)
			return &m->vals[i];
	}
}

static void u64map_grow(struct lptsim_u64map *m)
{
	struct lptsim_u64map old = *m;

	m->cap = old.cap ? old.cap * 2 : 64;
	m->count = 0;
	m->keys = lptsim_xrealloc(NULL, m->cap, sizeof(uint64_t));
	m->vals = lptsim_xrealloc(NULL, m->cap, sizeof(uint64_t));
	m->used = calloc(m->cap, 1);
	if (!m->used) {
		fprintf(stderr, "lptsim: out of memory\n");
		exit(2);
	}
	for (uint64_t i = 0; i < old.cap; i++)
		if (old.used[i])
			*lptsim_u64map_get(m, old.keys[i]) = old.vals[i];
	lptsim_u64map_free(&old);
}

uint64_t *lptsim_u64map_get(struct lptsim_u64map *m, uint64_t key)
{
	uint64_t *val = lptsim_u64map_find(m, key);
	uint64_t i;

	if (val)
		return val;
	/* Keep the load under one half so probe chains stay short. */
	if ((m->count + 1) * 2 > m->cap)
		u64map_grow(m);
	for (i = lptsim_hash64(key) & (m->cap - 1); m->used[i]; i = (i + 1) & (m->cap - 1))
		;
	m->used[i] = 1;
	m->keys[i] = key;
	m->vals[i] = 0;
	m->count++;
	return &m->vals[i];
}

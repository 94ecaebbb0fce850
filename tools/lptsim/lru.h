/*
 * lru.h - the two small containers the page-table models share: a fully
 * associative LRU cache of 64-bit tags (page-walk caches, cuckoo-walk caches)
 * and an open-addressing hash map from 64-bit keys to 64-bit values (counting
 * distinct radix table pages, per-region page-size masks).
 */
#ifndef LPTSIM_LRU_H
#define LPTSIM_LRU_H

#include <stdint.h>

/* Largest cache lptsim models; linear search stays cheap at this size. */
#define LPTSIM_LRU_MAX 1024

struct lptsim_lru {
	unsigned int size, used;
	uint64_t clock;
	uint64_t *tags;
	uint64_t *stamps;     /* last use, for LRU replacement */
	uint64_t lookups, hits;
};

void lptsim_lru_init(struct lptsim_lru *c, unsigned int size);
void lptsim_lru_free(struct lptsim_lru *c);
/* Look tag up, count the lookup; on a miss insert it (evicting the LRU tag). */
int lptsim_lru_access(struct lptsim_lru *c, uint64_t tag);
/* Look up without filling: for walks whose result decides whether to fill. */
int lptsim_lru_probe(struct lptsim_lru *c, uint64_t tag);
void lptsim_lru_fill(struct lptsim_lru *c, uint64_t tag);

struct lptsim_u64map {
	uint64_t *keys, *vals;
	uint8_t *used;
	uint64_t cap, count;
};

void lptsim_u64map_init(struct lptsim_u64map *m);
void lptsim_u64map_free(struct lptsim_u64map *m);
/* Pointer to the value for key, inserted as 0 when absent. */
uint64_t *lptsim_u64map_get(struct lptsim_u64map *m, uint64_t key);
/* Value for key or NULL, without inserting. */
uint64_t *lptsim_u64map_find(const struct lptsim_u64map *m, uint64_t key);

uint64_t lptsim_hash64(uint64_t x);

#endif /* LPTSIM_LRU_H */

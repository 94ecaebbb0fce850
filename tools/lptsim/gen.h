/*
 * gen.h - the synthetic snapshot generators of lptsim (see gen.c): named
 * layouts (dense-heap, sparse-mmap, aslr-libs, random) built from a seed and
 * a page budget, so every figure from a generated snapshot is reproducible.
 */
#ifndef LPTSIM_GEN_H
#define LPTSIM_GEN_H

#include "lptsim.h"

/* 16M pages (64 GiB of 4K pages) keeps a generated run within memory and minutes. */
#define LPTSIM_GEN_MAX_PAGES (16ull << 20)

const char *lptsim_gen_names(void);
int lptsim_generate(struct lptsim_snapshot *snap, const char *kind, uint64_t seed,
		    uint64_t pages, unsigned int thp_percent, struct lptsim_err *err);

#endif /* LPTSIM_GEN_H */

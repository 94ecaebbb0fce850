/*
 * lptsim.h - the one header shared by every part of lptsim, the simulator that
 * compares a learned page table (through lib/lpt), a 4-level x86 radix table
 * with page-walk caches and an elastic cuckoo hashed page table on the same
 * address-space snapshot.  It holds the snapshot data model (mappings + VMAs),
 * the error type that carries "file:line: message" to main(), and the small
 * utilities (CRC-32, seeded RNG, progress reporting) the pieces share.  The
 * page-table models live behind their own headers (radix.h, ecpt.h, lptm.h).
 */
#ifndef LPTSIM_H
#define LPTSIM_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Page sizes as the 2-bit size field of the learned page table encodes them. */
enum lptsim_psize {
	LPTSIM_PS_4K = 0,
	LPTSIM_PS_2M = 1,
	LPTSIM_PS_1G = 2,
	LPTSIM_PS_COUNT = 3,
};

/* Number of 4 KiB pages covered by one page of each size. */
static inline uint64_t lptsim_psize_pages(unsigned int psize)
{
	return psize == LPTSIM_PS_1G ? (1ull << 18) :
	       psize == LPTSIM_PS_2M ? (1ull << 9) : 1;
}

/* Mapping flags, independent of any page-table entry encoding. */
#define LPTSIM_F_WRITE    0x01u
#define LPTSIM_F_USER     0x02u
#define LPTSIM_F_NX       0x04u
#define LPTSIM_F_ACCESSED 0x08u
#define LPTSIM_F_DIRTY    0x10u
#define LPTSIM_F_ALL      0x1fu

/* x86-64 user space with 4-level paging: 47-bit virtual addresses. */
#define LPTSIM_VA_BITS    47
#define LPTSIM_VPN_LIMIT  (1ull << (LPTSIM_VA_BITS - 12))
/* 52-bit physical addresses. */
#define LPTSIM_PFN_LIMIT  (1ull << 40)

/* One translation: a page of size psize at 4K-granular vpn (aligned to the size). */
struct lptsim_map {
	uint64_t vpn;   /* virtual address >> 12 */
	uint64_t pfn;   /* physical address >> 12, aligned like vpn */
	uint8_t psize;  /* enum lptsim_psize */
	uint8_t flags;  /* LPTSIM_F_* */
};

/* One VMA as /proc/PID/maps shows it. */
struct lptsim_vma {
	uint64_t start, end;   /* byte addresses, page aligned, start < end */
	char perms[5];         /* "rwxp" style, NUL terminated */
	char *name;            /* heap-allocated, "" for anonymous */
};

/* A process address space: mappings sorted by vpn, non-overlapping. */
struct lptsim_snapshot {
	char *source;                 /* free text: how it was made */
	struct lptsim_vma *vmas;
	size_t nvmas, vmas_cap;
	struct lptsim_map *maps;
	size_t nmaps, maps_cap;
};

/* Error text handed back to main(), which prints it and exits non-zero. */
struct lptsim_err {
	char msg[1024];
};

int lptsim_fail(struct lptsim_err *err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* snapshot.c */
void lptsim_snap_init(struct lptsim_snapshot *snap);
void lptsim_snap_free(struct lptsim_snapshot *snap);
int lptsim_snap_add_vma(struct lptsim_snapshot *snap, uint64_t start, uint64_t end,
			const char *perms, const char *name);
int lptsim_snap_add_map(struct lptsim_snapshot *snap, uint64_t vpn, uint64_t pfn,
			unsigned int psize, unsigned int flags);
void lptsim_snap_sort_vmas(struct lptsim_snapshot *snap);
void lptsim_snap_sort_maps(struct lptsim_snapshot *snap);
int lptsim_snap_finish(struct lptsim_snapshot *snap, const char *what,
		       struct lptsim_err *err);
int lptsim_snap_write(const struct lptsim_snapshot *snap, const char *path,
		      struct lptsim_err *err);
int lptsim_snap_read(struct lptsim_snapshot *snap, const char *path,
		     struct lptsim_err *err);
int lptsim_read_file(const char *path, char **data, size_t *len,
		     struct lptsim_err *err);
int lptsim_split(char *line, char **field, int max);
void lptsim_sanitize_line(char *dst, size_t cap, const char *src);
const char *lptsim_psize_name(unsigned int psize);
int lptsim_psize_parse(const char *text, unsigned int *psize);
unsigned int lptsim_perms_flags(const char *perms);
void lptsim_flags_format(unsigned int flags, char out[6]);
int lptsim_flags_parse(const char *text, unsigned int *flags);

/* util.c */
uint32_t lptsim_crc32(uint32_t crc, const void *buf, size_t len);
uint64_t lptsim_rand(uint64_t *state);
uint64_t lptsim_rand_below(uint64_t *state, uint64_t bound);
void *lptsim_xrealloc(void *ptr, size_t nmemb, size_t size);
char *lptsim_xstrdup(const char *s);
double lptsim_now(void);
int lptsim_parse_u64(const char *text, int base, uint64_t *out);
size_t lptsim_count_le(const void *base, size_t n, size_t elem_size, size_t key_offset,
		       uint64_t key);

/* Progress on stderr, silent for the first two seconds of a run. */
struct lptsim_progress {
	double start, last;
	double after;      /* seconds of silence before the first line */
	const char *what;
	int quiet;
};
void lptsim_progress_start(struct lptsim_progress *p, const char *what, int quiet);
void lptsim_progress_tick(struct lptsim_progress *p, uint64_t done, uint64_t total);
void lptsim_progress_done(struct lptsim_progress *p);

/* Histogram of memory references per walk, for mean and p99. */
#define LPTSIM_REFS_MAX 64
struct lptsim_refstats {
	uint64_t hist[LPTSIM_REFS_MAX + 1];  /* last bucket collects >= MAX */
	uint64_t walks, refs;
};
void lptsim_refstats_add(struct lptsim_refstats *s, unsigned int refs);
double lptsim_refstats_mean(const struct lptsim_refstats *s);
unsigned int lptsim_refstats_pct(const struct lptsim_refstats *s, double pct);

#endif /* LPTSIM_H */

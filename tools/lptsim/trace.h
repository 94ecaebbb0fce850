/*
 * trace.h - mmap/munmap/fault event traces replayed on top of a snapshot
 * (format in docs/lptsim.md).  Parsing validates syntax with file:line
 * errors; replay validates semantics (a fault outside any VMA, an mmap over
 * an existing VMA) with the same line numbers, and tells the page-table
 * models about every translation added or removed so they can update
 * incrementally instead of being rebuilt.
 */
#ifndef LPTSIM_TRACE_H
#define LPTSIM_TRACE_H

#include "lptsim.h"

enum lptsim_event_kind {
	TRACE_MMAP,
	TRACE_MUNMAP,
	TRACE_ZAP,     /* unmap pages, keep VMAs (MADV_DONTNEED, reclaim) */
	TRACE_FAULT,
};

struct lptsim_event {
	enum lptsim_event_kind kind;
	unsigned long line;      /* in the trace file, for error messages */
	uint64_t start, end;     /* byte range for mmap/munmap/zap */
	uint64_t vpn, pfn;       /* fault; pfn UINT64_MAX = allocate one */
	unsigned int psize;
	char perms[5];
	char *name;
};

struct lptsim_trace {
	const char *path;
	struct lptsim_event *events;
	size_t nevents;
};

/* Callbacks a replay makes; ctx is the caller's. */
struct lptsim_replay_ops {
	void (*mapped)(void *ctx, const struct lptsim_map *map);
	void (*unmapped)(void *ctx, const struct lptsim_map *map);
};

struct lptsim_replay_stats {
	uint64_t mmaps, munmaps, zaps, faults, spurious_faults, pages_unmapped;
};

int lptsim_trace_read(struct lptsim_trace *trace, const char *path, struct lptsim_err *err);
void lptsim_trace_free(struct lptsim_trace *trace);
int lptsim_trace_replay(struct lptsim_snapshot *snap, const struct lptsim_trace *trace,
			const struct lptsim_replay_ops *ops, void *ctx,
			struct lptsim_replay_stats *stats, struct lptsim_err *err);

/*
 * Append to out the events that turn address space old into new: munmap of
 * VMA ranges that disappeared, mmap of ranges that appeared, zap of pages
 * that vanished or changed, fault of pages that appeared or changed.
 * Permission changes of surviving ranges are not expressible and are
 * ignored.  Returns the number of events written.
 */
uint64_t lptsim_trace_diff(FILE *out, const struct lptsim_snapshot *old,
			   const struct lptsim_snapshot *new_snap);

#endif /* LPTSIM_TRACE_H */

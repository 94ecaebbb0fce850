/*
 * trace.c - reading, replaying and producing mmap/munmap/zap/fault traces
 * (see trace.h).
 *
 * Replay must stay linear in the trace length: captured growth traces hold
 * tens of thousands of events.  So faults append to the mapping array, zaps
 * of short ranges mark their mappings dead (tombstones) through a lookup
 * index (u64 map from page base to slot), and only munmap, which also edits
 * VMAs, rescans the array; it is compacted and re-sorted once at the end.
 * The diff half turns two captures of one process into the events between
 * them, which is how "capture --trace-out" records growth.
 */
#include "trace.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "lru.h"

#define TRACE_MAGIC "lptsim-trace"
/* psize of a mapping removed by a zap but not yet compacted away. */
#define REPLAY_TOMBSTONE 0xff
#define TRACE_MAX_EVENTS (16u << 20)

void lptsim_trace_free(struct lptsim_trace *trace)
{
	for (size_t i = 0; i < trace->nevents; i++)
		free(trace->events[i].name);
	free(trace->events);
	memset(trace, 0, sizeof(*trace));
}

static int parse_event(struct lptsim_event *ev, char *line, const char *path,
		       unsigned long lineno, struct lptsim_err *err)
{
	char *f[6];
	int n = lptsim_split(line, f, 6);

	ev->line = lineno;
	if (n >= 4 && n <= 5 && !strcmp(f[0], "mmap")) {
		ev->kind = TRACE_MMAP;
		if (lptsim_parse_u64(f[1], 16, &ev->start) || lptsim_parse_u64(f[2], 16, &ev->end) ||
		    strlen(f[3]) != 4)
			goto bad;
		snprintf(ev->perms, sizeof(ev->perms), "%s", f[3]);
		ev->name = lptsim_xstrdup(n == 5 ? f[4] : "");
	} else if (n == 3 && (!strcmp(f[0], "munmap") || !strcmp(f[0], "zap"))) {
		ev->kind = f[0][0] == 'm' ? TRACE_MUNMAP : TRACE_ZAP;
		if (lptsim_parse_u64(f[1], 16, &ev->start) || lptsim_parse_u64(f[2], 16, &ev->end))
			goto bad;
	} else if (n >= 3 && n <= 4 && !strcmp(f[0], "fault")) {
		ev->kind = TRACE_FAULT;
		ev->pfn = UINT64_MAX;
		if (lptsim_parse_u64(f[1], 16, &ev->vpn) || lptsim_psize_parse(f[2], &ev->psize) ||
		    (n == 4 && strcmp(f[3], "auto") && lptsim_parse_u64(f[3], 16, &ev->pfn)))
			goto bad;
		if (ev->vpn >= LPTSIM_VPN_LIMIT || (ev->vpn & (lptsim_psize_pages(ev->psize) - 1)) ||
		    (ev->pfn != UINT64_MAX && (ev->pfn >= LPTSIM_PFN_LIMIT ||
					       (ev->pfn & (lptsim_psize_pages(ev->psize) - 1)))))
			return lptsim_fail(err, "%s:%lu: fault vpn/pfn out of range or not aligned to %s",
					   path, lineno, lptsim_psize_name(ev->psize));
		return 0;
	} else {
		return lptsim_fail(err, "%s:%lu: unknown or malformed event (expected mmap, munmap, zap, fault or end)",
				   path, lineno);
	}
	if (ev->start >= ev->end || (ev->start | ev->end) & 0xfff ||
	    ev->end > (LPTSIM_VPN_LIMIT << 12))
		return lptsim_fail(err, "%s:%lu: range %s-%s empty, unaligned or beyond 47 bits",
				   path, lineno, f[1], f[2]);
	return 0;
bad:
	return lptsim_fail(err, "%s:%lu: malformed %s event", path, lineno, f[0]);
}

int lptsim_trace_read(struct lptsim_trace *trace, const char *path, struct lptsim_err *err)
{
	char *data, *line, *next;
	size_t len, cap = 0;
	unsigned long lineno = 0;
	uint64_t declared, version;
	int ended = 0, rc = 0;

	memset(trace, 0, sizeof(*trace));
	trace->path = path;
	if (lptsim_read_file(path, &data, &len, err))
		return -1;
	if (memchr(data, '\0', len)) {
		free(data);
		return lptsim_fail(err, "%s: contains a NUL byte at offset %zu", path,
				   (size_t)((char *)memchr(data, '\0', len) - data));
	}
	if (len && data[len - 1] != '\n') {
		free(data);
		return lptsim_fail(err, "%s: does not end with a newline (truncated?)", path);
	}
	for (line = data; !rc && line < data + len; line = next) {
		char *f[4];

		next = strchr(line, '\n');
		*next++ = '\0';
		lineno++;
		if (ended) {
			rc = lptsim_fail(err, "%s:%lu: data after the end record", path, lineno);
			break;
		}
		if (lineno == 1) {
			if (lptsim_split(line, f, 3) != 2 || strcmp(f[0], TRACE_MAGIC) ||
			    lptsim_parse_u64(f[1], 10, &version) || version != 1)
				rc = lptsim_fail(err, "%s:1: not an lptsim trace version 1 (expected \"%s 1\")",
						 path, TRACE_MAGIC);
			continue;
		}
		if (line[0] == '#' || line[strspn(line, " \t")] == '\0')
			continue;
		if (!strncmp(line, "end", 3) && (line[3] == ' ' || !line[3])) {
			if (lptsim_split(line, f, 3) != 2 || lptsim_parse_u64(f[1], 10, &declared))
				rc = lptsim_fail(err, "%s:%lu: expected \"end <events>\"", path, lineno);
			else if (declared != trace->nevents)
				rc = lptsim_fail(err, "%s:%lu: end record says %llu events, file has %zu",
						 path, lineno, (unsigned long long)declared, trace->nevents);
			ended = 1;
			continue;
		}
		if (trace->nevents >= TRACE_MAX_EVENTS) {
			rc = lptsim_fail(err, "%s:%lu: more than %u events", path, lineno, TRACE_MAX_EVENTS);
			break;
		}
		if (trace->nevents == cap) {
			cap = cap ? 2 * cap : 256;
			trace->events = lptsim_xrealloc(trace->events, cap, sizeof(*trace->events));
		}
		memset(&trace->events[trace->nevents], 0, sizeof(*trace->events));
		rc = parse_event(&trace->events[trace->nevents], line, path, lineno, err);
		trace->nevents++;
	}
	if (!rc && lineno == 0)
		rc = lptsim_fail(err, "%s: empty file", path);
	if (!rc && !ended)
		rc = lptsim_fail(err, "%s:%lu: missing \"end <events>\" record (truncated?)", path, lineno);
	free(data);
	if (rc)
		lptsim_trace_free(trace);
	return rc;
}

/* ---- replay ---- */

struct replay {
	struct lptsim_snapshot *snap;
	const struct lptsim_replay_ops *ops;
	void *ctx;
	struct lptsim_u64map index;   /* page base vpn -> slot + 1 in snap->maps (0 = removed) */
	uint64_t next_pfn;
};

static void index_rebuild(struct replay *r)
{
	lptsim_u64map_free(&r->index);
	lptsim_u64map_init(&r->index);
	for (size_t i = 0; i < r->snap->nmaps; i++)
		*lptsim_u64map_get(&r->index, r->snap->maps[i].vpn) = i + 1;
}

/* Is any page of [vpn, vpn + pages) mapped?  Checks covering huge pages too. */
static int range_mapped(const struct replay *r, uint64_t vpn, uint64_t pages)
{
	uint64_t *slot;

	for (unsigned int s = LPTSIM_PS_2M; s < LPTSIM_PS_COUNT; s++) {
		uint64_t base = vpn & ~(lptsim_psize_pages(s) - 1);

		slot = lptsim_u64map_find(&r->index, base);
		if (slot && *slot && r->snap->maps[*slot - 1].psize == s)
			return 1;
	}
	for (uint64_t i = 0; i < pages; i++) {
		slot = lptsim_u64map_find(&r->index, vpn + i);
		if (slot && *slot)
			return 1;
	}
	return 0;
}

static const struct lptsim_vma *vma_covering(const struct lptsim_snapshot *snap,
					     uint64_t start, uint64_t end)
{
	/* VMAs are disjoint and sorted, so their ends are sorted too. */
	size_t n = lptsim_count_le(snap->vmas, snap->nvmas, sizeof(*snap->vmas),
				   offsetof(struct lptsim_vma, end), start);

	if (n < snap->nvmas && snap->vmas[n].start <= start && snap->vmas[n].end >= end)
		return &snap->vmas[n];
	return NULL;
}

static int do_mmap(struct replay *r, const struct lptsim_event *ev, const char *path,
		   struct lptsim_err *err)
{
	struct lptsim_snapshot *snap = r->snap;

	for (size_t i = 0; i < snap->nvmas; i++)
		if (snap->vmas[i].start < ev->end && ev->start < snap->vmas[i].end)
			return lptsim_fail(err, "%s:%lu: mmap %llx-%llx overlaps VMA %llx-%llx (munmap it first)",
					   path, ev->line, (unsigned long long)ev->start,
					   (unsigned long long)ev->end,
					   (unsigned long long)snap->vmas[i].start,
					   (unsigned long long)snap->vmas[i].end);
	if (lptsim_snap_add_vma(snap, ev->start, ev->end, ev->perms, ev->name))
		return lptsim_fail(err, "%s:%lu: too many VMAs", path, ev->line);
	lptsim_snap_sort_vmas(snap);
	return 0;
}

/* Remove one mapping found through the index; compaction happens later. */
static void unmap_slot(struct replay *r, uint64_t *index_slot,
		       struct lptsim_replay_stats *stats)
{
	struct lptsim_map *m = &r->snap->maps[*index_slot - 1];

	if (r->ops && r->ops->unmapped)
		r->ops->unmapped(r->ctx, m);
	stats->pages_unmapped++;
	m->psize = REPLAY_TOMBSTONE;
	*index_slot = 0;
}

/*
 * A zap of a short range (the common case: one page from a capture diff)
 * looks its pages up instead of scanning every mapping, which keeps replay
 * of long traces linear.  Returns 0 if the range is too long for that.
 */
static int zap_by_index(struct replay *r, const struct lptsim_event *ev,
			struct lptsim_replay_stats *stats)
{
	uint64_t first = ev->start >> 12, pages = (ev->end - ev->start) >> 12;
	uint64_t *slot;

	if (pages > 4096)
		return 0;
	/* Huge pages that start before the range but reach into it. */
	for (unsigned int s = LPTSIM_PS_2M; s < LPTSIM_PS_COUNT; s++) {
		slot = lptsim_u64map_find(&r->index, first & ~(lptsim_psize_pages(s) - 1));
		if (slot && *slot && r->snap->maps[*slot - 1].psize == s)
			unmap_slot(r, slot, stats);
	}
	for (uint64_t i = 0; i < pages; i++) {
		slot = lptsim_u64map_find(&r->index, first + i);
		if (slot && *slot)
			unmap_slot(r, slot, stats);
	}
	return 1;
}

/* Drop tombstones left by zap_by_index and re-index. */
static void compact(struct replay *r)
{
	size_t out = 0;

	for (size_t i = 0; i < r->snap->nmaps; i++)
		if (r->snap->maps[i].psize != REPLAY_TOMBSTONE)
			r->snap->maps[out++] = r->snap->maps[i];
	r->snap->nmaps = out;
	index_rebuild(r);
}

/*
 * Remove [start, end): drop mappings that touch the range and, for munmap
 * (not zap), trim or split the VMAs.
 */
static void do_munmap(struct replay *r, const struct lptsim_event *ev,
		      struct lptsim_replay_stats *stats)
{
	struct lptsim_snapshot *snap = r->snap;
	size_t out = 0, nvmas = ev->kind == TRACE_ZAP ? 0 : snap->nvmas;

	for (size_t i = 0; i < snap->nmaps; i++) {
		const struct lptsim_map *m = &snap->maps[i];
		uint64_t s, e;

		if (m->psize == REPLAY_TOMBSTONE)
			continue;
		s = m->vpn << 12;
		e = (m->vpn + lptsim_psize_pages(m->psize)) << 12;
		if (s < ev->end && ev->start < e) {
			/* A huge page partly unmapped goes entirely: Linux would split it. */
			if (r->ops && r->ops->unmapped)
				r->ops->unmapped(r->ctx, m);
			stats->pages_unmapped++;
			continue;
		}
		snap->maps[out++] = *m;
	}
	snap->nmaps = out;
	for (size_t i = 0; i < nvmas; i++) {
		struct lptsim_vma *vma = &snap->vmas[i];

		if (vma->end <= ev->start || ev->end <= vma->start)
			continue;
		if (vma->start < ev->start && vma->end > ev->end) {
			/* Split: keep the head here, append the tail (add may realloc). */
			uint64_t tail_end = vma->end;
			char perms[5], *name = lptsim_xstrdup(vma->name);

			memcpy(perms, vma->perms, sizeof(perms));
			vma->end = ev->start;
			lptsim_snap_add_vma(snap, ev->end, tail_end, perms, name);
			free(name);
		} else if (vma->start < ev->start) {
			vma->end = ev->start;
		} else if (vma->end > ev->end) {
			vma->start = ev->end;
		} else {
			vma->start = vma->end = 0;   /* fully covered: dropped below */
		}
	}
	out = 0;
	for (size_t i = 0; i < snap->nvmas; i++) {
		if (snap->vmas[i].start == snap->vmas[i].end) {
			free(snap->vmas[i].name);
			continue;
		}
		snap->vmas[out++] = snap->vmas[i];
	}
	snap->nvmas = out;
	lptsim_snap_sort_vmas(snap);
	index_rebuild(r);
}

static int do_fault(struct replay *r, const struct lptsim_event *ev, const char *path,
		    struct lptsim_replay_stats *stats, struct lptsim_err *err)
{
	uint64_t pages = lptsim_psize_pages(ev->psize);
	const struct lptsim_vma *vma = vma_covering(r->snap, ev->vpn << 12, (ev->vpn + pages) << 12);
	struct lptsim_map map;
	unsigned int flags;

	if (!vma)
		return lptsim_fail(err, "%s:%lu: fault at vpn %llx (%s) is not inside one VMA",
				   path, ev->line, (unsigned long long)ev->vpn,
				   lptsim_psize_name(ev->psize));
	if (range_mapped(r, ev->vpn, pages)) {
		stats->spurious_faults++;
		return 0;
	}
	/* A faulted writable page is taken as written. */
	flags = lptsim_perms_flags(vma->perms);
	if (flags & LPTSIM_F_WRITE)
		flags |= LPTSIM_F_DIRTY;
	map.vpn = ev->vpn;
	map.psize = (uint8_t)ev->psize;
	map.flags = (uint8_t)flags;
	if (ev->pfn != UINT64_MAX) {
		map.pfn = ev->pfn;
	} else {
		/* Synthetic frames above anything a snapshot uses, aligned to the size. */
		r->next_pfn = (r->next_pfn + pages - 1) & ~(pages - 1);
		map.pfn = r->next_pfn;
		r->next_pfn += pages;
		if (r->next_pfn >= LPTSIM_PFN_LIMIT)
			return lptsim_fail(err, "%s:%lu: out of synthetic frames", path, ev->line);
	}
	if (lptsim_snap_add_map(r->snap, map.vpn, map.pfn, map.psize, map.flags))
		return lptsim_fail(err, "%s:%lu: too many pages", path, ev->line);
	*lptsim_u64map_get(&r->index, map.vpn) = r->snap->nmaps;
	if (r->ops && r->ops->mapped)
		r->ops->mapped(r->ctx, &map);
	stats->faults++;
	return 0;
}

int lptsim_trace_replay(struct lptsim_snapshot *snap, const struct lptsim_trace *trace,
			const struct lptsim_replay_ops *ops, void *ctx,
			struct lptsim_replay_stats *stats, struct lptsim_err *err)
{
	struct replay r = { .snap = snap, .ops = ops, .ctx = ctx, .next_pfn = 1ull << 36 };
	int rc = 0;

	memset(stats, 0, sizeof(*stats));
	lptsim_u64map_init(&r.index);
	index_rebuild(&r);
	for (size_t i = 0; !rc && i < trace->nevents; i++) {
		const struct lptsim_event *ev = &trace->events[i];

		switch (ev->kind) {
		case TRACE_MMAP:
			rc = do_mmap(&r, ev, trace->path, err);
			stats->mmaps++;
			break;
		case TRACE_ZAP:
			if (!zap_by_index(&r, ev, stats))
				do_munmap(&r, ev, stats);
			stats->zaps++;
			break;
		case TRACE_MUNMAP:
			do_munmap(&r, ev, stats);
			stats->munmaps++;
			break;
		case TRACE_FAULT:
			rc = do_fault(&r, ev, trace->path, stats, err);
			break;
		}
	}
	compact(&r);
	lptsim_u64map_free(&r.index);
	if (!rc)
		rc = lptsim_snap_finish(snap, trace->path, err);
	return rc;
}

/* ---- diffing two captures into events ---- */

/* Is byte address range [start, end) entirely covered by snap's VMAs? */
static int covered(const struct lptsim_snapshot *snap, uint64_t start, uint64_t end)
{
	return vma_covering(snap, start, end) != NULL;
}

/*
 * Emit "kind" for the parts of each VMA of from that no VMA of other
 * covers.  Both lists are sorted and disjoint, so one forward cursor works.
 */
static uint64_t emit_uncovered(FILE *out, const struct lptsim_snapshot *from,
			       const struct lptsim_snapshot *other, int is_mmap)
{
	uint64_t events = 0;
	size_t o = 0;

	for (size_t i = 0; i < from->nvmas; i++) {
		const struct lptsim_vma *v = &from->vmas[i];
		uint64_t cur = v->start;

		while (o < other->nvmas && other->vmas[o].end <= cur)
			o++;
		for (size_t k = o; cur < v->end; k++) {
			uint64_t gap_end = k < other->nvmas && other->vmas[k].start < v->end ?
					   other->vmas[k].start : v->end;

			if (gap_end > cur) {
				if (is_mmap)
					fprintf(out, "mmap %llx %llx %s%s%s\n", (unsigned long long)cur,
						(unsigned long long)gap_end, v->perms,
						*v->name ? " " : "", v->name);
				else
					fprintf(out, "munmap %llx %llx\n", (unsigned long long)cur,
						(unsigned long long)gap_end);
				events++;
			}
			if (k >= other->nvmas || other->vmas[k].start >= v->end)
				break;
			cur = other->vmas[k].end;
		}
	}
	return events;
}

static int same_map(const struct lptsim_map *a, const struct lptsim_map *b)
{
	return a->vpn == b->vpn && a->pfn == b->pfn && a->psize == b->psize;
}

uint64_t lptsim_trace_diff(FILE *out, const struct lptsim_snapshot *old,
			   const struct lptsim_snapshot *new_snap)
{
	uint64_t events = 0;
	size_t i = 0, j = 0;

	/* Ranges gone first: that also drops their pages, so no zap is needed. */
	events += emit_uncovered(out, old, new_snap, 0);
	events += emit_uncovered(out, new_snap, old, 1);
	/* Pages that vanished or changed, where the VMA survived. */
	for (i = 0, j = 0; i < old->nmaps; i++) {
		const struct lptsim_map *m = &old->maps[i];
		uint64_t end = m->vpn + lptsim_psize_pages(m->psize);

		while (j < new_snap->nmaps && new_snap->maps[j].vpn < m->vpn)
			j++;
		if (j < new_snap->nmaps && same_map(m, &new_snap->maps[j]))
			continue;
		if (!covered(new_snap, m->vpn << 12, end << 12))
			continue;
		fprintf(out, "zap %llx %llx\n", (unsigned long long)(m->vpn << 12),
			(unsigned long long)(end << 12));
		events++;
	}
	/* Pages that appeared or changed. */
	for (i = 0, j = 0; j < new_snap->nmaps; j++) {
		const struct lptsim_map *m = &new_snap->maps[j];

		while (i < old->nmaps && old->maps[i].vpn < m->vpn)
			i++;
		if (i < old->nmaps && same_map(m, &old->maps[i]))
			continue;
		fprintf(out, "fault %llx %s %llx\n", (unsigned long long)m->vpn,
			lptsim_psize_name(m->psize), (unsigned long long)m->pfn);
		events++;
	}
	return events;
}

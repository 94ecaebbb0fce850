/*
 * snapshot.c - the address-space snapshot: building one in memory, checking
 * that it is a consistent address space (sorted, aligned, non-overlapping,
 * every page inside a VMA), and the versioned text file format described in
 * docs/lptsim.md ("lptsim-snapshot 1" header, VMA and mapping records, an
 * "end <crc32> <length>" trailer).  Text was chosen over binary so a bad
 * record can be reported as file:line and a snapshot can be read and edited
 * by hand; the trailer catches truncation and corruption that still parse.
 * Every input path returns an error message instead of asserting, because
 * these files come from other machines and from the malformed-input tests.
 */
#include "lptsim.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define SNAP_MAGIC   "lptsim-snapshot"
#define SNAP_VERSION 1
/* Bounds that keep a hostile file from making us allocate absurd memory. */
#define SNAP_MAX_BYTES  (1ull << 31)
#define SNAP_MAX_PAGES  (64ull << 20)
#define SNAP_MAX_VMAS   (1u << 20)

void lptsim_snap_init(struct lptsim_snapshot *snap)
{
	memset(snap, 0, sizeof(*snap));
}

void lptsim_snap_free(struct lptsim_snapshot *snap)
{
	for (size_t i = 0; i < snap->nvmas; i++)
		free(snap->vmas[i].name);
	free(snap->vmas);
	free(snap->maps);
	free(snap->source);
	lptsim_snap_init(snap);
}

int lptsim_snap_add_vma(struct lptsim_snapshot *snap, uint64_t start, uint64_t end,
			const char *perms, const char *name)
{
	struct lptsim_vma *vma;

	if (snap->nvmas >= SNAP_MAX_VMAS)
		return -1;
	if (snap->nvmas == snap->vmas_cap) {
		snap->vmas_cap = snap->vmas_cap ? 2 * snap->vmas_cap : 64;
		snap->vmas = lptsim_xrealloc(snap->vmas, snap->vmas_cap, sizeof(*vma));
	}
	vma = &snap->vmas[snap->nvmas++];
	vma->start = start;
	vma->end = end;
	snprintf(vma->perms, sizeof(vma->perms), "%.4s", perms);
	vma->name = lptsim_xstrdup(name ? name : "");
	return 0;
}

int lptsim_snap_add_map(struct lptsim_snapshot *snap, uint64_t vpn, uint64_t pfn,
			unsigned int psize, unsigned int flags)
{
	struct lptsim_map *map;

	if (snap->nmaps >= SNAP_MAX_PAGES)
		return -1;
	if (snap->nmaps == snap->maps_cap) {
		snap->maps_cap = snap->maps_cap ? 2 * snap->maps_cap : 1024;
		snap->maps = lptsim_xrealloc(snap->maps, snap->maps_cap, sizeof(*map));
	}
	map = &snap->maps[snap->nmaps++];
	map->vpn = vpn;
	map->pfn = pfn;
	map->psize = (uint8_t)psize;
	map->flags = (uint8_t)flags;
	return 0;
}

static int cmp_map(const void *a, const void *b)
{
	const struct lptsim_map *x = a, *y = b;

	return x->vpn < y->vpn ? -1 : x->vpn > y->vpn;
}

static int cmp_vma(const void *a, const void *b)
{
	const struct lptsim_vma *x = a, *y = b;

	return x->start < y->start ? -1 : x->start > y->start;
}

/* qsort must not see a NULL base even for zero elements (UBSan says so). */
void lptsim_snap_sort_vmas(struct lptsim_snapshot *snap)
{
	if (snap->nvmas)
		qsort(snap->vmas, snap->nvmas, sizeof(*snap->vmas), cmp_vma);
}

void lptsim_snap_sort_maps(struct lptsim_snapshot *snap)
{
	if (snap->nmaps)
		qsort(snap->maps, snap->nmaps, sizeof(*snap->maps), cmp_map);
}

/*
 * Sort and validate.  "what" names the source (a file, a generator) so the
 * message says where the inconsistency came from.
 */
int lptsim_snap_finish(struct lptsim_snapshot *snap, const char *what,
		       struct lptsim_err *err)
{
	size_t v = 0;

	lptsim_snap_sort_vmas(snap);
	lptsim_snap_sort_maps(snap);
	for (size_t i = 0; i < snap->nvmas; i++) {
		const struct lptsim_vma *vma = &snap->vmas[i];

		if (vma->start >= vma->end || (vma->start | vma->end) & 0xfff ||
		    vma->end > (LPTSIM_VPN_LIMIT << 12))
			return lptsim_fail(err, "%s: VMA %llx-%llx is empty, unaligned or beyond 47 bits",
					   what, (unsigned long long)vma->start,
					   (unsigned long long)vma->end);
		if (i && vma->start < snap->vmas[i - 1].end)
			return lptsim_fail(err, "%s: VMA %llx-%llx overlaps the previous one",
					   what, (unsigned long long)vma->start,
					   (unsigned long long)vma->end);
	}
	for (size_t i = 0; i < snap->nmaps; i++) {
		const struct lptsim_map *m = &snap->maps[i];
		uint64_t pages = lptsim_psize_pages(m->psize);

		if (m->psize >= LPTSIM_PS_COUNT || m->flags & ~LPTSIM_F_ALL)
			return lptsim_fail(err, "%s: mapping at vpn %llx has a bad size or flags",
					   what, (unsigned long long)m->vpn);
		if ((m->vpn | m->pfn) & (pages - 1))
			return lptsim_fail(err, "%s: %s mapping vpn %llx -> pfn %llx is not aligned to its size",
					   what, lptsim_psize_name(m->psize),
					   (unsigned long long)m->vpn, (unsigned long long)m->pfn);
		if (m->vpn + pages > LPTSIM_VPN_LIMIT || m->pfn + pages > LPTSIM_PFN_LIMIT)
			return lptsim_fail(err, "%s: mapping vpn %llx -> pfn %llx is beyond the address limits",
					   what, (unsigned long long)m->vpn, (unsigned long long)m->pfn);
		if (i && m->vpn < snap->maps[i - 1].vpn + lptsim_psize_pages(snap->maps[i - 1].psize))
			return lptsim_fail(err, "%s: mapping at vpn %llx overlaps the mapping at vpn %llx",
					   what, (unsigned long long)m->vpn,
					   (unsigned long long)snap->maps[i - 1].vpn);
		/* Maps and VMAs are both sorted: advance the VMA cursor monotonically. */
		while (v < snap->nvmas && snap->vmas[v].end <= (m->vpn << 12))
			v++;
		if (v == snap->nvmas || snap->vmas[v].start > (m->vpn << 12) ||
		    snap->vmas[v].end < ((m->vpn + pages) << 12))
			return lptsim_fail(err, "%s: mapping at vpn %llx (%s) is not inside one VMA",
					   what, (unsigned long long)m->vpn,
					   lptsim_psize_name(m->psize));
	}
	return 0;
}

const char *lptsim_psize_name(unsigned int psize)
{
	static const char *const names[] = { "4K", "2M", "1G" };

	return psize < LPTSIM_PS_COUNT ? names[psize] : "?";
}

int lptsim_psize_parse(const char *text, unsigned int *psize)
{
	for (unsigned int i = 0; i < LPTSIM_PS_COUNT; i++) {
		if (!strcmp(text, lptsim_psize_name(i))) {
			*psize = i;
			return 0;
		}
	}
	return -1;
}

/* Base flags of a present user page in a VMA with these "rwxp" permissions. */
unsigned int lptsim_perms_flags(const char *perms)
{
	unsigned int flags = LPTSIM_F_USER | LPTSIM_F_ACCESSED;

	if (perms[1] == 'w')
		flags |= LPTSIM_F_WRITE;
	if (perms[2] != 'x')
		flags |= LPTSIM_F_NX;
	return flags;
}

/* Flags as five positional letters: w u n(X) a d, '-' when clear. */
static const char flag_letters[] = "wunad";

void lptsim_flags_format(unsigned int flags, char out[6])
{
	for (int i = 0; i < 5; i++)
		out[i] = flags & (1u << i) ? flag_letters[i] : '-';
	out[5] = '\0';
}

int lptsim_flags_parse(const char *text, unsigned int *flags)
{
	unsigned int f = 0;

	if (strlen(text) != 5)
		return -1;
	for (int i = 0; i < 5; i++) {
		if (text[i] == flag_letters[i])
			f |= 1u << i;
		else if (text[i] != '-')
			return -1;
	}
	*flags = f;
	return 0;
}

/* ---- writing ---- */

struct outbuf {
	char *data;
	size_t len, cap;
};

static void out_printf(struct outbuf *ob, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void out_printf(struct outbuf *ob, const char *fmt, ...)
{
	va_list ap;
	int n;

	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(ob->data + ob->len, ob->cap - ob->len, fmt, ap);
		va_end(ap);
		if (n >= 0 && (size_t)n < ob->cap - ob->len)
			break;
		ob->cap = ob->cap * 2 + (n > 0 ? (size_t)n : 0) + 4096;
		ob->data = lptsim_xrealloc(ob->data, ob->cap, 1);
	}
	ob->len += (size_t)n;
}

/* Names are written to end of line; keep control characters out of them. */
void lptsim_sanitize_line(char *dst, size_t cap, const char *src)
{
	size_t i;

	for (i = 0; src[i] && i + 1 < cap; i++)
		dst[i] = (unsigned char)src[i] < 0x20 ? '?' : src[i];
	dst[i] = '\0';
}

int lptsim_snap_write(const struct lptsim_snapshot *snap, const char *path,
		      struct lptsim_err *err)
{
	struct outbuf ob = { lptsim_xrealloc(NULL, 1, 4096), 0, 4096 };
	char text[512], flags[6];
	size_t runs = 0;
	FILE *f;
	int rc = 0;

	/* Count runs first: the header states how many records follow. */
	for (size_t i = 0; i < snap->nmaps; runs++) {
		size_t j = i + 1;

		while (j < snap->nmaps &&
		       snap->maps[j].psize == snap->maps[i].psize &&
		       snap->maps[j].flags == snap->maps[i].flags &&
		       snap->maps[j].vpn == snap->maps[j - 1].vpn + lptsim_psize_pages(snap->maps[i].psize) &&
		       snap->maps[j].pfn == snap->maps[j - 1].pfn + lptsim_psize_pages(snap->maps[i].psize))
			j++;
		i = j;
	}
	out_printf(&ob, "%s %d\n", SNAP_MAGIC, SNAP_VERSION);
	lptsim_sanitize_line(text, sizeof(text), snap->source ? snap->source : "unknown");
	out_printf(&ob, "source %s\n", text);
	out_printf(&ob, "vmas %zu\n", snap->nvmas);
	for (size_t i = 0; i < snap->nvmas; i++) {
		const struct lptsim_vma *vma = &snap->vmas[i];

		lptsim_sanitize_line(text, sizeof(text), vma->name);
		out_printf(&ob, "v %llx %llx %s%s%s\n", (unsigned long long)vma->start,
			   (unsigned long long)vma->end, vma->perms, *text ? " " : "", text);
	}
	out_printf(&ob, "maps %zu\n", runs);
	for (size_t i = 0; i < snap->nmaps;) {
		const struct lptsim_map *m = &snap->maps[i];
		uint64_t step = lptsim_psize_pages(m->psize);
		size_t j = i + 1;

		while (j < snap->nmaps && snap->maps[j].psize == m->psize &&
		       snap->maps[j].flags == m->flags &&
		       snap->maps[j].vpn == snap->maps[j - 1].vpn + step &&
		       snap->maps[j].pfn == snap->maps[j - 1].pfn + step)
			j++;
		lptsim_flags_format(m->flags, flags);
		out_printf(&ob, "m %llx %llx %s %s %zu\n", (unsigned long long)m->vpn,
			   (unsigned long long)m->pfn, lptsim_psize_name(m->psize), flags, j - i);
		i = j;
	}
	out_printf(&ob, "end %08x %zu\n", lptsim_crc32(0, ob.data, ob.len), ob.len);

	f = fopen(path, "w");
	if (!f) {
		rc = lptsim_fail(err, "%s: cannot create: %s", path, strerror(errno));
	} else {
		if (fwrite(ob.data, 1, ob.len, f) != ob.len)
			rc = lptsim_fail(err, "%s: write failed: %s", path, strerror(errno));
		if (fclose(f) && !rc)
			rc = lptsim_fail(err, "%s: close failed: %s", path, strerror(errno));
	}
	free(ob.data);
	return rc;
}

/* ---- reading ---- */

/* Read a whole file, refusing anything that is not a regular, sane-sized file. */
int lptsim_read_file(const char *path, char **data, size_t *len, struct lptsim_err *err)
{
	struct stat st;
	FILE *f = fopen(path, "rb");
	size_t got;

	if (!f)
		return lptsim_fail(err, "%s: cannot open: %s", path, strerror(errno));
	if (fstat(fileno(f), &st) || !S_ISREG(st.st_mode) ||
	    (unsigned long long)st.st_size > SNAP_MAX_BYTES) {
		fclose(f);
		return lptsim_fail(err, "%s: not a regular file of at most %llu bytes",
				   path, SNAP_MAX_BYTES);
	}
	*data = lptsim_xrealloc(NULL, (size_t)st.st_size + 1, 1);
	got = fread(*data, 1, (size_t)st.st_size, f);
	fclose(f);
	if (got != (size_t)st.st_size) {
		free(*data);
		return lptsim_fail(err, "%s: short read", path);
	}
	(*data)[got] = '\0';
	*len = got;
	return 0;
}

/* Split a line into at most max whitespace-separated fields; the last keeps the rest. */
int lptsim_split(char *line, char **field, int max)
{
	int n = 0;

	while (*line && n < max) {
		while (*line == ' ' || *line == '\t')
			line++;
		if (!*line)
			break;
		field[n++] = line;
		if (n == max)
			break;
		while (*line && *line != ' ' && *line != '\t')
			line++;
		if (*line)
			*line++ = '\0';
	}
	return n;
}

struct snap_reader {
	const char *path;
	char *data;
	size_t len, pos;      /* pos: offset of the next line */
	size_t line_start;    /* offset of the current line */
	unsigned long lineno;
	char line[4096];
};

/* Next line into r->line; 0 at end of data, -1 on an over-long or NUL-bearing line. */
static int next_line(struct snap_reader *r, struct lptsim_err *err)
{
	size_t n = 0;

	if (r->pos >= r->len)
		return 0;
	r->line_start = r->pos;
	r->lineno++;
	while (r->pos < r->len && r->data[r->pos] != '\n') {
		if (r->data[r->pos] == '\0')
			return lptsim_fail(err, "%s:%lu: NUL byte at offset %zu",
					   r->path, r->lineno, r->pos);
		if (n + 1 >= sizeof(r->line))
			return lptsim_fail(err, "%s:%lu: line longer than %zu bytes",
					   r->path, r->lineno, sizeof(r->line) - 1);
		r->line[n++] = r->data[r->pos++];
	}
	if (r->pos >= r->len)
		return lptsim_fail(err, "%s:%lu: file ends without a newline (truncated?)",
				   r->path, r->lineno);
	r->pos++;
	r->line[n] = '\0';
	return 1;
}

/* Next record, skipping '#' comments; missing line = truncation. */
static int need_line(struct snap_reader *r, const char *expect, struct lptsim_err *err)
{
	int rc;

	do {
		rc = next_line(r, err);
		if (rc < 0)
			return -1;
		if (rc == 0)
			return lptsim_fail(err, "%s:%lu: unexpected end of file, expected %s (truncated?)",
					   r->path, r->lineno, expect);
	} while (r->line[0] == '#');
	return 0;
}

static int parse_count(struct snap_reader *r, const char *key, uint64_t limit,
		       uint64_t *count, struct lptsim_err *err)
{
	char *f[3];

	if (need_line(r, key, err))
		return -1;
	if (lptsim_split(r->line, f, 3) != 2 || strcmp(f[0], key) ||
	    lptsim_parse_u64(f[1], 10, count))
		return lptsim_fail(err, "%s:%lu: expected \"%s <count>\"", r->path, r->lineno, key);
	if (*count > limit)
		return lptsim_fail(err, "%s:%lu: %s count %llu exceeds the limit %llu",
				   r->path, r->lineno, key, (unsigned long long)*count,
				   (unsigned long long)limit);
	return 0;
}

static int parse_vma(struct snap_reader *r, struct lptsim_snapshot *snap,
		     struct lptsim_err *err)
{
	char *f[5];
	int n;
	uint64_t start, end;

	if (need_line(r, "a VMA record", err))
		return -1;
	n = lptsim_split(r->line, f, 5);
	if (n < 4 || strcmp(f[0], "v") || lptsim_parse_u64(f[1], 16, &start) ||
	    lptsim_parse_u64(f[2], 16, &end) || strlen(f[3]) != 4)
		return lptsim_fail(err, "%s:%lu: bad VMA record, expected \"v <start> <end> <perms> [name]\"",
				   r->path, r->lineno);
	if (start >= end || (start | end) & 0xfff || end > (LPTSIM_VPN_LIMIT << 12))
		return lptsim_fail(err, "%s:%lu: VMA %s-%s is empty, unaligned or beyond 47 bits",
				   r->path, r->lineno, f[1], f[2]);
	if (lptsim_snap_add_vma(snap, start, end, f[3], n == 5 ? f[4] : ""))
		return lptsim_fail(err, "%s:%lu: too many VMAs", r->path, r->lineno);
	return 0;
}

static int parse_map(struct snap_reader *r, struct lptsim_snapshot *snap,
		     struct lptsim_err *err)
{
	char *f[7];
	int n;
	uint64_t vpn, pfn, count = 1, step;
	unsigned int psize, flags;

	if (need_line(r, "a mapping record", err))
		return -1;
	n = lptsim_split(r->line, f, 7);
	if (n < 5 || n > 6 || strcmp(f[0], "m") || lptsim_parse_u64(f[1], 16, &vpn) ||
	    lptsim_parse_u64(f[2], 16, &pfn) || lptsim_psize_parse(f[3], &psize) ||
	    lptsim_flags_parse(f[4], &flags) || (n == 6 && lptsim_parse_u64(f[5], 10, &count)))
		return lptsim_fail(err, "%s:%lu: bad mapping record, expected \"m <vpn> <pfn> 4K|2M|1G <wunad> [count]\"",
				   r->path, r->lineno);
	step = lptsim_psize_pages(psize);
	if (count == 0 || count > SNAP_MAX_PAGES - snap->nmaps)
		return lptsim_fail(err, "%s:%lu: run length %llu is zero or exceeds the %llu-page limit",
				   r->path, r->lineno, (unsigned long long)count, SNAP_MAX_PAGES);
	if (vpn >= LPTSIM_VPN_LIMIT || pfn >= LPTSIM_PFN_LIMIT ||
	    count > (LPTSIM_VPN_LIMIT - vpn) / step || count > (LPTSIM_PFN_LIMIT - pfn) / step)
		return lptsim_fail(err, "%s:%lu: run of %llu pages at vpn %s / pfn %s leaves the 47-bit VA or 52-bit PA space",
				   r->path, r->lineno, (unsigned long long)count, f[1], f[2]);
	if ((vpn | pfn) & (step - 1))
		return lptsim_fail(err, "%s:%lu: %s mapping vpn %s -> pfn %s is not aligned to its size",
				   r->path, r->lineno, f[3], f[1], f[2]);
	for (uint64_t i = 0; i < count; i++)
		lptsim_snap_add_map(snap, vpn + i * step, pfn + i * step, psize, flags);
	return 0;
}

static int parse_snapshot(struct snap_reader *r, struct lptsim_snapshot *snap,
			  struct lptsim_err *err)
{
	char *f[4];
	uint64_t count, length, version;
	unsigned long crc;
	size_t body_len;
	char *end;

	if (need_line(r, "the header", err))
		return -1;
	if (lptsim_split(r->line, f, 3) != 2 || strcmp(f[0], SNAP_MAGIC) ||
	    lptsim_parse_u64(f[1], 10, &version))
		return lptsim_fail(err, "%s:1: not an lptsim snapshot (expected \"%s %d\")",
				   r->path, SNAP_MAGIC, SNAP_VERSION);
	if (version != SNAP_VERSION)
		return lptsim_fail(err, "%s:1: snapshot version %llu, this lptsim reads version %d",
				   r->path, (unsigned long long)version, SNAP_VERSION);
	if (need_line(r, "\"source ...\"", err))
		return -1;
	if (strncmp(r->line, "source ", 7))
		return lptsim_fail(err, "%s:%lu: expected \"source <text>\"", r->path, r->lineno);
	snap->source = lptsim_xstrdup(r->line + 7);
	if (parse_count(r, "vmas", SNAP_MAX_VMAS, &count, err))
		return -1;
	for (uint64_t i = 0; i < count; i++)
		if (parse_vma(r, snap, err))
			return -1;
	if (parse_count(r, "maps", SNAP_MAX_PAGES, &count, err))
		return -1;
	for (uint64_t i = 0; i < count; i++)
		if (parse_map(r, snap, err))
			return -1;
	if (need_line(r, "\"end <crc32> <length>\"", err))
		return -1;
	body_len = r->line_start;
	if (lptsim_split(r->line, f, 4) != 3 || strcmp(f[0], "end") ||
	    strlen(f[1]) != 8 || lptsim_parse_u64(f[2], 10, &length))
		return lptsim_fail(err, "%s:%lu: expected \"end <crc32> <length>\" after %llu mapping records",
				   r->path, r->lineno, (unsigned long long)count);
	crc = strtoul(f[1], &end, 16);
	if (*end)
		return lptsim_fail(err, "%s:%lu: bad checksum field \"%s\"", r->path, r->lineno, f[1]);
	if (length != body_len)
		return lptsim_fail(err, "%s:%lu: length field says %llu bytes, records end at offset %zu",
				   r->path, r->lineno, (unsigned long long)length, body_len);
	if (crc != lptsim_crc32(0, r->data, body_len))
		return lptsim_fail(err, "%s:%lu: checksum mismatch (stored %08lx, computed %08x): file corrupted",
				   r->path, r->lineno, crc, lptsim_crc32(0, r->data, body_len));
	if (r->pos != r->len)
		return lptsim_fail(err, "%s:%lu: %zu bytes of trailing data after the end record",
				   r->path, r->lineno + 1, r->len - r->pos);
	return lptsim_snap_finish(snap, r->path, err);
}

int lptsim_snap_read(struct lptsim_snapshot *snap, const char *path,
		     struct lptsim_err *err)
{
	struct snap_reader r = { .path = path };
	int rc;

	lptsim_snap_init(snap);
	if (lptsim_read_file(path, &r.data, &r.len, err))
		return -1;
	rc = parse_snapshot(&r, snap, err);
	free(r.data);
	if (rc)
		lptsim_snap_free(snap);
	return rc;
}

/*
 * util.c - small services every lptsim component needs: error formatting,
 * checked allocation, strict number parsing (so "12abc" or an overflowing
 * value is an input error rather than a silent truncation), the CRC-32 that
 * protects snapshot files, a seeded splitmix64 generator (so generated
 * layouts and random walk orders are reproducible from --seed), progress
 * lines on stderr, and the references-per-walk histogram.
 */
#include "lptsim.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int lptsim_fail(struct lptsim_err *err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	return -1;
}

/* Table-less bitwise CRC-32 (IEEE 802.3, reflected); files are a few MB at most. */
uint32_t lptsim_crc32(uint32_t crc, const void *buf, size_t len)
{
	const unsigned char *p = buf;

	crc = ~crc;
	while (len--) {
		crc ^= *p++;
		for (int bit = 0; bit < 8; bit++)
			crc = (crc >> 1) ^ (0xedb88320u & -(crc & 1u));
	}
	return ~crc;
}

uint64_t lptsim_rand(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* Uniform in [0, bound); bound 0 yields 0 so callers need no special case. */
uint64_t lptsim_rand_below(uint64_t *state, uint64_t bound)
{
	if (bound == 0)
		return 0;
	return (uint64_t)(((unsigned __int128)lptsim_rand(state) * bound) >> 64);
}

/* Out of memory is not an input error we can report usefully; stop loudly. */
void *lptsim_xrealloc(void *ptr, size_t nmemb, size_t size)
{
	size_t bytes;
	void *p;

	if (size && nmemb > SIZE_MAX / size) {
		fprintf(stderr, "lptsim: allocation size overflow\n");
		exit(2);
	}
	bytes = nmemb * size;
	p = realloc(ptr, bytes ? bytes : 1);
	if (!p) {
		fprintf(stderr, "lptsim: out of memory\n");
		exit(2);
	}
	return p;
}

char *lptsim_xstrdup(const char *s)
{
	size_t len = strlen(s) + 1;
	char *copy = lptsim_xrealloc(NULL, len, 1);

	memcpy(copy, s, len);
	return copy;
}

double lptsim_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Whole-string unsigned int parse: no sign, no trailing junk, no overflow. */
int lptsim_parse_u64(const char *text, int base, uint64_t *out)
{
	char *end;
	unsigned long long v;

	if (!text || !*text || *text == '-' || *text == '+' || *text == ' ')
		return -1;
	errno = 0;
	v = strtoull(text, &end, base);
	if (errno || *end)
		return -1;
	*out = v;
	return 0;
}

/*
 * Progress is silent for runs under 2 s; LPTSIM_PROGRESS_AFTER (seconds)
 * overrides that so the tests can see progress lines on small inputs.
 */
/*
 * In an array of n elements of elem_size bytes sorted by the uint64_t at
 * key_offset, the number of elements whose key is <= key: the one binary
 * search behind every "which mapping / block / VMA holds this address".
 */
size_t lptsim_count_le(const void *base, size_t n, size_t elem_size, size_t key_offset,
		       uint64_t key)
{
	const unsigned char *bytes = base;
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		uint64_t k;

		memcpy(&k, bytes + mid * elem_size + key_offset, sizeof(k));
		if (k <= key)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

void lptsim_progress_start(struct lptsim_progress *p, const char *what, int quiet)
{
	const char *after = getenv("LPTSIM_PROGRESS_AFTER");

	p->start = p->last = lptsim_now();
	p->what = what;
	p->quiet = quiet;
	p->after = after ? atof(after) : 2.0;
}

/* Print at most once a second, and only once the phase has run p->after seconds. */
void lptsim_progress_tick(struct lptsim_progress *p, uint64_t done, uint64_t total)
{
	double now;

	if (p->quiet || (done & 0xfff))
		return;
	now = lptsim_now();
	if (now - p->start < p->after || now - p->last < 1.0)
		return;
	p->last = now;
	fprintf(stderr, "lptsim: %s: %llu/%llu (%.0f%%)\n", p->what,
		(unsigned long long)done, (unsigned long long)total,
		total ? 100.0 * done / total : 100.0);
}

void lptsim_progress_done(struct lptsim_progress *p)
{
	double now = lptsim_now();

	if (!p->quiet && now - p->start >= p->after)
		fprintf(stderr, "lptsim: %s: done in %.1f s\n", p->what, now - p->start);
}

void lptsim_refstats_add(struct lptsim_refstats *s, unsigned int refs)
{
	s->hist[refs < LPTSIM_REFS_MAX ? refs : LPTSIM_REFS_MAX]++;
	s->walks++;
	s->refs += refs;
}

double lptsim_refstats_mean(const struct lptsim_refstats *s)
{
	return s->walks ? (double)s->refs / s->walks : 0.0;
}

/* Smallest r such that at least pct percent of walks took <= r references. */
unsigned int lptsim_refstats_pct(const struct lptsim_refstats *s, double pct)
{
	uint64_t need, seen = 0;

	if (!s->walks)
		return 0;
	need = (uint64_t)((pct / 100.0) * s->walks + 0.999999);
	if (need == 0)
		need = 1;
	for (unsigned int r = 0; r <= LPTSIM_REFS_MAX; r++) {
		seen += s->hist[r];
		if (seen >= need)
			return r;
	}
	return LPTSIM_REFS_MAX;
}

// SPDX-License-Identifier: GPL-2.0
/*
 * hsctl_lib - tables and the PNG heat map for hugescope.ko records; see
 * hsctl.h.  The PNG is written without zlib (the tool is static and the
 * initramfs carries no libraries): the image data goes in stored deflate
 * blocks, which are valid zlib streams, with CRC-32 and Adler-32 computed
 * here.  A heat map of a few hundred 2M regions is a few hundred KiB, so
 * compression is not worth a dependency.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include "hsctl.h"

#define READ_BATCH	1024
#define PAGES		512
#define STORED_MAX	65535		/* bytes per stored deflate block */

int hsctl_read_all(int hs, struct hugescope_region **recs, unsigned int *nr)
{
	struct hugescope_region *all = NULL, *grown;
	struct hugescope_read rd = { 0 };
	unsigned int n = 0;

	do {
		grown = realloc(all, (n + READ_BATCH) * sizeof(*all));
		if (!grown) {
			free(all);
			return -ENOMEM;
		}
		all = grown;
		rd.regions = (uintptr_t)(all + n);
		rd.nr = READ_BATCH;
		/* rd.start_gfn is the cursor the previous call left. */
		if (ioctl(hs, HUGESCOPE_IOC_READ, &rd)) {
			int err = -errno;

			free(all);
			return err;
		}
		n += rd.nr;
	} while (rd.nr == READ_BATCH);
	*recs = all;
	*nr = n;
	return 0;
}

const char *hsctl_state_name(uint32_t state)
{
	static const char * const names[] = {
		"detached", "coarse", "fine", "idle", "vm-gone",
	};

	return state < sizeof(names) / sizeof(names[0]) ? names[state] : "?";
}

const char *hsctl_class_name(uint32_t class)
{
	static const char * const names[] = { "unknown", "cold", "hot", "skewed" };

	return class < sizeof(names) / sizeof(names[0]) ? names[class] : "?";
}

static double per(uint64_t total, uint64_t n)
{
	return n ? (double)total / n : 0;
}

void hsctl_print_summary(FILE *f, const struct hugescope_summary *s)
{
	fprintf(f, "%-22s %s\n", "state", hsctl_state_name(s->state));
	fprintf(f, "%-22s %u\n", "split_threshold", s->split_threshold);
	fprintf(f, "%-22s %u\n", "collapse_threshold", s->collapse_threshold);
	if (s->fast_budget_4k)
		fprintf(f, "%-22s %u (%u raised, %u lowered)\n", "threshold_adaptations",
			s->threshold_raises + s->threshold_drops,
			s->threshold_raises, s->threshold_drops);
	else
		fprintf(f, "%-22s 0 (fixed: no fast-tier budget)\n",
			"threshold_adaptations");
	fprintf(f, "%-22s %llu 4K pages (%llu MiB)", "hot_footprint",
		(unsigned long long)s->hot_footprint_4k,
		(unsigned long long)(s->hot_footprint_4k >> 8));
	if (s->fast_budget_4k)
		fprintf(f, ", budget %u 4K pages", s->fast_budget_4k);
	fprintf(f, "\n");
	fprintf(f, "%-22s %llu\n", "coarse_scans", (unsigned long long)s->coarse_scans);
	fprintf(f, "%-22s %llu\n", "fine_phases", (unsigned long long)s->fine_phases);
	fprintf(f, "%-22s %llu\n", "fine_windows", (unsigned long long)s->fine_windows);
	fprintf(f, "%-22s %llu\n", "regions", (unsigned long long)s->regions);
	fprintf(f, "%-22s %llu (%llu failed)\n", "splits",
		(unsigned long long)s->splits, (unsigned long long)s->split_failures);
	fprintf(f, "%-22s %llu (%llu failed)\n", "merges",
		(unsigned long long)s->merges, (unsigned long long)s->merge_failures);
	fprintf(f, "%-22s %.1f us\n", "split/region", per(s->split_ns, s->splits) / 1e3);
	fprintf(f, "%-22s %.1f us\n", "merge/region", per(s->merge_ns, s->merges) / 1e3);
	fprintf(f, "%-22s %.1f us\n", "2M harvest/scan",
		per(s->harvest_2m_ns, s->coarse_scans) / 1e3);
	fprintf(f, "%-22s %.1f us\n", "4K harvest/window",
		per(s->harvest_4k_ns, s->fine_windows) / 1e3);
	fprintf(f, "%-22s %.1f ms\n", "worker time", s->worker_ns / 1e6);
	fprintf(f, "%-22s %llu MiB\n", "tracked",
		(unsigned long long)(s->tracked_bytes >> 20));
	/* The target is metadata <= 0.1% of tracked memory. */
	fprintf(f, "%-22s %llu bytes (%.4f%% of tracked)\n", "metadata",
		(unsigned long long)s->meta_bytes,
		s->tracked_bytes ? 100.0 * s->meta_bytes / s->tracked_bytes : 0);
}

void hsctl_print_regions(FILE *f, const struct hugescope_region *recs,
			 unsigned int nr)
{
	unsigned int i, count[4] = { 0 };

	fprintf(f, "%-12s %-7s %4s %4s %6s %5s %7s %5s %4s\n", "gpa", "class",
		"freq", "age", "weight", "hot4k", "touched", "skew", "fine");
	for (i = 0; i < nr; i++) {
		const struct hugescope_region *r = &recs[i];

		if (r->class < 4)
			count[r->class]++;
		fprintf(f, "0x%010llx %-7s %4u %4u %6u %5u %7u %4u%% %4u\n",
			(unsigned long long)r->gfn << 12, hsctl_class_name(r->class),
			r->freq, r->age, r->weight, r->nr_hot_4k, r->nr_touched_4k,
			r->skew / 10, r->fine_phases);
	}
	fprintf(f, "%u regions: %u cold, %u hot, %u skewed, %u unknown\n", nr,
		count[HUGESCOPE_CLASS_COLD], count[HUGESCOPE_CLASS_HOT],
		count[HUGESCOPE_CLASS_SKEWED], count[HUGESCOPE_CLASS_UNKNOWN]);
}

uint32_t hsctl_crc32(const uint8_t *p, size_t n)
{
	uint32_t c = 0xffffffff;
	int k;

	/* Bitwise, reflected polynomial: images are small, a table is not needed. */
	while (n--) {
		c ^= *p++;
		for (k = 0; k < 8; k++)
			c = c & 1 ? (c >> 1) ^ 0xedb88320 : c >> 1;
	}
	return ~c;
}

uint32_t hsctl_adler32(const uint8_t *p, size_t n)
{
	uint32_t a = 1, b = 0;

	while (n--) {
		a = (a + *p++) % 65521;
		b = (b + a) % 65521;
	}
	return b << 16 | a;
}

static uint8_t *put_be32(uint8_t *p, uint32_t v)
{
	p[0] = v >> 24;
	p[1] = v >> 16;
	p[2] = v >> 8;
	p[3] = v;
	return p + 4;
}

/* Length, type, data (already at @p + 8), CRC over type and data. */
static uint8_t *put_chunk(uint8_t *p, const char *type, size_t len)
{
	put_be32(p, len);
	memcpy(p + 4, type, 4);
	return put_be32(p + 8 + len, hsctl_crc32(p + 4, len + 4));
}

uint8_t *hsctl_png_encode(const uint8_t *pix, uint32_t w, uint32_t h, size_t *len)
{
	static const uint8_t sig[8] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n' };
	size_t raw_len = (size_t)(w + 1) * h, nblocks, zlen, off;
	uint8_t *raw, *png, *p, *z;
	uint32_t y;

	/* Every scanline starts with filter type 0 (none). */
	raw = malloc(raw_len);
	if (!raw)
		return NULL;
	for (y = 0; y < h; y++) {
		raw[(size_t)y * (w + 1)] = 0;
		memcpy(raw + (size_t)y * (w + 1) + 1, pix + (size_t)y * w, w);
	}
	nblocks = raw_len / STORED_MAX + 1;
	zlen = 2 + nblocks * 5 + raw_len + 4;
	png = malloc(8 + 25 + 12 + zlen + 12);
	if (!png) {
		free(raw);
		return NULL;
	}
	memcpy(png, sig, 8);

	p = png + 8;
	put_be32(p + 8, w);
	put_be32(p + 12, h);
	p[16] = 8;		/* bit depth */
	p[17] = 0;		/* grayscale */
	p[18] = p[19] = p[20] = 0;	/* deflate, adaptive filters, no interlace */
	p = put_chunk(p, "IHDR", 13);

	/* zlib header: deflate, 32K window, no dictionary; 0x7801 % 31 == 0. */
	z = p + 8;
	*z++ = 0x78;
	*z++ = 0x01;
	off = 0;
	do {
		size_t n = raw_len - off > STORED_MAX ? STORED_MAX : raw_len - off;

		*z++ = off + n == raw_len;	/* BFINAL; BTYPE 00 = stored */
		*z++ = n;
		*z++ = n >> 8;
		*z++ = ~n;
		*z++ = ~n >> 8;
		memcpy(z, raw + off, n);
		z += n;
		off += n;
	} while (off < raw_len);
	z = put_be32(z, hsctl_adler32(raw, raw_len));
	p = put_chunk(p, "IDAT", z - (p + 8));
	p = put_chunk(p, "IEND", 0);
	free(raw);
	*len = p - png;
	return png;
}

static uint8_t background(uint32_t class)
{
	switch (class) {
	case HUGESCOPE_CLASS_COLD:
		return 0;
	case HUGESCOPE_CLASS_UNKNOWN:
		return 96;
	default:
		return 48;
	}
}

int hsctl_write_heatmap(const char *path, const struct hugescope_region *recs,
			unsigned int nr)
{
	uint8_t *pix, *png;
	unsigned int i, j;
	size_t len;
	FILE *f;
	int err = 0;

	if (!nr)
		return -EINVAL;
	pix = malloc((size_t)nr * PAGES);
	if (!pix)
		return -ENOMEM;
	for (i = 0; i < nr; i++)
		for (j = 0; j < PAGES; j++)
			pix[i * PAGES + j] = recs[i].hot_4k[j / 64] >> (j % 64) & 1 ?
					     255 : background(recs[i].class);
	png = hsctl_png_encode(pix, PAGES, nr, &len);
	free(pix);
	if (!png)
		return -ENOMEM;
	f = fopen(path, "wb");
	if (!f) {
		err = -errno;
	} else {
		if (fwrite(png, 1, len, f) != len)
			err = -EIO;
		if (fclose(f) && !err)
			err = -errno;
	}
	free(png);
	return err;
}

// SPDX-License-Identifier: GPL-2.0
/*
 * hsctl - guest command for hugescope.ko.  Tracking belongs to the process
 * that owns the KVM VM fd (see hsctl.h), so instead of reporting on someone
 * else's VM, `hsctl demo` is itself a small L1 VMM: it runs an L2 guest with
 * a known skewed workload (hs_vm.c, shared with the perf selftest), attaches
 * /dev/hugescope with short phases, waits for one coarse + fine cycle, then
 * prints the summary and region tables and writes the heat map PNG.  It is
 * both a demonstration and the reference for a VMM using the hsctl_*() API.
 * `hsctl selftest` checks the PNG encoder (TAP) and runs anywhere.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include "hsctl.h"
#include "hs_vm.h"
#include "l1vmm.h"

#define DEMO_MEM	(32UL << 20)
#define PAGES		512

/* Demo regions from 4M: hot 4K pages per region (0 cold, 512 all hot). */
static const unsigned int demo_k[] = { 0, 512, 1, 4, 0, 16, 512, 64, 8, 0, 32, 512 };
#define DEMO_REGIONS	(sizeof(demo_k) / sizeof(demo_k[0]))

static void usage(FILE *f)
{
	fprintf(f,
		"usage: hsctl demo [-o HEATMAP.png] [-t TIMEOUT_S]\n"
		"       hsctl selftest\n"
		"demo runs an L1 VMM with a skewed L2 workload, tracks it with\n"
		"/dev/hugescope for one coarse + fine cycle, prints the summary and\n"
		"region tables and writes the heat map (one row per 2M region, one\n"
		"column per 4K page, hot = white).  A VMM reports on its own VMs with\n"
		"the hsctl_*() API of hsctl.h: a tracker cannot be read across processes.\n");
}

static int die(const char *what, int err)
{
	fprintf(stderr, "hsctl: %s: %s\n", what, strerror(err));
	return 1;
}

/* The image cannot leave the guest; its size and CRC-32 identify it. */
static void print_file_id(const char *path, unsigned int rows)
{
	static uint8_t buf[1 << 20];
	size_t n = 0;
	FILE *f = fopen(path, "rb");

	if (f) {
		n = fread(buf, 1, sizeof(buf), f);
		fclose(f);
	}
	printf("\nheat map: %s, %u x %u pixels, %zu bytes, CRC-32 %08x\n", path,
	       PAGES, rows, n, hsctl_crc32(buf, n));
}

static int demo(int argc, char **argv)
{
	static uint64_t warm[DEMO_REGIONS * PAGES], hot[DEMO_REGIONS * PAGES];
	struct hugescope_attach a = {
		.coarse_period_ms = 100, .coarse_rounds = 4, .hot_rounds = 3,
		.fine_window_ms = 100, .fine_windows = 5, .max_cycles = 1,
	};
	struct hugescope_summary s = { 0 };
	struct hugescope_region *recs;
	unsigned int r, i, nwarm = 0, nhot = 0, nr;
	const char *out = NULL;
	double timeout = 120, t;
	struct hs_vm v;
	int c, hs, err;
	FILE *f;

	while ((c = getopt(argc, argv, "o:t:")) != -1) {
		if (c == 'o') {
			out = optarg;
		} else if (c == 't') {
			timeout = atof(optarg);
			if (timeout < 1 || timeout > 3600) {
				fprintf(stderr, "hsctl: -t wants 1..3600 seconds\n");
				return 2;
			}
		} else {
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 2;
	}
	/* Fail before the slow part if the image cannot be written. */
	if (out) {
		f = fopen(out, "wb");
		if (!f)
			return die(out, errno);
		fclose(f);
	}
	hs = hs_open_dev();
	if (hs < 0) {
		fprintf(stderr, "hsctl: /dev/hugescope: %s (and /lib/modules/extra/"
			"hugescope.ko could not be loaded)\n", strerror(-hs));
		return 1;
	}

	for (r = 0; r < DEMO_REGIONS; r++) {
		for (i = 0; i < PAGES; i++)
			warm[nwarm++] = hs_vm_page(r, i);
		/* Spread the hot pages of a skewed region: 37 is prime to 512. */
		for (i = 0; i < demo_k[r]; i++)
			hot[nhot++] = hs_vm_page(r, demo_k[r] == PAGES ? i : (i * 37 + 5) % PAGES);
	}
	err = hs_vm_create(&v, DEMO_MEM, warm, nwarm, hot, nhot);
	if (err)
		return die(v.what, -err);
	if (hs_vm_wait_warm(&v, 60))
		return die("L2 guest did not start", v.error >= 1000 ? EIO : v.error);
	printf("L2 running: %u regions from GPA 0x%lx, hot 4K pages per region:",
	       (unsigned int)DEMO_REGIONS, HS_VM_FIRST_GPA);
	for (r = 0; r < DEMO_REGIONS; r++)
		printf(" %u", demo_k[r]);
	printf("\n");

	a.vm_fd = v.vm;
	if (ioctl(hs, HUGESCOPE_IOC_ATTACH, &a))
		return die("HUGESCOPE_IOC_ATTACH", errno);
	for (t = hs_now(); hs_now() - t < timeout; usleep(20000)) {
		if (ioctl(hs, HUGESCOPE_IOC_SUMMARY, &s))
			return die("HUGESCOPE_IOC_SUMMARY", errno);
		if (s.fine_phases >= 1)
			break;
	}
	if (s.fine_phases < 1) {
		fprintf(stderr, "hsctl: no fine phase within %.0f s (state %s)\n",
			timeout, hsctl_state_name(s.state));
		return 1;
	}
	if (v.error)
		return die("L2 guest stopped", v.error >= 1000 ? EIO : v.error);

	err = hsctl_read_all(hs, &recs, &nr);
	if (err)
		return die("HUGESCOPE_IOC_READ", -err);
	printf("\n== summary ==\n");
	hsctl_print_summary(stdout, &s);
	printf("\n== regions ==\n");
	hsctl_print_regions(stdout, recs, nr);
	if (out) {
		err = hsctl_write_heatmap(out, recs, nr);
		if (err)
			return die(out, -err);
		print_file_id(out, nr);
	}
	free(recs);
	if (ioctl(hs, HUGESCOPE_IOC_DETACH))
		return die("HUGESCOPE_IOC_DETACH", errno);
	fflush(stdout);
	/* The vCPU thread never returns; exiting tears the VM down. */
	_exit(0);
}

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | p[1] << 16 | p[2] << 8 | p[3];
}

/*
 * Walk the chunks of @png and undo the stored deflate blocks into @raw;
 * 0 if every structural check held.  Reports each check.
 */
static int check_png(const uint8_t *png, size_t len, uint32_t w, uint32_t h,
		     const uint8_t *pix)
{
	size_t off = 8, raw_len = (size_t)(w + 1) * h, got = 0, zoff;
	uint8_t *raw = malloc(raw_len);
	int crc_ok = 1, order_ok = 1, blocks_ok = 1, nchunk = 0, data_ok = 1;
	const uint8_t *idat = NULL;
	uint32_t idat_len = 0, y;

	tap_report(len > 8 && !memcmp(png, "\x89PNG\r\n\x1a\n", 8), "%ux%u: signature", w, h);
	while (off + 12 <= len) {
		uint32_t n = be32(png + off);
		const char *type = (const char *)png + off + 4;
		static const char * const order[] = { "IHDR", "IDAT", "IEND" };

		if (off + 12 + n > len)
			break;
		if (be32(png + off + 8 + n) != hsctl_crc32(png + off + 4, n + 4))
			crc_ok = 0;
		if (nchunk > 2 || memcmp(type, order[nchunk], 4))
			order_ok = 0;
		if (!memcmp(type, "IHDR", 4))
			tap_report(n == 13 && be32(png + off + 8) == w &&
				   be32(png + off + 12) == h && png[off + 16] == 8 &&
				   png[off + 17] == 0, "%ux%u: IHDR 8-bit grayscale", w, h);
		if (!memcmp(type, "IDAT", 4)) {
			idat = png + off + 8;
			idat_len = n;
		}
		nchunk++;
		off += 12 + n;
	}
	tap_report(crc_ok && order_ok && nchunk == 3 && off == len,
		   "%ux%u: chunks IHDR IDAT IEND with valid CRCs", w, h);

	/* zlib: header, stored blocks with LEN = ~NLEN, Adler-32 of the data. */
	zoff = 2;
	if (!idat || idat_len < 6 || (idat[0] << 8 | idat[1]) % 31 || (idat[0] & 0xf) != 8)
		blocks_ok = 0;
	while (blocks_ok && raw) {
		uint8_t hdr;
		uint16_t n, nn;

		if (zoff + 5 > idat_len) {
			blocks_ok = 0;
			break;
		}
		hdr = idat[zoff];
		n = idat[zoff + 1] | idat[zoff + 2] << 8;
		nn = idat[zoff + 3] | idat[zoff + 4] << 8;
		if ((hdr & 6) || (uint16_t)(n ^ nn) != 0xffff || zoff + 5 + n > idat_len ||
		    got + n > raw_len) {
			blocks_ok = 0;
			break;
		}
		memcpy(raw + got, idat + zoff + 5, n);
		got += n;
		zoff += 5 + n;
		if (hdr & 1)
			break;
	}
	blocks_ok = blocks_ok && raw && got == raw_len && zoff + 4 == idat_len &&
		    be32(idat + zoff) == hsctl_adler32(raw, raw_len);
	tap_report(blocks_ok, "%ux%u: zlib stream of stored blocks, Adler-32 valid", w, h);
	for (y = 0; blocks_ok && y < h; y++)
		if (raw[(size_t)y * (w + 1)] ||
		    memcmp(raw + (size_t)y * (w + 1) + 1, pix + (size_t)y * w, w))
			data_ok = 0;
	tap_report(blocks_ok && data_ok, "%ux%u: scanlines decode to the pixels", w, h);
	free(raw);
	return 0;
}

static int selftest(void)
{
	/* 512 x 300 needs three stored blocks; 3 x 2 fits in one. */
	static const uint32_t dims[][2] = { { 3, 2 }, { 512, 300 } };
	struct hugescope_region rec = { .class = HUGESCOPE_CLASS_SKEWED };
	unsigned int d;
	size_t i, len;

	printf("TAP version 13\n");
	tap_report(hsctl_crc32((const uint8_t *)"123456789", 9) == 0xcbf43926,
		   "CRC-32 check value");
	tap_report(hsctl_adler32((const uint8_t *)"Wikipedia", 9) == 0x11e60398,
		   "Adler-32 check value");
	for (d = 0; d < 2; d++) {
		uint32_t w = dims[d][0], h = dims[d][1];
		uint8_t *pix = malloc((size_t)w * h), *png;

		if (!pix)
			tap_bail("malloc");
		for (i = 0; i < (size_t)w * h; i++)
			pix[i] = i * 7;
		png = hsctl_png_encode(pix, w, h, &len);
		if (!png)
			tap_bail("hsctl_png_encode");
		check_png(png, len, w, h, pix);
		free(png);
		free(pix);
	}
	tap_report(hsctl_write_heatmap("/nonexistent/dir/h.png", &rec, 1) == -ENOENT,
		   "heat map to a missing directory is ENOENT");
	tap_report(hsctl_write_heatmap("/tmp/hsctl-selftest.png", &rec, 0) == -EINVAL,
		   "heat map of no regions is EINVAL");
	printf("1..%d\n# %d tests, %d failed\n", tap_run, tap_run, tap_failed);
	return tap_failed ? 1 : 0;
}

int main(int argc, char **argv)
{
	if (argc >= 2 && !strcmp(argv[1], "demo"))
		return demo(argc - 1, argv + 1);
	if (argc == 2 && !strcmp(argv[1], "selftest"))
		return selftest();
	if (argc == 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
		usage(stdout);
		return 0;
	}
	if (argc >= 2 && !strcmp(argv[1], "report"))
		fprintf(stderr, "hsctl: report: a tracker can only be read by the process "
			"that attached it; link hsctl.h into the VMM or run 'hsctl demo'\n");
	else
		usage(stderr);
	return 2;
}

/* SPDX-License-Identifier: GPL-2.0 */
/*
 * hsctl - library side of the hugescope.ko user-space command.  The tracker
 * is per open /dev/hugescope file and ATTACH takes a KVM VM fd, so only the
 * process that owns the VM (the VMM) can attach and read it; a separate
 * `hsctl report --vm-fd N` cannot work.  A VMM therefore links these
 * helpers, reads SUMMARY and READ from its own file and prints or draws
 * them; `hsctl demo` (hsctl.c) is such a VMM.  Everything here works on
 * the ABI structures of hugescope_uapi.h and needs no state.
 */
#ifndef TOOLS_HSCTL_H
#define TOOLS_HSCTL_H

#include <stdint.h>
#include <stdio.h>
#include "hugescope_uapi.h"

/*
 * Every record of the VM tracked by @hs, paging through READ.  On success
 * *@recs is malloc()ed (free() it) and *@nr set; returns 0 or -errno.
 */
int hsctl_read_all(int hs, struct hugescope_region **recs, unsigned int *nr);

/* Name of an enum hugescope_state / enum hugescope_class value. */
const char *hsctl_state_name(uint32_t state);
const char *hsctl_class_name(uint32_t class);

/* Per-VM summary table, one "name value" line each, with derived costs. */
void hsctl_print_summary(FILE *f, const struct hugescope_summary *s);
/* Per-region table: one line per 2M record, plus a count per class. */
void hsctl_print_regions(FILE *f, const struct hugescope_region *recs,
			 unsigned int nr);

/*
 * Heat map as an 8-bit grayscale PNG: one row per record (2M region), one
 * column per 4K page (512).  Hot 4K pages are white; the other pages show
 * the region's class: cold black, hot/skewed dark grey, unknown (accessed
 * but not sampled at 4K) mid grey.  Returns 0 or -errno (-EINVAL if
 * @nr is 0, since PNG has no empty images).
 */
int hsctl_write_heatmap(const char *path, const struct hugescope_region *recs,
			unsigned int nr);

/*
 * PNG encoding, exposed for the self-test: the whole file for a @w x @h
 * grayscale image (@pix row-major), malloc()ed, its size in *@len; NULL
 * on allocation failure.
 */
uint8_t *hsctl_png_encode(const uint8_t *pix, uint32_t w, uint32_t h, size_t *len);
uint32_t hsctl_crc32(const uint8_t *p, size_t n);
uint32_t hsctl_adler32(const uint8_t *p, size_t n);

#endif

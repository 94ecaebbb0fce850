/*
 * capture.c - snapshot a live process's address space from /proc.  The VMA
 * list comes from /proc/PID/maps, the translations from /proc/PID/pagemap
 * (present bit and PFN; PFNs read as zero without CAP_SYS_ADMIN, in which
 * case we substitute unique fake frames and say so), page sizes from
 * /proc/PID/smaps (KernelPageSize for hugetlbfs, AnonHugePages/FilePmdMapped/
 * ShmemPmdMapped for PMD-mapped THPs) cross-checked with the THP bit of
 * /proc/kpageflags when it is readable, and A/D approximations from
 * kpageflags (see docs/lptsim.md: the PTE A/D bits themselves are not
 * exported).  Only present ranges are read (smaps Rss, PAGEMAP_SCAN), so
 * sparse terabyte reservations cost nothing.  The target is stopped with
 * SIGSTOP while we read so the three files describe one instant; "capture
 * -- cmd" starts the command, lets it run, captures and kills it, and a
 * capture series rescans it and records the changes as a trace.
 */
#include "capture.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "trace.h"

#define PM_PRESENT     (1ull << 63)
#define PM_SOFT_DIRTY  (1ull << 55)
#define PM_PFN_MASK    ((1ull << 55) - 1)

/* /proc/kpageflags bits (include/uapi/linux/kernel-page-flags.h). */
#define KPF_DIRTY      4
#define KPF_ANON       12
#define KPF_THP        22
#define KPF_ZERO_PAGE  24

/* Per-VMA facts from smaps that pagemap cannot tell us. */
struct smaps_info {
	uint64_t start;
	uint64_t kernel_page_kb;   /* 4, 2048 or 1048576 */
	uint64_t pmd_mapped_kb;    /* AnonHugePages + FilePmdMapped + ShmemPmdMapped */
	uint64_t rss_kb;           /* 0: nothing present, pagemap need not be read */
};

struct capture {
	pid_t pid;
	int pagemap_fd, kpageflags_fd;
	struct smaps_info *smaps;
	size_t nsmaps;
	uint64_t fake_pfn;         /* next substitute frame when PFNs are hidden */
	int pfns_hidden;
	int no_scan;               /* PAGEMAP_SCAN unsupported: read pagemap linearly */
	struct lptsim_snapshot *snap;
};

static int read_smaps(struct capture *c, struct lptsim_err *err)
{
	char path[64], line[1024];
	FILE *f;
	size_t cap = 0;
	unsigned long long a, b, kb;

	snprintf(path, sizeof(path), "/proc/%d/smaps", (int)c->pid);
	f = fopen(path, "r");
	if (!f)
		return lptsim_fail(err, "%s: %s", path, strerror(errno));
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%llx-%llx ", &a, &b) == 2 && strchr(line, '-') < strchr(line, ' ')) {
			if (c->nsmaps == cap) {
				cap = cap ? 2 * cap : 128;
				c->smaps = lptsim_xrealloc(c->smaps, cap, sizeof(*c->smaps));
			}
			/* Rss defaults to "unknown, read pagemap" until smaps says otherwise. */
			c->smaps[c->nsmaps++] = (struct smaps_info){ .start = a, .kernel_page_kb = 4,
								     .rss_kb = UINT64_MAX };
		} else if (c->nsmaps && sscanf(line, "Rss: %llu kB", &kb) == 1) {
			c->smaps[c->nsmaps - 1].rss_kb = kb;
		} else if (c->nsmaps && sscanf(line, "KernelPageSize: %llu kB", &kb) == 1) {
			c->smaps[c->nsmaps - 1].kernel_page_kb = kb;
		} else if (c->nsmaps && (sscanf(line, "AnonHugePages: %llu kB", &kb) == 1 ||
					 sscanf(line, "FilePmdMapped: %llu kB", &kb) == 1 ||
					 sscanf(line, "ShmemPmdMapped: %llu kB", &kb) == 1)) {
			c->smaps[c->nsmaps - 1].pmd_mapped_kb += kb;
		}
	}
	fclose(f);
	return 0;
}

static const struct smaps_info *smaps_for(const struct capture *c, uint64_t start)
{
	for (size_t i = 0; i < c->nsmaps; i++)
		if (c->smaps[i].start == start)
			return &c->smaps[i];
	return NULL;
}

static int read_pagemap(struct capture *c, uint64_t vpn, uint64_t *entries, size_t n,
			struct lptsim_err *err)
{
	size_t done = 0;

	while (done < n) {
		ssize_t got = pread(c->pagemap_fd, (char *)entries + done * 8, (n - done) * 8,
				    (off_t)((vpn + done) * 8));

		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0 || got % 8)
			return lptsim_fail(err, "/proc/%d/pagemap: read at vpn %llx failed: %s",
					   (int)c->pid, (unsigned long long)(vpn + done),
					   got < 0 ? strerror(errno) : "short read");
		done += (size_t)got / 8;
	}
	return 0;
}

/* kpageflags of a frame, or 0 when the file is not readable. */
static uint64_t kpageflags(const struct capture *c, uint64_t pfn)
{
	uint64_t flags = 0;

	if (c->kpageflags_fd < 0 ||
	    pread(c->kpageflags_fd, &flags, 8, (off_t)(pfn * 8)) != 8)
		return 0;
	return flags;
}

/*
 * Dirty is approximated: the frame's PG_dirty, or an anonymous non-zero-page
 * frame (it exists only because it was written), or soft-dirty on a
 * writable mapping when kpageflags is unavailable.
 */
static unsigned int page_flags(const struct capture *c, const char *perms, uint64_t pm,
			   uint64_t kpf)
{
	unsigned int flags = lptsim_perms_flags(perms);

	if (c->kpageflags_fd >= 0) {
		if ((kpf & (1ull << KPF_DIRTY)) ||
		    ((kpf & (1ull << KPF_ANON)) && !(kpf & (1ull << KPF_ZERO_PAGE))))
			flags |= LPTSIM_F_DIRTY;
	} else if ((pm & PM_SOFT_DIRTY) && perms[1] == 'w') {
		flags |= LPTSIM_F_DIRTY;
	}
	return flags;
}

static uint64_t entry_pfn(struct capture *c, uint64_t pm)
{
	uint64_t pfn = pm & PM_PFN_MASK;

	if (pfn == 0) {
		/* Hidden PFN (no CAP_SYS_ADMIN): unique fake frames keep models working. */
		c->pfns_hidden = 1;
		pfn = (1ull << 30) + c->fake_pfn++;
	}
	return pfn;
}

/* Can the 512 entries at e[0..511] be one PMD-mapped THP? */
static int looks_like_thp(const struct capture *c, const uint64_t *e)
{
	uint64_t pfn0 = e[0] & PM_PFN_MASK;

	if (!(e[0] & PM_PRESENT) || !pfn0 || (pfn0 & 511))
		return 0;
	for (int i = 1; i < 512; i++)
		if (!(e[i] & PM_PRESENT) || (e[i] & PM_PFN_MASK) != pfn0 + (uint64_t)i)
			return 0;
	if (c->kpageflags_fd >= 0 && !(kpageflags(c, pfn0) & (1ull << KPF_THP)))
		return 0;
	return 1;
}

/* Page size and remaining PMD-mapped THP budget of the VMA being captured. */
struct vma_ctx {
	const char *perms;
	uint64_t page_kb;
	uint64_t thp_budget;
	uint64_t *entries;     /* CAPTURE_CHUNK pagemap entries */
};

/* Entries per pagemap read, a multiple of 512 so 2M blocks never straddle reads. */
#define CAPTURE_CHUNK 4096

/* Record the present pages of [vpn, end_vpn), all inside one VMA. */
static int capture_range(struct capture *c, struct vma_ctx *vc, uint64_t vpn,
			 uint64_t end_vpn, struct lptsim_err *err)
{
	int rc = 0;

	while (vpn < end_vpn && !rc) {
		/* Chunks are aligned so a THP candidate never straddles two reads. */
		uint64_t chunk_end = ((vpn & ~(uint64_t)(CAPTURE_CHUNK - 1)) + CAPTURE_CHUNK);
		size_t n = (size_t)((chunk_end < end_vpn ? chunk_end : end_vpn) - vpn);

		rc = read_pagemap(c, vpn, vc->entries, n, err);
		for (size_t i = 0; i < n && !rc;) {
			uint64_t v = vpn + i, pm = vc->entries[i];
			unsigned int psize = LPTSIM_PS_4K;

			if (vc->page_kb == 1048576 && !(v & ((1u << 18) - 1)) && (pm & PM_PRESENT)) {
				psize = LPTSIM_PS_1G;
			} else if (vc->page_kb == 2048 && !(v & 511) && (pm & PM_PRESENT)) {
				psize = LPTSIM_PS_2M;
			} else if (vc->thp_budget && !(v & 511) && i + 512 <= n &&
				   looks_like_thp(c, &vc->entries[i])) {
				psize = LPTSIM_PS_2M;
				vc->thp_budget--;
			}
			if (psize != LPTSIM_PS_4K) {
				uint64_t pages = lptsim_psize_pages(psize);
				uint64_t pfn = entry_pfn(c, pm) & ~(pages - 1);

				if (lptsim_snap_add_map(c->snap, v, pfn, psize,
							page_flags(c, vc->perms, pm, kpageflags(c, pfn))))
					rc = lptsim_fail(err, "capture: too many pages");
				/* A 1G page spans chunks: skip its tail in whole entries. */
				if (pages > n - i) {
					vpn = v + pages;
					n = 0;
					break;
				}
				i += (size_t)pages;
				continue;
			}
			if ((pm & PM_PRESENT) && vc->page_kb == 4) {
				uint64_t pfn = entry_pfn(c, pm);

				if (lptsim_snap_add_map(c->snap, v, pfn, LPTSIM_PS_4K,
							page_flags(c, vc->perms, pm, kpageflags(c, pfn))))
					rc = lptsim_fail(err, "capture: too many pages");
			}
			i++;
		}
		vpn += n;
	}
	return rc;
}

/*
 * PAGEMAP_SCAN (Linux 6.7+) lists the present ranges of a VMA, so a sparse
 * multi-terabyte reservation costs a few ioctls instead of reading billions
 * of pagemap entries.  The uapi structs are spelled out because the build
 * host's headers may predate them; their layout is fixed ABI.
 */
struct lptsim_page_region {
	uint64_t start, end, categories;
};

struct lptsim_pm_scan_arg {
	uint64_t size, flags, start, end, walk_end, vec, vec_len, max_pages;
	uint64_t category_inverted, category_mask, category_anyof_mask, return_mask;
};

#define LPTSIM_PAGEMAP_SCAN     _IOWR('f', 16, struct lptsim_pm_scan_arg)
#define LPTSIM_PAGE_IS_PRESENT  (1u << 3)
#define LPTSIM_PAGE_IS_HUGE     (1u << 6)

/*
 * A present range the kernel maps with PMDs (PAGE_IS_HUGE outside hugetlbfs):
 * exact THP detection, root or not, so the alignment-and-kpageflags guess is
 * not needed on this path.
 */
static int capture_pmd_range(struct capture *c, struct vma_ctx *vc, uint64_t vpn,
			     uint64_t end_vpn, struct lptsim_err *err)
{
	for (; vpn + 512 <= end_vpn; vpn += 512) {
		uint64_t pm;

		if (vpn & 511)
			return capture_range(c, vc, vpn, end_vpn, err);
		if (read_pagemap(c, vpn, &pm, 1, err))
			return -1;
		if (lptsim_snap_add_map(c->snap, vpn, entry_pfn(c, pm) & ~511ull, LPTSIM_PS_2M,
					page_flags(c, vc->perms, pm,
						   kpageflags(c, (pm & PM_PFN_MASK) & ~511ull))))
			return lptsim_fail(err, "capture: too many pages");
	}
	return vpn < end_vpn ? capture_range(c, vc, vpn, end_vpn, err) : 0;
}

/* Capture [start, end) through PAGEMAP_SCAN; -2 if the kernel lacks it. */
static int capture_scanned(struct capture *c, struct vma_ctx *vc, uint64_t start,
			   uint64_t end, struct lptsim_err *err)
{
	enum { REGIONS = 512 };
	struct lptsim_page_region region[REGIONS];
	struct lptsim_pm_scan_arg arg;
	uint64_t pos = start;

	while (pos < end) {
		long got;

		memset(&arg, 0, sizeof(arg));
		arg.size = sizeof(arg);
		arg.start = pos;
		arg.end = end;
		arg.vec = (uintptr_t)region;
		arg.vec_len = REGIONS;
		arg.category_mask = LPTSIM_PAGE_IS_PRESENT;
		arg.return_mask = LPTSIM_PAGE_IS_PRESENT | LPTSIM_PAGE_IS_HUGE;
		got = ioctl(c->pagemap_fd, LPTSIM_PAGEMAP_SCAN, &arg);
		if (got < 0)
			return pos == start ? -2 : lptsim_fail(err, "/proc/%d/pagemap: PAGEMAP_SCAN: %s",
							      (int)c->pid, strerror(errno));
		for (long r = 0; r < got; r++) {
			uint64_t lo = region[r].start >> 12, hi = region[r].end >> 12;
			int huge = (region[r].categories & LPTSIM_PAGE_IS_HUGE) && vc->page_kb == 4;

			if (huge ? capture_pmd_range(c, vc, lo, hi, err) :
				   capture_range(c, vc, lo, hi, err))
				return -1;
		}
		/* walk_end says how far the kernel got; no progress means done. */
		if (arg.walk_end <= pos)
			break;
		pos = arg.walk_end;
	}
	return 0;
}

static int capture_vma(struct capture *c, uint64_t start, uint64_t end,
		       const char *perms, struct lptsim_err *err)
{
	const struct smaps_info *info = smaps_for(c, start);
	struct vma_ctx vc = {
		.perms = perms,
		.page_kb = info ? info->kernel_page_kb : 4,
		.thp_budget = info ? info->pmd_mapped_kb / 2048 : 0,
	};
	int rc;

	/* smaps says nothing is present: no need to look. */
	if (info && info->rss_kb == 0)
		return 0;
	vc.entries = lptsim_xrealloc(NULL, CAPTURE_CHUNK, sizeof(*vc.entries));
	rc = -2;
	if (!c->no_scan) {
		/* The scan reports PMD mappings itself: no guessing from 4K entries. */
		uint64_t budget = vc.thp_budget;

		vc.thp_budget = 0;
		rc = capture_scanned(c, &vc, start, end, err);
		vc.thp_budget = budget;
	}
	if (rc == -2) {
		/* Old kernel: read every entry of the VMA. */
		c->no_scan = 1;
		rc = capture_range(c, &vc, start >> 12, end >> 12, err);
	}
	free(vc.entries);
	return rc;
}

static int capture_maps(struct capture *c, struct lptsim_err *err)
{
	char path[64], line[4096];
	FILE *f;
	int rc = 0;

	snprintf(path, sizeof(path), "/proc/%d/maps", (int)c->pid);
	f = fopen(path, "r");
	if (!f)
		return lptsim_fail(err, "%s: %s", path, strerror(errno));
	while (!rc && fgets(line, sizeof(line), f)) {
		char *field[6], *nl = strchr(line, '\n');
		uint64_t start, end;
		char *dash;
		int n;

		if (nl)
			*nl = '\0';
		n = lptsim_split(line, field, 6);
		dash = n >= 5 ? strchr(field[0], '-') : NULL;
		if (!dash) {
			rc = lptsim_fail(err, "%s: unparsable line \"%s\"", path, line);
			break;
		}
		*dash = '\0';
		if (lptsim_parse_u64(field[0], 16, &start) || lptsim_parse_u64(dash + 1, 16, &end) ||
		    start >= end || strlen(field[1]) != 4) {
			rc = lptsim_fail(err, "%s: bad range or permissions in a line", path);
			break;
		}
		/* [vsyscall] lives above the user half and is not in the process page table. */
		if (end > (LPTSIM_VPN_LIMIT << 12))
			continue;
		lptsim_snap_add_vma(c->snap, start, end, field[1], n == 6 ? field[5] : "");
	}
	fclose(f);
	for (size_t i = 0; !rc && i < c->snap->nvmas; i++) {
		const struct lptsim_vma *vma = &c->snap->vmas[i];

		rc = capture_vma(c, vma->start, vma->end, vma->perms, err);
	}
	return rc;
}

/*
 * The state letter of /proc/PID/stat (R, S, T, Z...), 0 if unreadable.  The
 * command name before it may contain anything, so parse from the last ')'.
 */
static char proc_state(pid_t pid)
{
	char path[64], buf[512], *paren = NULL;
	char state = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	f = fopen(path, "r");
	if (!f)
		return 0;
	if (fgets(buf, sizeof(buf), f))
		paren = strrchr(buf, ')');
	if (paren && paren[1] == ' ')
		state = paren[2];
	fclose(f);
	return state;
}

/* Wait until every thread of pid is stopped (state T), at most ~1 s. */
static void wait_stopped(pid_t pid)
{
	struct timespec tick = { 0, 5 * 1000 * 1000 };

	for (int tries = 0; tries < 200; tries++) {
		char state = proc_state(pid);

		if (!state || state == 'T' || state == 't')
			return;
		nanosleep(&tick, NULL);
	}
}

/* The kernel's own page-table size for the process, -1 if unknown. */
static long vmpte_kb(pid_t pid)
{
	char path[64], line[256];
	long kb = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmPTE: %ld kB", &kb) == 1)
			break;
	fclose(f);
	return kb;
}

/*
 * The source line names the process and carries VmPTE, the kernel's count
 * of its page-table memory, which the radix model's table size can be
 * checked against.
 */
static void describe(struct capture *c, const char *what)
{
	char path[64], comm[64] = "?", source[256];
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/comm", (int)c->pid);
	f = fopen(path, "r");
	if (f) {
		if (fgets(comm, sizeof(comm), f))
			comm[strcspn(comm, "\n")] = '\0';
		fclose(f);
	}
	snprintf(source, sizeof(source), "capture pid=%d comm=%s vmpte_kb=%ld%s%s", (int)c->pid,
		 comm, vmpte_kb(c->pid), what ? " cmd=" : "", what ? what : "");
	lptsim_sanitize_line(source, sizeof(source), source);
	c->snap->source = lptsim_xstrdup(source);
}

/* One capture of pid into snap; warn about degraded sources when asked. */
static int capture_once(struct lptsim_snapshot *snap, pid_t pid, int stop,
			const char *what, int warn, struct lptsim_err *err)
{
	struct capture c = { .pid = pid, .snap = snap, .kpageflags_fd = -1 };
	char path[64];
	int rc;

	lptsim_snap_init(snap);
	snprintf(path, sizeof(path), "/proc/%d/pagemap", (int)pid);
	c.pagemap_fd = open(path, O_RDONLY);
	if (c.pagemap_fd < 0)
		return lptsim_fail(err, "%s: %s", path, strerror(errno));
	c.kpageflags_fd = open("/proc/kpageflags", O_RDONLY);
	if (stop && !kill(pid, SIGSTOP))
		wait_stopped(pid);
	describe(&c, what);
	rc = read_smaps(&c, err);
	if (!rc)
		rc = capture_maps(&c, err);
	if (stop)
		kill(pid, SIGCONT);
	close(c.pagemap_fd);
	if (c.kpageflags_fd >= 0)
		close(c.kpageflags_fd);
	free(c.smaps);
	if (!rc && warn && c.pfns_hidden)
		fprintf(stderr, "lptsim: warning: pid %d: PFNs hidden (not CAP_SYS_ADMIN); using fake frames\n",
			(int)pid);
	if (!rc && warn && c.kpageflags_fd < 0)
		fprintf(stderr, "lptsim: warning: /proc/kpageflags unreadable; THPs taken from smaps alone, dirty from soft-dirty\n");
	if (!rc)
		rc = lptsim_snap_finish(snap, "capture", err);
	if (rc)
		lptsim_snap_free(snap);
	return rc;
}

/* Has pid exited (or become a zombie)?  Sets *status for our own child. */
static int gone(pid_t pid, int is_child, int *status)
{
	char state;

	if (is_child) {
		/* WNOWAIT: leave the zombie for the caller's final reap. */
		siginfo_t info;

		memset(&info, 0, sizeof(info));
		if (waitid(P_PID, (id_t)pid, &info, WEXITED | WNOHANG | WNOWAIT) || info.si_pid != pid)
			return 0;
		*status = info.si_code == CLD_EXITED ? info.si_status : -1;
		return 1;
	}
	if (kill(pid, 0))
		return 1;
	state = proc_state(pid);
	return !state || state == 'Z';
}

/* Sleep up to seconds in short naps; 1 if pid went away meanwhile. */
static int nap_while_alive(pid_t pid, double seconds, int is_child, int *status)
{
	double deadline = lptsim_now() + seconds;

	for (;;) {
		double left = deadline - lptsim_now();
		struct timespec nap;

		if (gone(pid, is_child, status))
			return 1;
		if (left <= 0)
			return 0;
		if (left > 0.05)
			left = 0.05;
		nap.tv_sec = 0;
		nap.tv_nsec = (long)(left * 1e9);
		nanosleep(&nap, NULL);
	}
}

/*
 * The first capture goes to snap; with a series, rescan every `every`
 * seconds for `duration` seconds and write the differences as trace events.
 * The series ends early, without error, when the process exits.
 */
static int capture_with_series(struct lptsim_snapshot *snap, pid_t pid, int stop,
			       const char *what, int is_child,
			       struct lptsim_capture_series *series, struct lptsim_err *err)
{
	struct lptsim_snapshot prev, next;
	char source[256];
	double end;
	int status, prev_is_first;

	if (capture_once(snap, pid, stop, what, 1, err))
		return -1;
	if (!series)
		return 0;
	lptsim_sanitize_line(source, sizeof(source), snap->source);
	fprintf(series->trace, "lptsim-trace 1\n# %s, rescanned every %.2f s\n",
		source, series->every);
	series->events = 0;
	series->scans = 1;
	prev = *snap;
	prev_is_first = 1;
	end = lptsim_now() + series->duration;
	while (lptsim_now() + series->every <= end + 1e-3) {
		struct lptsim_err scan_err;

		if (nap_while_alive(pid, series->every, is_child, &status))
			break;
		/* A scan racing with exit fails; the series simply ends there. */
		if (capture_once(&next, pid, stop, what, 0, &scan_err))
			break;
		series->events += lptsim_trace_diff(series->trace, &prev, &next);
		series->scans++;
		if (!prev_is_first)
			lptsim_snap_free(&prev);
		prev = next;
		prev_is_first = 0;
	}
	if (!prev_is_first)
		lptsim_snap_free(&prev);
	fprintf(series->trace, "end %llu\n", (unsigned long long)series->events);
	return 0;
}

int lptsim_capture_pid(struct lptsim_snapshot *snap, pid_t pid, int stop,
		       struct lptsim_capture_series *series, struct lptsim_err *err)
{
	lptsim_snap_init(snap);
	if (pid <= 0 || pid == getpid())
		return lptsim_fail(err, "capture: refusing pid %d", (int)pid);
	if (kill(pid, 0))
		return lptsim_fail(err, "capture: pid %d: %s", (int)pid, strerror(errno));
	return capture_with_series(snap, pid, stop, NULL, 0, series, err);
}

int lptsim_capture_cmd(struct lptsim_snapshot *snap, char *const argv[], double after,
		       struct lptsim_capture_series *series, struct lptsim_err *err)
{
	char what[200] = "";
	pid_t pid;
	int status = 0, rc;

	lptsim_snap_init(snap);
	if (!(after >= 0.0 && after <= 3600.0))
		return lptsim_fail(err, "capture: --after must be within [0, 3600] seconds");
	for (int i = 0; argv[i]; i++)
		snprintf(what + strlen(what), sizeof(what) - strlen(what), "%s%s", i ? " " : "", argv[i]);
	fflush(NULL);
	pid = fork();
	if (pid < 0)
		return lptsim_fail(err, "capture: fork: %s", strerror(errno));
	if (pid == 0) {
		/* The program's stdout is not ours to pollute; stderr stays for diagnostics. */
		int devnull = open("/dev/null", O_WRONLY);

		if (devnull >= 0)
			dup2(devnull, STDOUT_FILENO);
		execvp(argv[0], argv);
		fprintf(stderr, "lptsim: capture: cannot run %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	if (nap_while_alive(pid, after, 1, &status)) {
		waitpid(pid, NULL, 0);
		return lptsim_fail(err, "capture: \"%s\" exited (status %d) before the %.2f s capture point",
				   what, status, after);
	}
	rc = capture_with_series(snap, pid, 1, what, 1, series, err);
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	return rc;
}

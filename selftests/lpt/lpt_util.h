/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Shared helpers of the learned-page-table guest selftests and benchmarks:
 * the prctl numbers, TAP output, loading lpt.ko, and reading the emulated
 * MMU's LPT counters (MSRs 0x4c505510.., include/lpt/lpt_abi.h) summed over
 * all CPUs through /dev/cpu/N/msr.  Header-only so each static test binary
 * stays one file plus this.
 */
#ifndef SELFTESTS_LPT_UTIL_H
#define SELFTESTS_LPT_UTIL_H

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "lpt/lpt_abi.h"
#include "walkstat/walkstat_msr.h"
#include "mmodel/mmodel_msr.h"

#define PR_SET_LPT	0x4c505453
#define PR_GET_LPT	0x4c505447

#define LPTU_MAX_CPUS	64

static int lptu_tap_run, lptu_tap_failed;

static inline void __attribute__((format(printf, 2, 3)))
tap(int ok, const char *fmt, ...)
{
	va_list ap;

	lptu_tap_run++;
	if (!ok)
		lptu_tap_failed++;
	printf("%sok %d - ", ok ? "" : "not ", lptu_tap_run);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
}

static inline void __attribute__((noreturn)) bail(const char *what)
{
	printf("Bail out! %s: %s\n", what, strerror(errno));
	fflush(stdout);
	exit(1);
}

static inline double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Load lpt.ko if it is not loaded yet; 0 or -errno. */
static inline int lptu_load_module(const char *params)
{
	int fd = open("/lib/modules/extra/lpt.ko", O_RDONLY | O_CLOEXEC);
	int r;

	if (access("/sys/module/lpt", F_OK) == 0) {
		if (fd >= 0)
			close(fd);
		return 0;
	}
	if (fd < 0)
		return -errno;
	r = syscall(SYS_finit_module, fd, params ? params : "", 0);
	r = r ? -errno : 0;
	close(fd);
	return r;
}

static int lptu_ncpus = -1;
static int lptu_msr_fd[LPTU_MAX_CPUS];

static inline int lptu_open_msrs(void)
{
	char path[64];

	if (lptu_ncpus >= 0)
		return lptu_ncpus;
	lptu_ncpus = 0;
	for (int c = 0; c < LPTU_MAX_CPUS; c++) {
		snprintf(path, sizeof(path), "/dev/cpu/%d/msr", c);
		lptu_msr_fd[c] = open(path, O_RDONLY | O_CLOEXEC);
		if (lptu_msr_fd[c] < 0)
			break;
		lptu_ncpus++;
	}
	return lptu_ncpus;
}

static inline int lptu_rdmsr(int cpu, uint32_t msr, uint64_t *val)
{
	return pread(lptu_msr_fd[cpu], val, 8, msr) == 8 ? 0 : -1;
}

/* The LPT_CTL MSR of CPU 0, or 0 if the MMU has no LPT. */
static inline uint64_t lptu_ctl(void)
{
	uint64_t v;

	if (lptu_open_msrs() < 1 || lptu_rdmsr(0, LPT_MSR_CTL, &v))
		return 0;
	return v;
}

/* Machine-model counters (lib/mmodel/mmodel_msr.h) as MM_<id>. */
#define MM_ENUM(id, name) MM_##id,
enum { MMODEL_MSR_COUNTERS(MM_ENUM) MM_NR };
#undef MM_ENUM

/* Machine-model counters summed over CPUs; -1 without the model. */
static inline int lptu_mmodel_read(uint64_t *c)
{
	uint64_t v;

	memset(c, 0, MM_NR * sizeof(*c));
	if (lptu_open_msrs() < 1 || lptu_rdmsr(0, MSR_MMODEL_VERSION, &v) ||
	    (v & 0xff) != MMODEL_ABI_VERSION || ((v >> 8) & 0xff) < MM_NR)
		return -1;
	for (int cpu = 0; cpu < lptu_ncpus; cpu++)
		for (int i = 0; i < MM_NR; i++) {
			if (lptu_rdmsr(cpu, MSR_MMODEL_COUNTER0 + i, &v))
				return -1;
			c[i] += v;
		}
	return 0;
}

/* Walk references the model charged to a cache level, any walk kind. */
static inline uint64_t lptu_mmodel_walk_refs(const uint64_t *m0,
					     const uint64_t *m1)
{
	uint64_t refs = 0;

	for (int k = MM_WALK_S1_L1; k <= MM_WALK_2D_DRAM; k++)
		refs += m1[k] - m0[k];
	return refs;
}

/*
 * The machine model's figures between two reads, as key=value fields that
 * make bench parses (after the caller's prefix, before a newline).
 */
static inline void lptu_mmodel_print(const uint64_t *m0, const uint64_t *m1)
{
	printf("cycles=%llu cycles_insn=%llu cycles_data=%llu cycles_walk=%llu cycles_switch=%llu insns=%llu walk_refs=%llu walk_dram=%llu walk_llc=%llu\n",
	       (unsigned long long)(m1[MM_CYCLES] - m0[MM_CYCLES]),
	       (unsigned long long)(m1[MM_CYCLES_INSN] - m0[MM_CYCLES_INSN]),
	       (unsigned long long)(m1[MM_CYCLES_DATA] - m0[MM_CYCLES_DATA]),
	       (unsigned long long)(m1[MM_CYCLES_WALK] - m0[MM_CYCLES_WALK]),
	       (unsigned long long)(m1[MM_CYCLES_SWITCH] - m0[MM_CYCLES_SWITCH]),
	       (unsigned long long)(m1[MM_INSNS_USER] - m0[MM_INSNS_USER] +
				    m1[MM_INSNS_KERNEL] - m0[MM_INSNS_KERNEL]),
	       (unsigned long long)lptu_mmodel_walk_refs(m0, m1),
	       (unsigned long long)(m1[MM_WALK_S1_DRAM] - m0[MM_WALK_S1_DRAM]),
	       (unsigned long long)(m1[MM_WALK_S1_LLC] - m0[MM_WALK_S1_LLC]));
}

struct lptu_counters {
	uint64_t c[LPT_CNT_NR];
};

/* Sum of every LPT counter over all CPUs; 0 on success. */
static inline int lptu_read(struct lptu_counters *s)
{
	memset(s, 0, sizeof(*s));
	if (lptu_open_msrs() < 1)
		return -1;
	for (int cpu = 0; cpu < lptu_ncpus; cpu++)
		for (int i = 0; i < LPT_CNT_NR; i++) {
			uint64_t v;

			if (lptu_rdmsr(cpu, LPT_MSR_COUNTER0 + i, &v))
				return -1;
			s->c[i] += v;
		}
	return 0;
}

static inline void lptu_delta(struct lptu_counters *d,
			      const struct lptu_counters *a,
			      const struct lptu_counters *b)
{
	for (int i = 0; i < LPT_CNT_NR; i++)
		d->c[i] = b->c[i] - a->c[i];
}

/* Read a whole small file into @buf (NUL-terminated); bytes or -1. */
static inline ssize_t lptu_read_file(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n, got = 0;

	if (fd < 0)
		return -1;
	while (got < (ssize_t)len - 1 &&
	       (n = read(fd, buf + got, len - 1 - got)) > 0)
		got += n;
	close(fd);
	buf[got] = 0;
	return got;
}

static inline int lptu_write_file(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = write(fd, s, strlen(s));
	close(fd);
	return n == (ssize_t)strlen(s) ? 0 : -1;
}

/* lpt.ko's machine-wide counters, one "key value" per line. */
#define LPTU_STATS_PATH	"/sys/kernel/debug/lpt/stats"

/*
 * Value of "@key <number>" or "@key: <number>" or "@key=<number>" in a
 * text file such as /proc/vmstat or lpt.ko's debugfs stats; -1 if absent.
 */
static inline long long lptu_file_value(const char *path, const char *key)
{
	static char buf[1 << 16];
	size_t kl = strlen(key);
	char *p;

	if (lptu_read_file(path, buf, sizeof(buf)) < 0)
		return -1;
	for (p = buf; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : p) {
		while (*p == ' ' || *p == '\t')
			p++;
		if (strncmp(p, key, kl))
			continue;
		p += kl;
		if (*p != ' ' && *p != ':' && *p != '=' && *p != '\t')
			continue;
		while (*p == ' ' || *p == ':' || *p == '=' || *p == '\t')
			p++;
		return strtoll(p, NULL, 0);
	}
	return -1;
}

#endif /* SELFTESTS_LPT_UTIL_H */

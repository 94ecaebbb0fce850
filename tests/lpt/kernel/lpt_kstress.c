// SPDX-License-Identifier: GPL-2.0
/*
 * lpt_kstress - stress lpt.ko's own machinery in a guest whose MMU runs the
 * LPT in strict and cross-check mode (QEMU lpt=on,lpt-strict=on,
 * lpt-crosscheck=on), as root.  Where selftests/lpt/lpt_test walks through
 * the kinds of address-space change, this one aims at the module: retrains
 * racing with munmap (the invalidation log replayed onto a table built
 * from a snapshot), prctl on/off while other threads fault, hugetlb 2M and
 * 1G leaves, the fallback to radix when no index fits, the OOM reaper's
 * non-blocking invalidations, module unload and reload under load, and the
 * retrains an exec costs.
 *
 * Every scenario checks the data it wrote (a pattern of offset and seed,
 * so data that moves stays checkable), lpt.ko's own comparison of the
 * process's LPT with its radix table (/sys/kernel/debug/lpt/check: stale
 * entries), and the MMU's counters: no cross-check mismatch, no radix walk
 * of a user address.  Output is TAP.  It cannot see a stale translation
 * that lives only in a TLB and is never used; the cross-check sees every
 * one that is.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <sys/klog.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>

/* tap(), bail(), now_s(), debugfs/proc readers, MMU counters, lpt.ko. */
#include "../../../selftests/lpt/lpt_util.h"

#define MiB		(1UL << 20)
#define PAGE		4096UL
#define DBG		"/sys/kernel/debug/lpt/"

static uint64_t rng_next(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/* ---- data patterns: offset and seed, never the address ---- */

static uint64_t pat(size_t off, uint64_t seed)
{
	uint64_t x = off ^ (seed * 0x9e3779b97f4a7c15ULL);

	x ^= x >> 31;
	return x * 0xbf58476d1ce4e5b9ULL + 1;
}

static void fill(char *p, size_t len, uint64_t seed)
{
	for (size_t o = 0; o < len; o += 512)
		*(uint64_t *)(p + o) = pat(o, seed);
}

static size_t bad(const char *p, size_t len, uint64_t seed)
{
	size_t n = 0;

	for (size_t o = 0; o < len; o += 512)
		n += *(const uint64_t *)(p + o) != pat(o, seed);
	return n;
}

/* ---- files ---- */

static long long kv(const char *path, const char *key)
{
	return lptu_file_value(path, key);
}

static long long read_long(const char *path)
{
	char buf[64];

	return lptu_read_file(path, buf, sizeof(buf)) > 0 ?
	       strtoll(buf, NULL, 0) : -1;
}

static char *kv_str(const char *path, const char *key, char *out, size_t len)
{
	char buf[4096], *p;

	out[0] = 0;
	if (lptu_read_file(path, buf, sizeof(buf)) < 0)
		return out;
	for (p = strtok(buf, "\n"); p; p = strtok(NULL, "\n"))
		if (!strncmp(p, key, strlen(key)) && p[strlen(key)] == ' ')
			snprintf(out, len, "%s", p + strlen(key) + 1);
	return out;
}

/* lpt.ko's comparison of this process's LPT with its radix table. */
static long long stale_entries(long long *entries)
{
	if (entries)
		*entries = kv(DBG "check", "entries");
	if (kv(DBG "check", "stable") != 1)
		return -1;
	return kv(DBG "check", "stale");
}

/* ---- MMU counters, summed over CPUs ---- */

/* No mismatch and no radix walk of a user address since @a. */
static void mmu_clean(const char *what, const struct lptu_counters *a)
{
	struct lptu_counters b, d;

	if (lptu_read(&b))
		bail("read LPT counters");
	lptu_delta(&d, a, &b);
	tap(!d.c[LPT_CNT_MISMATCHES] && !d.c[LPT_CNT_RADIX_USER] &&
	    d.c[LPT_CNT_WALKS],
	    "%s: mmu: %llu LPT walks, %llu cross-check mismatches, %llu radix user walks",
	    what, (unsigned long long)d.c[LPT_CNT_WALKS],
	    (unsigned long long)d.c[LPT_CNT_MISMATCHES],
	    (unsigned long long)d.c[LPT_CNT_RADIX_USER]);
}

static void mmu_read(struct lptu_counters *s)
{
	if (lptu_read(s))
		bail("read LPT counters");
}

static int run_child(void (*fn)(void *), void *arg)
{
	int st;
	pid_t c = fork();

	if (c < 0)
		bail("fork");
	if (!c) {
		fn(arg);
		_exit(0);
	}
	waitpid(c, &st, 0);
	return st;
}

/* ---- 1. retrains racing with munmap ---- */

struct race {
	volatile int stop;
	uint64_t seed;
	long errors, rounds;
};

/* Far-apart small mappings: new clusters, so new leaves and retrains. */
static void *scatter_thread(void *arg)
{
	struct race *r = arg;
	uint64_t s = r->seed;

	while (!r->stop) {
		uintptr_t hint = (0x100000000000ULL +
				  (rng_next(&s) % 0x5f0000000000ULL)) & ~(2 * MiB - 1);
		size_t len = (1 + rng_next(&s) % 64) * PAGE;
		char *p = mmap((void *)hint, len, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE,
			       -1, 0);

		if (p == MAP_FAILED)
			continue;
		fill(p, len, hint);
		r->errors += bad(p, len, hint);
		munmap(p, len);
		r->rounds++;
	}
	return NULL;
}

/* A working set whose pieces are unmapped and remapped all the time. */
static void *churn_thread(void *arg)
{
	struct race *r = arg;
	enum { SLOTS = 16 };
	char *slot[SLOTS];
	uint64_t gen[SLOTS], s = r->seed;
	size_t len = MiB;

	for (int i = 0; i < SLOTS; i++) {
		slot[i] = mmap(NULL, len, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		gen[i] = i;
		fill(slot[i], len, gen[i]);
	}
	while (!r->stop) {
		int i = rng_next(&s) % SLOTS;

		r->errors += bad(slot[i], len, gen[i]);
		switch (rng_next(&s) % 4) {
		case 0:
			munmap(slot[i], len);
			slot[i] = mmap(NULL, len, PROT_READ | PROT_WRITE,
				       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
			break;
		case 1:
			madvise(slot[i], len / 2, MADV_DONTNEED);
			break;
		case 2:
			mprotect(slot[i], len, PROT_READ);
			r->errors += bad(slot[i], len, gen[i]);
			mprotect(slot[i], len, PROT_READ | PROT_WRITE);
			break;
		default:
			break;
		}
		gen[i] = rng_next(&s);
		fill(slot[i], len, gen[i]);
		r->rounds++;
	}
	for (int i = 0; i < SLOTS; i++)
		munmap(slot[i], len);
	return NULL;
}

static void test_retrain_race(void)
{
	struct race sc = { .seed = 0x1234567 }, ch[2] = {
		{ .seed = 0xabcdef1 }, { .seed = 0x7777777 } };
	long long r0 = kv(DBG "self", "retrains"), stale_max = 0, st;
	pthread_t t[3];
	struct lptu_counters a;
	double t0 = now_s();
	int checks = 0;

	mmu_read(&a);
	pthread_create(&t[0], NULL, scatter_thread, &sc);
	pthread_create(&t[1], NULL, churn_thread, &ch[0]);
	pthread_create(&t[2], NULL, churn_thread, &ch[1]);
	while (now_s() - t0 < 20) {
		st = stale_entries(NULL);
		if (st != 0 && st > stale_max)
			stale_max = st;
		checks += st >= 0;
		usleep(200000);
	}
	sc.stop = ch[0].stop = ch[1].stop = 1;
	for (int i = 0; i < 3; i++)
		pthread_join(t[i], NULL);
	tap(!sc.errors && !ch[0].errors && !ch[1].errors,
	    "retrain race: %ld scatter + %ld/%ld churn rounds, %ld bad words",
	    sc.rounds, ch[0].rounds, ch[1].rounds,
	    sc.errors + ch[0].errors + ch[1].errors);
	tap(stale_max == 0 && checks > 0,
	    "retrain race: %d stable LPT/radix comparisons, max stale %lld, %lld retrains",
	    checks, stale_max, kv(DBG "self", "retrains") - r0);
	mmu_clean("retrain race", &a);
}

/* ---- 2. prctl on/off while other threads fault ---- */

static void test_toggle(void)
{
	struct race ch[2] = { { .seed = 11 }, { .seed = 12 } };
	pthread_t t[2];
	struct lptu_counters a;
	int fails = 0;

	mmu_read(&a);
	for (int i = 0; i < 2; i++)
		pthread_create(&t[i], NULL, churn_thread, &ch[i]);
	for (int i = 0; i < 40; i++) {
		fails += prctl(PR_SET_LPT, i & 1, 0, 0, 0) != 0;
		usleep(50000 + (i % 7) * 10000);
	}
	fails += prctl(PR_SET_LPT, 1, 0, 0, 0) != 0;
	usleep(200000);
	ch[0].stop = ch[1].stop = 1;
	for (int i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
	tap(!fails && !ch[0].errors && !ch[1].errors &&
	    prctl(PR_GET_LPT, 0, 0, 0, 0) == 3,
	    "toggle: 41 PR_SET_LPT while 2 threads churn (%d failed, %ld bad words)",
	    fails, ch[0].errors + ch[1].errors);
	tap(stale_entries(NULL) == 0, "toggle: no stale entry after");
	mmu_clean("toggle", &a);
}

/* ---- 3. hugetlb 2M and 1G leaves ---- */

static void test_hugetlb(void)
{
	const char *n2m = "/sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages";
	const char *n1g = "/sys/kernel/mm/hugepages/hugepages-1048576kB/nr_hugepages";
	const char *n1g_node1 =
		"/sys/devices/system/node/node1/hugepages/hugepages-1048576kB/nr_hugepages";
	struct lptu_counters a, b;
	size_t len = 8 * MiB;
	long long entries = -1;
	char *p;

	lptu_write_file(n2m, "8");
	mmu_read(&a);
	p = mmap(NULL, len, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB, -1, 0);
	if (p == MAP_FAILED) {
		tap(0, "hugetlb 2M: mmap: %s", strerror(errno));
	} else {
		long long st;

		fill(p, len, 21);
		st = stale_entries(&entries);
		tap(!bad(p, len, 21) && st == 0,
		    "hugetlb 2M: 8 MiB written and read back, %lld LPT entries, %lld stale",
		    entries, st);
		mmu_read(&b);
		tap(b.c[LPT_CNT_LEAF_2M] > a.c[LPT_CNT_LEAF_2M], "hugetlb 2M: %llu 2M leaf walks",
		    (unsigned long long)(b.c[LPT_CNT_LEAF_2M] - a.c[LPT_CNT_LEAF_2M]));
		munmap(p, len);
	}
	lptu_write_file(n2m, "0");

	/* 1 GiB of contiguous memory: compact, then ask the 1.5 GiB node. */
	lptu_write_file("/proc/sys/vm/compact_memory", "1");
	if (lptu_write_file(n1g_node1, "1") || read_long(n1g) < 1)
		lptu_write_file(n1g, "1");
	if (read_long(n1g) < 1) {
		tap(1, "hugetlb 1G: # SKIP no 1 GiB page could be reserved");
		return;
	}
	mmu_read(&a);
	len = 1UL << 30;
	p = mmap(NULL, len, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB | (30 << MAP_HUGE_SHIFT),
		 -1, 0);
	if (p == MAP_FAILED) {
		tap(1, "hugetlb 1G: # SKIP mmap: %s", strerror(errno));
	} else {
		size_t n = 0;

		for (size_t o = 0; o < len; o += 64 * MiB)
			*(uint64_t *)(p + o) = pat(o, 22);
		for (size_t o = 0; o < len; o += 64 * MiB)
			n += *(uint64_t *)(p + o) != pat(o, 22);
		mmu_read(&b);
		tap(!n && b.c[LPT_CNT_LEAF_1G] > a.c[LPT_CNT_LEAF_1G] && stale_entries(NULL) == 0,
		    "hugetlb 1G: 16 words across the page, %llu 1G leaf walks, LPT consistent",
		    (unsigned long long)(b.c[LPT_CNT_LEAF_1G] - a.c[LPT_CNT_LEAF_1G]));
		munmap(p, len);
	}
	lptu_write_file(n1g, "0");
	mmu_clean("hugetlb", &a);
}

/* ---- 4. no index fits: fallback to radix ---- */

static void fallback_child(void *arg)
{
	uint64_t s = 0x5eed;
	char state[32];
	int n = 0, r;
	char **pages = calloc(20000, sizeof(*pages));

	(void)arg;
	/* Touch while off, then ask: the build sees every page at once. */
	if (prctl(PR_SET_LPT, 0, 0, 0, 0))
		_exit(10);
	while (n < 20000) {
		uintptr_t va = (0x10000000000ULL + rng_next(&s) % 0x6f0000000000ULL) &
			       ~(PAGE - 1);
		char *p = mmap((void *)va, PAGE, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE,
			       -1, 0);

		if (p == MAP_FAILED)
			continue;
		*(uint64_t *)p = pat(n, 31);
		pages[n++] = p;
	}
	r = prctl(PR_SET_LPT, 1, 0, 0, 0);
	kv_str(DBG "self", "state", state, sizeof(state));
	printf("# fallback: PR_SET_LPT 1 -> %d (%s), state %s, get %d\n", r,
	       r ? strerror(errno) : "ok", state, prctl(PR_GET_LPT, 0, 0, 0, 0));
	for (int i = 0; i < n; i++)
		if (*(uint64_t *)pages[i] != pat(i, 31))
			_exit(11);
	if (r == 0)
		_exit(12);	/* an index fitted after all */
	if (strcmp(state, "fallback") || (prctl(PR_GET_LPT, 0, 0, 0, 0) & 2))
		_exit(13);
	_exit(0);
}

static void test_fallback(void)
{
	long long f0 = kv(DBG "stats", "fallbacks");
	char log[1 << 16];
	int st, lines = 0;

	klogctl(5, NULL, 0);	/* clear the ring buffer's read position */
	st = run_child(fallback_child, NULL);
	klogctl(3, log, sizeof(log) - 1);
	log[sizeof(log) - 1] = 0;
	for (char *p = log; (p = strstr(p, "using the radix page table")); p++)
		lines++;
	tap(WIFEXITED(st) && WEXITSTATUS(st) == 0 &&
	    kv(DBG "stats", "fallbacks") > f0 && lines == 1,
	    "fallback: 20,000 scattered pages: no index, radix kept the data, %d log line(s) (status %#x)",
	    lines, st);
}

/* ---- 5. the OOM reaper's non-blocking invalidations ---- */

static void oom_child(void *arg)
{
	size_t len = 256 * MiB;
	char *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	(void)arg;
	for (size_t o = 0; o < len; o += PAGE)
		p[o] = 1;
	_exit(0);
}

static void test_oom(void)
{
	const char *cg = "/sys/fs/cgroup/lpt-kstress-oom";
	char pid[32];
	int st;
	pid_t c;

	mkdir("/sys/fs/cgroup", 0755);
	if (access("/sys/fs/cgroup/cgroup.controllers", F_OK))
		mount("none", "/sys/fs/cgroup", "cgroup2", 0, NULL);
	lptu_write_file("/sys/fs/cgroup/cgroup.subtree_control", "+memory");
	mkdir(cg, 0755);
	if (lptu_write_file("/sys/fs/cgroup/lpt-kstress-oom/memory.max", "24M")) {
		tap(1, "oom: # SKIP no memory cgroup");
		return;
	}
	lptu_write_file("/sys/fs/cgroup/lpt-kstress-oom/memory.swap.max", "0");
	c = fork();
	if (c < 0)
		bail("fork");
	if (!c) {
		snprintf(pid, sizeof(pid), "%d", getpid());
		if (lptu_write_file("/sys/fs/cgroup/lpt-kstress-oom/cgroup.procs", pid))
			_exit(50);
		oom_child(NULL);
	}
	waitpid(c, &st, 0);
	rmdir(cg);
	tap(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL,
	    "oom: a 256 MiB toucher in a 24 MiB memcg was OOM-killed (status %#x)",
	    st);
}

/* ---- 6. unload and reload while processes run on their LPTs ---- */

static void unload_child(void *arg)
{
	size_t len = 16 * MiB;
	char *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	double t0 = now_s();
	uint64_t seed = 41;

	(void)arg;
	fill(p, len, seed);
	while (now_s() - t0 < 6) {
		if (bad(p, len, seed))
			_exit(1);
		fill(p, len, ++seed);
		if (seed % 4 == 0) {
			munmap(p, len);
			p = mmap(NULL, len, PROT_READ | PROT_WRITE,
				 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
			fill(p, len, seed);
		}
	}
	_exit(0);
}

static void test_unload(void)
{
	pid_t kids[3];
	int st, ok = 1, r_un, r_load;

	for (int i = 0; i < 3; i++) {
		kids[i] = fork();
		if (!kids[i])
			unload_child(NULL);
	}
	usleep(1500000);
	r_un = syscall(SYS_delete_module, "lpt", O_NONBLOCK) ? -errno : 0;
	usleep(1000000);
	r_load = lptu_load_module("");
	for (int i = 0; i < 3; i++) {
		waitpid(kids[i], &st, 0);
		ok &= WIFEXITED(st) && WEXITSTATUS(st) == 0;
	}
	tap(!r_un && !r_load && ok,
	    "unload: rmmod (%d) and insmod (%d) while 3 processes churn on their LPTs, all intact",
	    r_un, r_load);
	tap(kv(DBG "stats", "live_tables") == 0 && kv(DBG "stats", "live_pages") == 0,
	    "unload: the reloaded module starts from zero (%lld tables)",
	    kv(DBG "stats", "live_tables"));
	tap(prctl(PR_SET_LPT, 1, 0, 0, 0) == 0 && prctl(PR_GET_LPT, 0, 0, 0, 0) == 3 &&
	    stale_entries(NULL) == 0, "unload: PR_SET_LPT 1 after the reload");
}

/* ---- 7. what an exec costs ---- */

/* @n fork+exec of busybox true; seconds, or -1 if one failed. */
static double exec_loop(int n)
{
	double t0 = now_s();
	int st;

	for (int i = 0; i < n; i++) {
		pid_t c = fork();

		if (!c) {
			execl("/bin/busybox", "busybox", "true", (char *)NULL);
			_exit(127);
		}
		waitpid(c, &st, 0);
		if (!WIFEXITED(st) || WEXITSTATUS(st))
			return -1;
	}
	return now_s() - t0;
}

static void test_exec_cost(void)
{
	const char *param = "/sys/module/lpt/parameters/default_enable";
	long long r0, b0, w0;
	double t_on, t_off;
	int n = 40;

	/* The parent's LPT would be inherited by fork: measure without. */
	prctl(PR_SET_LPT, 0, 0, 0, 0);
	lptu_write_file(param, "N");
	t_off = exec_loop(n);
	r0 = kv(DBG "stats", "retrains");
	b0 = kv(DBG "stats", "builds");
	w0 = kv(DBG "stats", "retrain_waits");
	lptu_write_file(param, "Y");
	t_on = exec_loop(n);
	lptu_write_file(param, "N");
	prctl(PR_SET_LPT, 1, 0, 0, 0);
	printf("# exec cost: fork+exec of busybox true: %.1f ms without LPT, %.1f ms with (%.2f builds, %.2f retrains, %.2f retrain waits per run)\n",
	       1000 * t_off / n, 1000 * t_on / n,
	       (double)(kv(DBG "stats", "builds") - b0) / n,
	       (double)(kv(DBG "stats", "retrains") - r0) / n,
	       (double)(kv(DBG "stats", "retrain_waits") - w0) / n);
	tap(t_on > 0 && t_off > 0, "exec: %d fork+exec with and without default_enable",
	    n);
}

int main(void)
{
	int r;

	setvbuf(stdout, NULL, _IOLBF, 0);
	r = lptu_load_module(NULL);
	if (r) {
		errno = -r;
		bail("load /lib/modules/extra/lpt.ko");
	}
	printf("TAP version 13\n");
	tap(prctl(PR_SET_LPT, 1, 0, 0, 0) == 0 &&
	    prctl(PR_GET_LPT, 0, 0, 0, 0) == 3, "PR_SET_LPT 1");
	test_retrain_race();
	test_toggle();
	test_hugetlb();
	test_fallback();
	test_oom();
	test_exec_cost();
	test_unload();
	printf("1..%d\n", lptu_tap_run);
	return lptu_tap_failed ? 1 : 0;
}

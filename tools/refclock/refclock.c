// SPDX-License-Identifier: GPL-2.0
/*
 * refclock: the guest's reference-second clock, so that test limits hold on a
 * busy host.  Under TCG the guest's clock is the host's wall clock, but how
 * much guest work fits in a second depends on how much of the host's CPUs
 * QEMU gets: a limit in wall seconds that passes on a quiet machine kills the
 * same test when another build shares the cores.  The daemon times a fixed
 * loop once a second (at real-time priority, so the guest's own load does not
 * slow it; only the host's can) and advances a clock by the wall time elapsed
 * times the measured speed over the reference speed, never faster than wall
 * time.  `refclock limit` runs a command and kills it when the clock says it
 * has used up its limit in reference seconds.
 *
 *   refclock daemon [-r REF_NS] [-x PERMILLE] [-c CPU] [-o TTY] [-s STATE]
 *       sample once a second; publish the clock in STATE (a small text file,
 *       replaced atomically) and as a heartbeat line on TTY for the host;
 *       -x scales the reference speed (250: count the guest as running at a
 *       quarter of it; the tooling self-test's way to make a slow machine);
 *       -c pins the daemon to CPU, away from the CPU tests measure on
 *   refclock limit SECONDS NAME -- CMD [ARG]...
 *       run CMD in its own process group; SIGKILL the group after SECONDS
 *       reference seconds; exit with CMD's status, 128+signal, or 137
 *   refclock now
 *       print the clock: reference seconds since the daemon started, speed
 *
 * The reference speed is REF_NS, the time the loop takes on the project's
 * machines when they are quiet, or the fastest sample seen, whichever is
 * less; so on a faster or quiet machine a reference second is a wall second.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define REFCLOCK_STATE		"/run/mmv/refclock"
#define REFCLOCK_LOOP_ITERS	2000000u
#define REFCLOCK_PERIOD_NS	1000000000ull
/*
 * The loop's time on the project's 2-core machines, quiet: samples there run
 * 4.2-5.5 ms (debug kernel, idle or busy guest), so a quiet machine reads
 * at 0.8-1.0 of reference speed; two CPU hogs on the host make it 0.2-0.5.
 */
#define REFCLOCK_REF_NS		4500000ull

/* REFCLOCK_STATE in the environment moves the state file (for tests). */
static const char *state_path(void)
{
	const char *s = getenv("REFCLOCK_STATE");

	return s && *s ? s : REFCLOCK_STATE;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

/* A fixed amount of integer work whose duration measures the vCPU's speed. */
static uint64_t time_loop(void)
{
	volatile uint64_t acc = 1;
	uint64_t t0 = now_ns();
	unsigned int i;

	for (i = 0; i < REFCLOCK_LOOP_ITERS; i++)
		acc = acc * 6364136223846793005ull + i;
	return now_ns() - t0;
}

/*
 * The state file holds one line: reference ns, the monotonic time they were
 * taken at, the speed in permille and the last loop sample in ns.  Readers
 * extrapolate from the monotonic stamp at the last measured speed.
 */
static int publish(const char *state, uint64_t ref_ns, uint64_t mono_ns,
		   unsigned int permille, uint64_t sample_ns)
{
	char tmp[PATH_MAX], buf[160];
	int fd, n;

	n = snprintf(buf, sizeof(buf), "%llu %llu %u %llu\n",
		     (unsigned long long)ref_ns, (unsigned long long)mono_ns,
		     permille, (unsigned long long)sample_ns);
	snprintf(tmp, sizeof(tmp), "%s.tmp", state);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0)
		return -1;
	if (write(fd, buf, n) != n) {
		close(fd);
		return -1;
	}
	close(fd);
	return rename(tmp, state);
}

/* Reference ns now, extrapolated from the last sample; speed in permille. */
static int read_clock(const char *state, uint64_t *ref_ns, unsigned int *permille)
{
	unsigned long long r, w, s;
	unsigned int p;
	FILE *f = fopen(state, "r");
	int ok;

	if (!f)
		return -1;
	ok = fscanf(f, "%llu %llu %u %llu", &r, &w, &p, &s) == 4;
	fclose(f);
	if (!ok)
		return -1;
	*ref_ns = r;
	if (now_ns() > w)
		*ref_ns += (now_ns() - w) * p / 1000;
	*permille = p;
	return 0;
}

static int parse_u64(const char *s, uint64_t *v)
{
	char *end;
	unsigned long long x;

	errno = 0;
	x = strtoull(s, &end, 10);
	if (errno || end == s || *end || *s == '-')
		return -1;
	*v = x;
	return 0;
}

static int daemon_main(int argc, char **argv)
{
	const char *state = state_path(), *tty = NULL;
	uint64_t ref = REFCLOCK_REF_NS, ref_ns = 0, start, last, fastest = UINT64_MAX;
	uint64_t scale = 1000;
	struct sched_param sp = { .sched_priority = 50 };
	FILE *hb = NULL;
	int c;

	while ((c = getopt(argc, argv, "r:x:c:o:s:")) != -1) {
		switch (c) {
		case 'r':
			if (parse_u64(optarg, &ref) || !ref) {
				fprintf(stderr, "refclock: -r wants a positive number of ns, not '%s'\n",
					optarg);
				return 2;
			}
			break;
		case 'x':
			if (parse_u64(optarg, &scale) || !scale || scale > 1000) {
				fprintf(stderr, "refclock: -x wants a permille in 1..1000, not '%s'\n",
					optarg);
				return 2;
			}
			break;
		case 'c': {
			uint64_t cpu;
			cpu_set_t set;

			if (parse_u64(optarg, &cpu) || cpu >= CPU_SETSIZE) {
				fprintf(stderr, "refclock: -c wants a CPU number, not '%s'\n", optarg);
				return 2;
			}
			CPU_ZERO(&set);
			CPU_SET(cpu, &set);
			if (sched_setaffinity(0, sizeof(set), &set))
				fprintf(stderr, "refclock: cannot pin to CPU %llu: %s\n",
					(unsigned long long)cpu, strerror(errno));
			break;
		}
		case 'o':
			tty = optarg;
			break;
		case 's':
			state = optarg;
			break;
		default:
			return 2;
		}
	}
	if (sched_setscheduler(0, SCHED_FIFO, &sp))
		fprintf(stderr, "refclock: no real-time priority (%s): the guest's own load will count as slowness\n",
			strerror(errno));
	if (tty) {
		hb = fopen(tty, "w");
		if (!hb)
			fprintf(stderr, "refclock: cannot open %s: %s\n", tty, strerror(errno));
	}
	start = last = now_ns();
	for (;;) {
		uint64_t sample = time_loop(), t = now_ns(), base;
		unsigned int permille;

		if (sample < fastest)
			fastest = sample;
		base = fastest < ref ? fastest : ref;
		permille = (unsigned int)(base * scale / sample);
		ref_ns += (t - last) * permille / 1000;
		last = t;
		if (publish(state, ref_ns, t, permille, sample))
			fprintf(stderr, "refclock: cannot write %s: %s\n", state, strerror(errno));
		if (hb) {
			fprintf(hb, "refclock ref_ms=%llu wall_ms=%llu speed=%u.%03u sample_us=%llu ref_us=%llu\n",
				(unsigned long long)(ref_ns / 1000000),
				(unsigned long long)((t - start) / 1000000),
				permille / 1000, permille % 1000,
				(unsigned long long)(sample / 1000),
				(unsigned long long)(base / 1000));
			fflush(hb);
		}
		{
			uint64_t spent = now_ns() - t + sample;
			struct timespec ts = { 0, 0 };

			if (spent < REFCLOCK_PERIOD_NS)
				ts.tv_nsec = REFCLOCK_PERIOD_NS - spent;
			nanosleep(&ts, NULL);
		}
	}
}

/*
 * Reference nanoseconds used since t_start/start_ref.  Without a daemon (or
 * once its clock cannot be read) wall time, so a limit still holds, unscaled.
 */
static uint64_t clock_used(int *scaled, uint64_t start_ref, uint64_t t_start)
{
	unsigned int p;
	uint64_t r;

	if (*scaled && !read_clock(state_path(), &r, &p))
		return r > start_ref ? r - start_ref : 0;
	*scaled = 0;
	return now_ns() - t_start;
}

static int limit_main(int argc, char **argv)
{
	uint64_t limit_s, start_ref = 0, t_start;
	unsigned int p;
	int scaled, status;
	const char *name;
	pid_t child;

	if (argc < 5 || strcmp(argv[3], "--") || parse_u64(argv[1], &limit_s) || !limit_s) {
		fprintf(stderr, "usage: refclock limit SECONDS NAME -- CMD [ARG]...  (SECONDS > 0)\n");
		return 2;
	}
	name = argv[2];
	t_start = now_ns();
	scaled = !read_clock(state_path(), &start_ref, &p);
	child = fork();
	if (child < 0) {
		perror("refclock: fork");
		return 126;
	}
	if (!child) {
		setpgid(0, 0);
		execvp(argv[4], argv + 4);
		fprintf(stderr, "refclock: cannot run %s: %s\n", argv[4], strerror(errno));
		_exit(127);
	}
	setpgid(child, child);
	for (;;) {
		struct timespec ts = { 0, 200000000 };
		pid_t r = waitpid(child, &status, WNOHANG);
		uint64_t used;

		if (r == child)
			break;
		if (r < 0 && errno != EINTR) {
			perror("refclock: waitpid");
			return 126;
		}
		used = clock_used(&scaled, start_ref, t_start);
		if (used > limit_s * 1000000000ull) {
			uint64_t wall = now_ns() - t_start;

			kill(-child, SIGKILL);
			kill(child, SIGKILL);
			waitpid(child, &status, 0);
			printf("# refclock: %s killed after %llu.%01llu s wall = %llu.%01llu reference s; limit %llu reference s%s\n",
			       name, (unsigned long long)(wall / 1000000000ull),
			       (unsigned long long)(wall / 100000000ull % 10),
			       (unsigned long long)(used / 1000000000ull),
			       (unsigned long long)(used / 100000000ull % 10),
			       (unsigned long long)limit_s,
			       scaled ? "" : " (no refclock daemon: wall seconds)");
			fflush(stdout);
			return 137;
		}
		nanosleep(&ts, NULL);
	}
	/* Anything the command left running in its group goes with it. */
	kill(-child, SIGKILL);
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return WEXITSTATUS(status);
}

static int now_main(void)
{
	unsigned int p;
	uint64_t r;

	if (read_clock(state_path(), &r, &p)) {
		fprintf(stderr, "refclock: no clock in %s (is the daemon running?)\n",
			state_path());
		return 1;
	}
	printf("reference %llu.%03llu s since the daemon started, speed %u.%03u\n",
	       (unsigned long long)(r / 1000000000ull),
	       (unsigned long long)(r / 1000000 % 1000), p / 1000, p % 1000);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc >= 2 && !strcmp(argv[1], "daemon"))
		return daemon_main(argc - 1, argv + 1);
	if (argc >= 2 && !strcmp(argv[1], "limit"))
		return limit_main(argc - 1, argv + 1);
	if (argc == 2 && !strcmp(argv[1], "now"))
		return now_main();
	fprintf(stderr, "usage: refclock daemon [-r REF_NS] [-x PERMILLE] [-c CPU] [-o TTY] [-s STATE]\n"
		"       refclock limit SECONDS NAME -- CMD [ARG]...\n"
		"       refclock now\n");
	return 2;
}

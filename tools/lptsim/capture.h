/*
 * capture.h - taking an address-space snapshot of a live process from /proc
 * (see capture.c for which file supplies which fact and what is approximated).
 */
#ifndef LPTSIM_CAPTURE_H
#define LPTSIM_CAPTURE_H

#include <sys/types.h>

#include "lptsim.h"

/*
 * Optional growth recording: after the first capture, rescan every `every`
 * seconds for `duration` seconds and write the changes to `trace` as an
 * lptsim trace (see docs/lptsim.md), so the snapshot is the initial state.
 */
struct lptsim_capture_series {
	double every, duration;
	FILE *trace;
	uint64_t events, scans;     /* out */
};

/* Capture pid, stopping it with SIGSTOP while reading when stop is set. */
int lptsim_capture_pid(struct lptsim_snapshot *snap, pid_t pid, int stop,
		       struct lptsim_capture_series *series, struct lptsim_err *err);
/* Run argv, capture it after `after` seconds (and the series), then kill it. */
int lptsim_capture_cmd(struct lptsim_snapshot *snap, char *const argv[], double after,
		       struct lptsim_capture_series *series, struct lptsim_err *err);

#endif /* LPTSIM_CAPTURE_H */

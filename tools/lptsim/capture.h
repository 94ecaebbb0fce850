/*
 * capture.h - taking an address-space snapshot of a live process from /proc
 * (see capture.c for which file supplies which fact and what is approximated).
 */
#ifndef LPTSIM_CAPTURE_H
#define LPTSIM_CAPTURE_H

#include <sys/types.h>

#include "lptsim.h"

/* Capture pid, stopping it with SIGSTOP for the duration when stop is set. */
int lptsim_capture_pid(struct lptsim_snapshot *snap, pid_t pid, int stop,
		       const char *what, struct lptsim_err *err);
/* Run argv, capture it after `after` seconds, then kill it. */
int lptsim_capture_cmd(struct lptsim_snapshot *snap, char *const argv[], double after,
		       struct lptsim_err *err);

#endif /* LPTSIM_CAPTURE_H */

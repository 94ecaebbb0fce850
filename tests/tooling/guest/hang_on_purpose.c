// SPDX-License-Identifier: GPL-2.0
/*
 * A guest "test" that never finishes.  The tooling self-test runs it with a
 * short per-test timeout to prove that the harness kills it and reports it as
 * a failure rather than waiting forever or passing it.
 */
#include <stdio.h>
#include <unistd.h>

int main(void)
{
	printf("TAP version 13\n1..1\n# sleeping forever\n");
	fflush(stdout);
	for (;;)
		pause();
}

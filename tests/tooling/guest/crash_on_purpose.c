// SPDX-License-Identifier: GPL-2.0
/*
 * A guest "test" that dies of SIGSEGV after printing a passing TAP line.  The
 * tooling self-test runs it to prove that the VM harness reports a crashing
 * test binary as a failure, whatever the binary printed before dying.
 */
#include <stdio.h>
#include <signal.h>

int main(void)
{
	printf("TAP version 13\n1..1\nok 1 - looks fine so far\n");
	fflush(stdout);
	raise(SIGSEGV);
	return 0;
}

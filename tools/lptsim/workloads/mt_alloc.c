/*
 * mt_alloc.c - a multi-threaded workload for lptsim-bench.  Four threads each
 * build a linked structure out of mixed-size malloc() allocations (so glibc
 * gives every thread its own arena, i.e. several separate heaps in mmap
 * space, plus per-thread stacks with guard pages), and one extra region is
 * madvise(MADV_HUGEPAGE)d so that with THP in "madvise" mode the captured
 * address space also holds real 2 MiB pages.  Growth is paced over a couple
 * of seconds so lptsim's growth traces see it; then it sleeps until killed.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define THREADS 4
#define BYTES_PER_THREAD (48u << 20)
#define HUGE_REGION (64u << 20)

struct node {
	struct node *next;
	size_t size;
};

static void *churn(void *arg)
{
	uint64_t rng = (uintptr_t)arg * 0x9e3779b97f4a7c15ull + 1;
	struct node *head = NULL;
	size_t total = 0;

	while (total < BYTES_PER_THREAD) {
		size_t size;
		struct node *n;

		rng ^= rng << 13;
		rng ^= rng >> 7;
		rng ^= rng << 17;
		size = 32 + rng % 16384;
		n = malloc(size);
		if (!n)
			break;
		memset(n, 0x5a, size);
		/* Pace growth over ~2 s so a capture series sees it happen. */
		usleep(200);
		n->next = head;
		n->size = size;
		head = n;
		total += size;
		/* Free some to leave holes, as real allocators see. */
		if ((rng & 7) == 0 && head->next) {
			struct node *victim = head->next;

			head->next = victim->next;
			total -= victim->size;
			free(victim);
		}
	}
	for (;;)
		pause();
	return NULL;
}

int main(void)
{
	pthread_t tid[THREADS];
	char *huge = mmap(NULL, HUGE_REGION + (2u << 20), PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (huge != MAP_FAILED) {
		/* Align to 2 MiB so the kernel can back it with PMD mappings. */
		char *aligned = (char *)(((uintptr_t)huge + (2u << 20) - 1) & ~(uintptr_t)((2u << 20) - 1));

		madvise(aligned, HUGE_REGION, MADV_HUGEPAGE);
		memset(aligned, 1, HUGE_REGION);
	}
	for (uintptr_t i = 0; i < THREADS; i++)
		pthread_create(&tid[i], NULL, churn, (void *)(i + 1));
	for (;;)
		pause();
}

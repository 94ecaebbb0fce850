// SPDX-License-Identifier: GPL-2.0
/*
 * mmv_splat.ko: makes the kernel print a bug report on purpose, so the
 * tooling self-test (tests/tooling/run.sh) can show that the VM runner
 * (scripts/vm.sh) fails a run on each kind of report the debug kernel
 * exists to catch, and quotes it.  Loading it with what=warn hits a WARN();
 * what=lockdep takes two mutexes in both orders, one after the other (no
 * deadlock, but lockdep reports the possible circular dependency).  Any
 * other value is refused with -EINVAL.  The module does nothing else and
 * can be unloaded at once.
 */
#include <linux/bug.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/mutex.h>
#include <linux/string.h>

static char *what = "";
module_param(what, charp, 0444);
MODULE_PARM_DESC(what, "the report to cause: warn or lockdep");

static DEFINE_MUTEX(mmv_splat_a);
static DEFINE_MUTEX(mmv_splat_b);

static void mmv_splat_lock_pair(struct mutex *first, struct mutex *second)
{
	mutex_lock(first);
	mutex_lock(second);
	mutex_unlock(second);
	mutex_unlock(first);
}

static int __init mmv_splat_init(void)
{
	if (!strcmp(what, "warn")) {
		WARN(1, "mmv_splat: a WARN on purpose (what=warn)\n");
	} else if (!strcmp(what, "lockdep")) {
		/* A then B, later B then A: an AB-BA inversion for lockdep. */
		mmv_splat_lock_pair(&mmv_splat_a, &mmv_splat_b);
		mmv_splat_lock_pair(&mmv_splat_b, &mmv_splat_a);
	} else {
		pr_err("mmv_splat: what='%s': must be warn or lockdep\n", what);
		return -EINVAL;
	}
	return 0;
}

static void __exit mmv_splat_exit(void)
{
}

module_init(mmv_splat_init);
module_exit(mmv_splat_exit);
MODULE_DESCRIPTION("Kernel bug reports on purpose, for the tooling self-test");
MODULE_LICENSE("GPL");

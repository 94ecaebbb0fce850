/* SPDX-License-Identifier: GPL-2.0 */
/* Stand-in for <linux/errno.h>: the codes lib/lpt returns. */
#ifndef LPT_KSTUB_ERRNO_H
#define LPT_KSTUB_ERRNO_H
#define ENOENT 2
#define ENOMEM 12
#define EFAULT 14
#define EEXIST 17
#define EINVAL 22
#define ENOSPC 28
#define ERANGE 34
#endif

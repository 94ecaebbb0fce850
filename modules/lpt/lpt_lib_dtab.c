// SPDX-License-Identifier: GPL-2.0
/* lib/lpt/lpt_dtab.c compiled unchanged into lpt.ko (see Kbuild). */
#include "../../lib/lpt/lpt_dtab.c"

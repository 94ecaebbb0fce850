// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer target for mmodel_params_parse(), the function QEMU calls on
 * the user's model option string at start.  Invariants: it never crashes
 * or reads past the string; an error leaves the defaults and a terminated
 * message starting "mmodel: "; an accepted spec gives parameters that pass
 * mmodel_params_check() and survive format -> parse unchanged.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "mmodel.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mmodel_params p, q, d;
	char *spec = malloc(size + 1);
	char err[96], out[512];
	size_t errlen = size ? data[0] % sizeof(err) : sizeof(err);

	if (!spec)
		return 0;
	memcpy(spec, data, size);
	spec[size] = 0;
	memset(err, 0x55, sizeof(err));
	mmodel_params_default(&d);
	if (mmodel_params_parse(&p, spec, err, errlen)) {
		if (memcmp(&p, &d, sizeof(p)))
			abort();	/* an error must leave the defaults */
		if (errlen && (strnlen(err, errlen) >= errlen ||
			       strncmp(err, "mmodel: ", errlen - 1 < 8 ?
				       errlen - 1 : 8)))
			abort();
		if (errlen < sizeof(err) && (unsigned char)err[errlen] != 0x55)
			abort();	/* wrote past errlen */
	} else {
		if (mmodel_params_check(&p, err, sizeof(err)))
			abort();
		if (mmodel_params_format(&p, out, sizeof(out)) >= (int)sizeof(out))
			abort();
		if (mmodel_params_parse(&q, out, err, sizeof(err)) ||
		    memcmp(&p, &q, sizeof(p)))
			abort();	/* format and parse disagree */
	}
	free(spec);
	return 0;
}

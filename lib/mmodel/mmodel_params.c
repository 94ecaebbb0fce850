// SPDX-License-Identifier: GPL-2.0
/*
 * Machine-model parameters: the defaults of the modelled CPU, the checks
 * every parameter set must pass, and the parser of the compact option
 * string QEMU takes at start ("freq=2800,cpi=0.70,l1d=32K/8/5,...").  The
 * parser is strict because a typo in a model parameter silently changes
 * every figure computed from it: each error names the key and the reason.
 * Messages are built without stdio (the core does not link it), by the
 * small appender below.  Sources of the defaults: docs/mmodel.md.
 */
#include "mmodel.h"

void mmodel_params_default(struct mmodel_params *p)
{
	memset(p, 0, sizeof(*p));
	/* Intel Xeon Gold 6242 (Cascade Lake-SP), base clock. */
	p->freq_mhz = 2800;
	p->cpi_milli = 700;
	p->cache[MMODEL_L1] = (struct mmodel_level_params){ 32 << 10, 8, 64, 5 };
	p->cache[MMODEL_L2] = (struct mmodel_level_params){ 1 << 20, 16, 64, 14 };
	p->cache[MMODEL_LLC] = (struct mmodel_level_params){ 22 << 20, 11, 64, 55 };
	p->node_ns[0] = 90;	/* local DDR4-2666 */
	p->node_ns[1] = 250;	/* CXL-attached expander */
	p->vmrun_cycles = 650;
	p->vmexit_cycles = 650;
	p->flush_cycles = 200;
}

/* A bounded string appender: truncates, always NUL-terminates. */
struct msg {
	char *buf;
	size_t len, pos;
};

static void put_str(struct msg *m, const char *s)
{
	while (*s && m->len && m->pos + 1 < m->len)
		m->buf[m->pos++] = *s++;
	if (m->len)
		m->buf[m->pos] = 0;
}

/* Append at most @n bytes of @s, printable ASCII only. */
static void put_quoted(struct msg *m, const char *s, size_t n)
{
	char c[2] = { 0, 0 };
	size_t i;

	put_str(m, "'");
	for (i = 0; i < n && i < 32; i++) {
		c[0] = s[i] >= ' ' && s[i] <= '~' ? s[i] : '?';
		put_str(m, c);
	}
	put_str(m, i < n ? "...'" : "'");
}

static int fail(struct msg *m, const char *key, size_t keylen,
		const char *why)
{
	m->pos = 0;
	put_str(m, "mmodel: ");
	if (key) {
		put_str(m, "key ");
		put_quoted(m, key, keylen);
		put_str(m, ": ");
	}
	put_str(m, why);
	return -1;
}

static const char *const level_key[MMODEL_NR_CACHES] = { "l1d", "l2", "llc" };

static int check_level(struct msg *m, const struct mmodel_params *p, int l)
{
	const struct mmodel_level_params *lp = &p->cache[l];
	const char *k = level_key[l];
	size_t kl = l == MMODEL_L2 ? 2 : 3;
	uint64_t sets;

	if (!lp->size)
		return fail(m, k, kl, "size is zero");
	if (lp->line != MMODEL_LINE)
		return fail(m, k, kl, "line size must be 64");
	if (!lp->ways || lp->ways > MMODEL_MAX_WAYS)
		return fail(m, k, kl, "ways out of range 1..64");
	if (lp->size % ((uint64_t)lp->ways * MMODEL_LINE))
		return fail(m, k, kl, "size is not a multiple of ways x line");
	sets = lp->size / ((uint64_t)lp->ways * MMODEL_LINE);
	if (sets & (sets - 1))
		return fail(m, k, kl,
			    "number of sets (size / (ways x line)) is not a power of two");
	if (sets > MMODEL_MAX_SETS)
		return fail(m, k, kl, "more than 16M sets");
	if (!lp->latency)
		return fail(m, k, kl, "latency is zero");
	return 0;
}

uint32_t mmodel_node_cycles(const struct mmodel_params *p, uint32_t node)
{
	if (node >= MMODEL_MAX_NODES)
		return 0;
	/* Both factors are < 2^32, so the product fits. */
	return (uint32_t)(((uint64_t)p->node_ns[node] * p->freq_mhz + 500) /
			  1000);
}

static int check(struct msg *m, const struct mmodel_params *p)
{
	char nk[] = "node0";
	uint32_t n;
	int l;

	if (!p->freq_mhz || p->freq_mhz > 100000)
		return fail(m, "freq", 4, "out of range 1..100000 MHz");
	if (!p->cpi_milli || p->cpi_milli > 100000)
		return fail(m, "cpi", 3, "out of range 0.001..100");
	for (l = 0; l < MMODEL_NR_CACHES; l++)
		if (check_level(m, p, l))
			return -1;
	if (p->cache[MMODEL_L2].latency <= p->cache[MMODEL_L1].latency)
		return fail(m, "l2", 2, "latency must be greater than the l1d latency");
	if (p->cache[MMODEL_LLC].latency <= p->cache[MMODEL_L2].latency)
		return fail(m, "llc", 3, "latency must be greater than the l2 latency");
	if (!p->node_ns[0])
		return fail(m, "node0", 5, "node 0 must have a DRAM latency");
	for (n = 0; n < MMODEL_MAX_NODES; n++) {
		nk[4] = (char)('0' + n);
		if (p->node_ns[n] > 100000)
			return fail(m, nk, 5, "out of range 1..100000 ns");
		if (p->node_ns[n] &&
		    mmodel_node_cycles(p, n) < p->cache[MMODEL_LLC].latency)
			return fail(m, nk, 5, "DRAM latency in cycles is below the llc latency");
	}
	return 0;
}

int mmodel_params_check(const struct mmodel_params *p, char *err,
			size_t errlen)
{
	struct msg m = { err, errlen, 0 };

	put_str(&m, "");
	return check(&m, p);
}

/* Parsing */

struct item {
	const char *key, *val;	/* not NUL-terminated */
	size_t keylen, vallen;
};

/* Is [@s, @s + @n) the string @lit?  (No libc: the core links none.) */
static bool same(const char *s, size_t n, const char *lit)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (s[i] != lit[i])
			return false;
	return !lit[n];
}

static bool key_is(const struct item *it, const char *k)
{
	return same(it->key, it->keylen, k);
}

/* Does [@s, @s + @n) end with @suffix?  Then drop it from @n. */
static bool strip(const char *s, size_t *n, const char *suffix)
{
	size_t k = 0;

	while (suffix[k])
		k++;
	if (*n < k || !same(s + *n - k, k, suffix))
		return false;
	*n -= k;
	return true;
}

/*
 * An unsigned decimal of [@s, @s + @n), scaled by 10^@frac_digits with up
 * to that many digits after a '.', times @mult; -1 with the reason in
 * *@why if it is empty, malformed, too precise or larger than @max.
 */
static int parse_num(const char *s, size_t n, unsigned int frac_digits,
		     uint64_t mult, uint64_t max, uint64_t *out,
		     const char **why)
{
	uint64_t v = 0;
	unsigned int frac = 0;
	bool dot = false, digits = false;
	size_t i;

	for (i = 0; i < n; i++) {
		unsigned int d;

		if (s[i] == '.' && !dot && frac_digits) {
			dot = true;
			continue;
		}
		if (s[i] < '0' || s[i] > '9') {
			*why = "not a number";
			return -1;
		}
		d = s[i] - '0';
		digits = true;
		if (dot && ++frac > frac_digits) {
			*why = "more than 3 digits after the decimal point";
			return -1;
		}
		if (v > (UINT64_MAX - d) / 10) {
			*why = "number too large";
			return -1;
		}
		v = v * 10 + d;
	}
	if (!digits) {
		*why = "not a number";
		return -1;
	}
	for (; frac < frac_digits; frac++) {
		if (v > UINT64_MAX / 10) {
			*why = "number too large";
			return -1;
		}
		v *= 10;
	}
	if (mult && v > UINT64_MAX / mult) {
		*why = "number too large";
		return -1;
	}
	v *= mult;
	if (v > max) {
		*why = "number too large";
		return -1;
	}
	if (!v) {
		*why = "must not be zero";
		return -1;
	}
	*out = v;
	return 0;
}

/* A byte size: digits with an optional K, M or G (binary) suffix. */
static int size_value(const char *s, size_t n, uint64_t *out,
		      const char **why)
{
	uint64_t mult = 1;

	if (n && (s[n - 1] == 'K' || s[n - 1] == 'k'))
		mult = 1ULL << 10;
	else if (n && (s[n - 1] == 'M' || s[n - 1] == 'm'))
		mult = 1ULL << 20;
	else if (n && (s[n - 1] == 'G' || s[n - 1] == 'g'))
		mult = 1ULL << 30;
	if (mult != 1)
		n--;
	return parse_num(s, n, 0, mult, 1ULL << 40, out, why);
}

/* SIZE/WAYS/LATENCY[/LINE] */
static int level_value(struct msg *m, const struct item *it,
		       struct mmodel_level_params *lp)
{
	static const char *const field[] = { "size", "ways", "latency", "line" };
	const char *s = it->val, *end = it->val + it->vallen, *why;
	uint64_t v[4] = { 0, 0, 0, MMODEL_LINE };
	int f = 0;

	for (;;) {
		const char *e = s;

		while (e < end && *e != '/')
			e++;
		if (f == 4)
			return fail(m, it->key, it->keylen,
				    "too many fields (want SIZE/WAYS/LATENCY[/LINE])");
		if (e == s) {
			m->pos = 0;
			fail(m, it->key, it->keylen, "empty field ");
			put_str(m, field[f]);
			put_str(m, " (want SIZE/WAYS/LATENCY[/LINE])");
			return -1;
		}
		if ((f == 0 ? size_value(s, e - s, &v[0], &why) :
		     parse_num(s, e - s, 0, 1, UINT32_MAX, &v[f], &why))) {
			fail(m, it->key, it->keylen, field[f]);
			put_str(m, ": ");
			put_str(m, why);
			return -1;
		}
		f++;
		if (e == end)
			break;
		s = e + 1;
	}
	if (f < 3)
		return fail(m, it->key, it->keylen,
			    "too few fields (want SIZE/WAYS/LATENCY[/LINE])");
	lp->size = v[0];
	lp->ways = (uint32_t)v[1];
	lp->latency = (uint32_t)v[2];
	lp->line = (uint32_t)v[3];
	return 0;
}

static int apply(struct msg *m, struct mmodel_params *p, const struct item *it)
{
	const char *why = NULL;
	size_t n = it->vallen;
	uint64_t v;
	int l;

	for (l = 0; l < MMODEL_NR_CACHES; l++)
		if (key_is(it, level_key[l])) {
			if (level_value(m, it, &p->cache[l]))
				return -1;
			return check_level(m, p, l);
		}
	if (it->keylen == 5 && same(it->key, 4, "node") &&
	    it->key[4] >= '0' && it->key[4] < '0' + MMODEL_MAX_NODES) {
		/* "off" removes a node the defaults have. */
		if (same(it->val, n, "off")) {
			v = 0;
		} else {
			strip(it->val, &n, "ns");
			if (parse_num(it->val, n, 0, 1, 100000, &v, &why))
				goto bad;
		}
		p->node_ns[it->key[4] - '0'] = (uint32_t)v;
		return 0;
	}
	if (key_is(it, "freq")) {
		strip(it->val, &n, "MHz");
		if (parse_num(it->val, n, 0, 1, 100000, &v, &why))
			goto bad;
		p->freq_mhz = (uint32_t)v;
		return 0;
	}
	if (key_is(it, "cpi")) {
		if (parse_num(it->val, n, 3, 1, 100000, &v, &why))
			goto bad;
		p->cpi_milli = (uint32_t)v;
		return 0;
	}
	if (key_is(it, "vmrun") || key_is(it, "vmexit") || key_is(it, "flush")) {
		strip(it->val, &n, "c");
		if (parse_num(it->val, n, 0, 1, 10000000, &v, &why))
			goto bad;
		if (key_is(it, "vmrun"))
			p->vmrun_cycles = (uint32_t)v;
		else if (key_is(it, "vmexit"))
			p->vmexit_cycles = (uint32_t)v;
		else
			p->flush_cycles = (uint32_t)v;
		return 0;
	}
	return fail(m, it->key, it->keylen,
		    "unknown key (want freq, cpi, l1d, l2, llc, node0..node7, vmrun, vmexit or flush)");
bad:
	return fail(m, it->key, it->keylen, why);
}

int mmodel_params_parse(struct mmodel_params *p, const char *spec,
			char *err, size_t errlen)
{
	struct msg m = { err, errlen, 0 };
	const char *s = spec;

	put_str(&m, "");
	mmodel_params_default(p);
	if (!spec)
		return check(&m, p);
	/* An empty spec means the defaults; an empty item is an error. */
	while (*s) {
		struct item it;
		const char *e = s, *eq = NULL;

		while (*e && *e != ',') {
			if (*e == '=' && !eq)
				eq = e;
			e++;
		}
		if (e == s) {
			fail(&m, NULL, 0, "empty item in the spec (doubled or leading ',')");
			mmodel_params_default(p);
			return -1;
		}
		if (!eq || eq == s) {
			fail(&m, NULL, 0, "item ");
			put_quoted(&m, s, e - s);
			put_str(&m, eq ? " has no key" : " is not key=value");
			mmodel_params_default(p);
			return -1;
		}
		it.key = s;
		it.keylen = eq - s;
		it.val = eq + 1;
		it.vallen = e - eq - 1;
		if (!it.vallen) {
			fail(&m, it.key, it.keylen, "empty value");
			mmodel_params_default(p);
			return -1;
		}
		if (apply(&m, p, &it)) {
			mmodel_params_default(p);
			return -1;
		}
		if (!*e)
			break;
		s = e + 1;
		if (!*s) {
			fail(&m, NULL, 0, "empty item in the spec (trailing ',')");
			mmodel_params_default(p);
			return -1;
		}
	}
	if (check(&m, p)) {
		mmodel_params_default(p);
		return -1;
	}
	return 0;
}

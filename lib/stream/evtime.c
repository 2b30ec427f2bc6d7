/*
 * evtime.c -- event times of records for ds-batch -T: epoch numbers in
 * s, ms or us, or RFC 3339 strings, all to epoch milliseconds.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "stream/stream.h"

int64_t
ds_floordiv(int64_t a, int64_t b)
{
	int64_t q = a / b;

	if ((a % b != 0) && ((a < 0) != (b < 0)))
		q--;
	return q;
}

/* Days from 1970-01-01 to y-m-d (proleptic Gregorian; H. Hinnant). */
static int64_t
days(int64_t y, int m, int d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

/* Read exactly n digits at *p; -1 when they are not there. */
static int
num(const char **p, const char *e, int n)
{
	int v = 0;

	if (e - *p < n)
		return -1;
	while (n-- > 0) {
		if (**p < '0' || **p > '9')
			return -1;
		v = v * 10 + (*(*p)++ - '0');
	}
	return v;
}

/* RFC 3339: YYYY-MM-DD[T ]HH:MM:SS[.frac](Z|+HH:MM|-HH:MM). */
static int
rfc3339(const char *p, const char *e, int64_t *ms)
{
	int y, mo, d, h, mi, s, oh, om, frac = 0, nf = 0, sign;
	int64_t t;

	if ((y = num(&p, e, 4)) < 0 || p >= e || *p++ != '-' ||
	    (mo = num(&p, e, 2)) < 1 || mo > 12 || p >= e || *p++ != '-' ||
	    (d = num(&p, e, 2)) < 1 || d > 31 || p >= e ||
	    (*p != 'T' && *p != 't' && *p != ' '))
		return -1;
	p++;
	if ((h = num(&p, e, 2)) < 0 || h > 23 || p >= e || *p++ != ':' ||
	    (mi = num(&p, e, 2)) < 0 || mi > 59 || p >= e || *p++ != ':' ||
	    (s = num(&p, e, 2)) < 0 || s > 60)
		return -1;
	if (p < e && *p == '.') {
		for (p++; p < e && *p >= '0' && *p <= '9'; p++, nf++)
			if (nf < 3)
				frac = frac * 10 + (*p - '0');
		if (nf == 0)
			return -1;
		for (; nf < 3; nf++)
			frac *= 10;
	}
	if (p >= e)
		return -1;
	if (*p == 'Z' || *p == 'z') {
		sign = 0;
		oh = om = 0;
		p++;
	} else if (*p == '+' || *p == '-') {
		sign = *p++ == '-' ? -1 : 1;
		if ((oh = num(&p, e, 2)) < 0 || oh > 23 || p >= e ||
		    *p++ != ':' || (om = num(&p, e, 2)) < 0 || om > 59)
			return -1;
	} else
		return -1;
	if (p != e)
		return -1;
	t = days(y, mo, d) * 86400 + h * 3600 + mi * 60 + s;
	if (sign != 0)
		t -= sign * (oh * 3600 + om * 60);
	*ms = t * 1000 + frac;
	return 0;
}

int
ds_evtime(struct ds_span v, enum ds_tunit u, int64_t *ms)
{
	static const int64_t per[] = { 1, 1000, 1 };	/* ms, s, us */
	struct ds_buf b = { 0 };
	double d;
	int64_t i;
	int rc;

	if (v.len > 0 && *v.p == '"') {
		if (memchr(v.p, '\\', v.len) == NULL)
			return rfc3339(v.p + 1, v.p + v.len - 1, ms);
		if (ds_json_str(v, &b) == -1) {
			ds_buf_free(&b);
			return -1;
		}
		rc = rfc3339(b.p, b.p + b.len, ms);
		ds_buf_free(&b);
		return rc;
	}
	if (ds_json_int(v, &i) == 0) {
		if (u == DS_TU_US) {
			*ms = ds_floordiv(i, 1000);
			return 0;
		}
		if (i > INT64_MAX / per[u] || i < INT64_MIN / per[u])
			return -1;
		*ms = i * per[u];
		return 0;
	}
	if (ds_json_num(v, &d) == -1)
		return -1;
	d = u == DS_TU_US ? d / 1000 : d * (double)per[u];
	if (!isfinite(d) || d >= 9.2e18 || d <= -9.2e18)
		return -1;
	*ms = (int64_t)floor(d);
	return 0;
}

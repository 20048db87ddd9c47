/* SPDX-License-Identifier: MIT */
/*
 * Sizes and durations as people type them (`nslab run --mem 512M --timeout 1.5`,
 * and the same in a sandbox profile). Shared by the library and the command.
 *
 * Sizes: a whole number of bytes with an optional suffix, every one a power of
 * 1024: K, M, G, T; KiB, MiB, GiB, TiB; k, m, g, t (also "B" alone: bytes).
 * "1.5G" is refused: write 1536M.
 *
 * Durations: seconds, decimals allowed ("1.5"), or a number with a suffix:
 * ms, s, m (minutes), h. The result is in milliseconds; anything finer
 * ("0.0001", "1.5ms") is refused rather than rounded.
 */
#pragma once

#include <errno.h>
#include <stdint.h>
#include <string.h>

/* Digits at *s into *v (stopping at the first non-digit). Return: how many, or -ERANGE. */
static inline int units_digits(const char **s, uint64_t *v)
{
	int n = 0;

	*v = 0;
	for (; **s >= '0' && **s <= '9'; (*s)++, n++) {
		unsigned d = (unsigned)(**s - '0');

		if (*v > (UINT64_MAX - d) / 10)
			return -ERANGE;
		*v = *v * 10 + d;
	}
	return n;
}

/**
 * parse_size() - "512M" into bytes
 * @s:    the text
 * @ret:  the size in bytes, written only on success
 * Return: 0, -EINVAL (not a size) or -ERANGE (too large for 64 bits).
 */
static inline int parse_size(const char *s, uint64_t *ret)
{
	static const struct {
		const char *suffix;
		unsigned shift;
	} units[] = { { "", 0 },     { "B", 0 },  { "K", 10 },	 { "k", 10 },  { "KiB", 10 },
		      { "M", 20 },   { "m", 20 }, { "MiB", 20 }, { "G", 30 },  { "g", 30 },
		      { "GiB", 30 }, { "T", 40 }, { "t", 40 },	 { "TiB", 40 } };
	uint64_t v;
	int n;

	if (!s)
		return -EINVAL;
	n = units_digits(&s, &v);
	if (n < 0)
		return n;
	if (n == 0)
		return -EINVAL;
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (strcmp(s, units[i].suffix) != 0)
			continue;
		if (units[i].shift && v > (UINT64_MAX >> units[i].shift))
			return -ERANGE;
		*ret = v << units[i].shift;
		return 0;
	}
	return -EINVAL;
}

/**
 * parse_duration_ms() - "1.5", "90s", "250ms", "2m", "1h" into milliseconds
 * @s:    the text
 * @ret:  the duration in milliseconds, written only on success
 * Return: 0, -EINVAL (not a duration, or finer than a millisecond) or -ERANGE.
 */
static inline int parse_duration_ms(const char *s, uint64_t *ret)
{
	static const struct {
		const char *suffix;
		uint64_t ms;
	} units[] = { { "", 1000 }, { "s", 1000 }, { "ms", 1 }, { "m", 60000 }, { "h", 3600000 } };
	uint64_t whole, frac = 0, scale = 1;
	int n, nf = 0;

	if (!s)
		return -EINVAL;
	n = units_digits(&s, &whole);
	if (n < 0)
		return n;
	if (*s == '.') {
		s++;
		for (; *s >= '0' && *s <= '9'; s++, nf++) {
			if (nf >= 9) /* finer than a nanosecond is certainly finer than we keep */
				return -EINVAL;
			frac = frac * 10 + (uint64_t)(*s - '0');
			scale *= 10;
		}
		if (nf == 0)
			return -EINVAL;
	}
	if (n == 0)
		return -EINVAL;
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		uint64_t m = units[i].ms, part;

		if (strcmp(s, units[i].suffix) != 0)
			continue;
		if (whole > UINT64_MAX / m)
			return -ERANGE;
		/* frac/scale of a unit, in whole milliseconds only */
		if ((frac * m) % scale != 0)
			return -EINVAL;
		part = frac * m / scale;
		if (whole * m > UINT64_MAX - part)
			return -ERANGE;
		*ret = whole * m + part;
		return 0;
	}
	return -EINVAL;
}

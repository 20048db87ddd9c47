/* SPDX-License-Identifier: MIT */
/*
 * "Did you mean": the closest of a few candidate words to a mistyped one, by
 * edit distance (a swap of neighbours is one edit) or as its unique prefix.
 * Shared by the command's options and commands and the library's profile keys.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <string.h>

static inline size_t osa_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	size_t d[33][33];

	if (la > 32 || lb > 32)
		return SIZE_MAX;
	for (size_t i = 0; i <= la; i++)
		d[i][0] = i;
	for (size_t j = 0; j <= lb; j++)
		d[0][j] = j;
	for (size_t i = 1; i <= la; i++)
		for (size_t j = 1; j <= lb; j++) {
			size_t sub = d[i - 1][j - 1] + (a[i - 1] != b[j - 1]);
			size_t del = d[i - 1][j] + 1, ins = d[i][j - 1] + 1;
			size_t m = sub < del ? sub : del;

			m = m < ins ? m : ins;
			/* a swap of two neighbours counts as one edit: "stauts" is 1 from "status" */
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
			    d[i - 2][j - 2] + 1 < m)
				m = d[i - 2][j - 2] + 1;
			d[i][j] = m;
		}
	return d[la][lb];
}

/* The candidate closest to word by edit distance or as its prefix, NULL if none is close. */
static inline const char *closest_word(const char *word, const char *const *cands, size_t n)
{
	size_t len = strlen(word), best_d = SIZE_MAX, prefixed = 0;
	const char *best = NULL, *prefix = NULL;

	for (size_t i = 0; i < n; i++) {
		size_t d = osa_distance(word, cands[i]);

		if (len >= 2 && strncmp(cands[i], word, len) == 0) {
			prefix = cands[i];
			prefixed++;
		}
		if (d < best_d) {
			best_d = d;
			best = cands[i];
		}
	}
	if (prefixed == 1)
		return prefix;
	return best_d <= (len <= 3 ? 1u : 2u) ? best : NULL;
}

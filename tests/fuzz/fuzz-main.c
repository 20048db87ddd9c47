/* SPDX-License-Identifier: MIT */
/*
 * Replay every file of a corpus directory (argv[1]) through a fuzz target's
 * LLVMFuzzerTestOneInput, so each corpus runs as an ordinary test in every
 * build (with sanitizers in CI), without libFuzzer.
 */
#include "fuzz.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int replay(const char *path)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf = NULL;
	long size;
	int r = -1;

	if (!f)
		return -1;
	if (fseek(f, 0, SEEK_END) == 0 && (size = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0) {
		buf = malloc(size ? (size_t)size : 1);
		if (buf && fread(buf, 1, (size_t)size, f) == (size_t)size) {
			(void)LLVMFuzzerTestOneInput(buf, (size_t)size);
			r = 0;
		}
	}
	free(buf);
	fclose(f);
	return r;
}

int main(int argc, char **argv)
{
	struct dirent *de;
	unsigned n = 0;
	DIR *dir;

	if (argc != 2) {
		fprintf(stderr, "usage: %s CORPUS-DIR\n", argv[0]);
		return 2;
	}
	dir = opendir(argv[1]);
	if (!dir) {
		fprintf(stderr, "%s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	while ((de = readdir(dir))) {
		char path[4096];

		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", argv[1], de->d_name);
		if (replay(path) < 0) {
			fprintf(stderr, "%s: cannot read\n", path);
			closedir(dir);
			return 1;
		}
		n++;
	}
	closedir(dir);
	printf("replayed %u inputs from %s\n", n, argv[1]);
	return n > 0 ? 0 : 1;
}

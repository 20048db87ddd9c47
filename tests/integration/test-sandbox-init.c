/* SPDX-License-Identifier: MIT */
/*
 * The sandbox's shared init (nslab_sandbox_config_set_shared_init(): init on
 * the caller's memory) and its stacks on the real kernel, as root and rootless
 * (`meson test --setup rootless`): the same results as a copy of the caller,
 * our address space as it was after sandboxes one after another, two at once
 * and a killed one, init and the command on our CPUs, nothing left of a
 * timeout; and a non-dumpable caller, shared init asked or not. The rest of
 * the sandbox: test-sandbox.c.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <linux/capability.h>

#include <nslab/sandbox.h>

#include "sandbox-test.h"

/* --- helpers ------------------------------------------------------------------ */

/* The value of a "Name:\tvalue" line of /proc/PID/status ("self" for pid 0), "" if none. */
static void status_field(pid_t pid, const char *name, char *out, size_t len)
{
	char path[64], line[512];
	size_t n = strlen(name);
	FILE *f;

	if (pid)
		snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	else
		snprintf(path, sizeof(path), "/proc/self/status");
	out[0] = '\0';
	f = fopen(path, "re");
	while (f && fgets(line, sizeof(line), f))
		if (strncmp(line, name, n) == 0 && line[n] == ':') {
			snprintf(out, len, "%s", line + n + 1 + strspn(line + n + 1, " \t"));
			out[strcspn(out, "\n")] = '\0';
			break;
		}
	if (f)
		fclose(f);
}

/* Our mapped address space in KiB (VmSize): adjacent mappings merge in /proc/self/maps. */
static long vm_size_kib(void)
{
	char value[64];

	status_field(0, "VmSize", value, sizeof(value));
	return value[0] ? atol(value) : -1;
}

/* --- cases ------------------------------------------------------------------- */

/*
 * Two sandboxes of c alive at once (two of shared init's stacks in use), each
 * exits 0; then one killed and freed at once, its stack taken by the next start.
 */
static void stacks_in_turn(nslab_sandbox_config *c)
{
	char *cmd[] = { "sleep", "0.1", NULL }, *long_cmd[] = { "sleep", "30", NULL };
	struct nslab_sandbox_result res = { 0 };
	nslab_error err = { 0 };
	nslab_sandbox *s[2] = { NULL, NULL };

	for (int i = 0; i < 2; i++)
		CHECK(nslab_sandbox_spawn(c, cmd, &s[i], &err) == 0, "%s", err.msg);
	for (int i = 0; i < 2; i++) {
		if (!s[i])
			continue;
		CHECK(nslab_sandbox_wait(s[i], &res, &err) == 0 && res.exit_code == 0,
		      "two at once: sandbox %d: exit %d '%s'", i, res.exit_code, err.msg);
		nslab_sandbox_free(s[i]);
	}
	CHECK(nslab_sandbox_spawn(c, long_cmd, &s[0], &err) == 0, "%s", err.msg);
	nslab_sandbox_free(s[0]); /* SIGKILL, reaped: its stack is the spare again */
	res = run(c, (char *[]){ "sh", "-c", "exit 4", NULL });
	CHECK(res.exit_code == 4, "the start after a killed one: exit %d", res.exit_code);
}

/*
 * Once started, the command and init run on our CPUs, neither more nor fewer
 * (docs/performance.md, round 6: a start that placed them left no trace).
 */
static void cpus_as_ours(nslab_sandbox_config *c)
{
	char *cmd[] = { "sleep", "30", NULL };
	char ours[256], cmd_cpus[256], init_cpus[256], ppid[32];
	nslab_error err = { 0 };
	nslab_sandbox *s;
	pid_t init;

	status_field(0, "Cpus_allowed_list", ours, sizeof(ours));
	CHECK(nslab_sandbox_spawn(c, cmd, &s, &err) == 0, "%s", err.msg);
	if (!s)
		return;
	status_field(nslab_sandbox_pid(s), "Cpus_allowed_list", cmd_cpus, sizeof(cmd_cpus));
	status_field(nslab_sandbox_pid(s), "PPid", ppid, sizeof(ppid));
	/* an unread PPid (0) would read our own status: init is neither us nor no one */
	init = (pid_t)atoi(ppid);
	CHECK(init > 0 && init != getpid(), "the command's parent, init: PPid '%s'", ppid);
	if (init > 0)
		status_field(init, "Cpus_allowed_list", init_cpus, sizeof(init_cpus));
	else
		init_cpus[0] = '\0';
	CHECK(ours[0] && strcmp(cmd_cpus, ours) == 0 && strcmp(init_cpus, ours) == 0,
	      "CPUs: ours '%s', the command's '%s', init's (pid %s) '%s'", ours, cmd_cpus, ppid,
	      init_cpus);
	nslab_sandbox_free(s);
}

/*
 * set_shared_init(): init on the caller's memory (spawn.c's DOC). The same
 * results as a copy; nothing of init's left in our memory (its stack given
 * back once it is reaped: one kept for the next start, so our address space
 * does not grow, two sandboxes at once and a killed one included) nor in the
 * host (a timeout's grandchild), and we stay dumpable (init does not clear the
 * flag of memory that is ours).
 */
static void test_shared_init(void)
{
	char *cmd[] = { "sh", "-c", "(trap '' TERM; exec sleep 30) & exec sleep 30", NULL };
	nslab_sandbox_config *c = config();
	struct nslab_sandbox_result res;
	nslab_error err = { 0 };
	nslab_sandbox *s;
	struct stat ns;
	pid_t pids[16];
	long vm;

	nslab_sandbox_config_set_shared_init(c, true);
	res = run(c, (char *[]){ "sh", "-c", "[ $$ = 2 ] && exit 3", NULL });
	vm = vm_size_kib();
	CHECK(res.exit_code == 3, "shared init: exit 3 as pid 2: %d", res.exit_code);
	res = run(c, (char *[]){ "sh", "-c", "kill -TERM $$", NULL });
	CHECK(res.exit_code == 143, "shared init: SIGTERM: %d", res.exit_code);
	CHECK(nslab_sandbox_run(c, (char *[]){ "/nonexistent/cmd", NULL }, &res, &err) == -ENOENT &&
		      res.exit_code == 127,
	      "shared init: not found: %d '%s'", res.exit_code, err.msg);
	CHECK(vm_size_kib() == vm, "shared init: %ld KiB mapped after, %ld before", vm_size_kib(),
	      vm);
	stacks_in_turn(c);
	cpus_as_ours(c);
	CHECK(vm_size_kib() == vm, "shared init, stacks in turn: %ld KiB mapped after, %ld before",
	      vm_size_kib(), vm);
	CHECK(prctl(PR_GET_DUMPABLE, 0, 0, 0, 0) == 1, "shared init: we are no longer dumpable");
	/* a kept CAP_SYS_PTRACE would reach init's memory, were it ours: a copy then, not dumpable */
	CHECK(nslab_sandbox_config_keep_cap(c, CAP_SYS_PTRACE, &err) == 0, "%s", err.msg);
	res = run(c, (char *[]){ "sh", "-c", "exec 3<>/proc/1/mem", NULL });
	CHECK(res.exit_code != 0, "shared init, CAP_SYS_PTRACE kept: init's memory opened");
	nslab_sandbox_config_free(c);
	c = config();
	nslab_sandbox_config_set_shared_init(c, true);

	set_limit(c, NSLAB_SANDBOX_LIMIT_TIMEOUT, 300);
	CHECK(nslab_sandbox_spawn(c, cmd, &s, &err) == 0, "%s", err.msg);
	CHECK(ns_of(nslab_sandbox_pid(s), "pid", &ns), "the command's PID namespace");
	CHECK(nslab_sandbox_wait(s, &res, &err) == 0, "%s", err.msg);
	CHECK(res.exit_code == 124, "shared init: timeout: %d", res.exit_code);
	CHECK(pids_in_pidns(ns.st_ino, pids, 16) == 0,
	      "shared init: a process of the sandbox remains");
	nslab_sandbox_free(s);
	nslab_sandbox_config_free(c);
}

/* A caller that made itself non-dumpable: init, a copy of it, is too, yet writes its maps. */
static void test_not_dumpable(void)
{
	nslab_sandbox_config *c = config();
	struct nslab_sandbox_result res;

	CHECK(prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) == 0, "PR_SET_DUMPABLE");
	res = run(c, (char *[]){ "sh", "-c", "exit 5", NULL });
	CHECK(res.exit_code == 5, "a non-dumpable caller: %d", res.exit_code);
	nslab_sandbox_config_set_shared_init(c, true);
	res = run(c, (char *[]){ "sh", "-c", "exit 6", NULL });
	CHECK(res.exit_code == 6, "a non-dumpable caller, shared init asked: %d", res.exit_code);
	CHECK(prctl(PR_SET_DUMPABLE, 1, 0, 0, 0) == 0, "PR_SET_DUMPABLE");
	nslab_sandbox_config_free(c);
}

int main(void)
{
	sandbox_test_start();
	test_shared_init();
	test_not_dumpable();
	printf("ok: %u checks (%s)\n", checks, geteuid() ? "rootless" : "root");
	return 0;
}

/* SPDX-License-Identifier: MIT */
/*
 * jail_caps_enter() against the kernel, in forked children, as the sandbox
 * uses it: in a user namespace of the child's own (root inside, as rootless
 * sandboxes are), and as real root changing to another uid. After it:
 * - /proc/self/status shows every set empty, or only the kept capabilities
 *   (ambient too when asked), in the process and after exec of a program;
 * - securebits are set and locked, no_new_privs is 1;
 * - a raw socket opens only with CAP_NET_RAW kept;
 * - (root) a setuid-root copy of id(1) and a copy of cat(1) with file
 *   capabilities gain nothing; without jail_caps_enter() they do (the control).
 * The program runs itself with --report to see what an exec'd command gets.
 *
 * Exit status: 0 pass, 1 fail, 77 skip (no user namespaces for the rootless
 * cases), 99 (nslab-test.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <grp.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/capability.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <linux/securebits.h>

#include "jail-test.h"

#define NET_RAW (UINT64_C(1) << CAP_NET_RAW)
#define SB_LOCKED                                                        \
	(SECBIT_NOROOT | SECBIT_NOROOT_LOCKED | SECBIT_NO_SETUID_FIXUP | \
	 SECBIT_NO_SETUID_FIXUP_LOCKED)
#define SB_NO_AMB (SECBIT_NO_CAP_AMBIENT_RAISE | SECBIT_NO_CAP_AMBIENT_RAISE_LOCKED)
#define NOBODY	  65534

static char self[4096];

/* What a process holds, seen from inside. */
struct seen {
	uint64_t inh, prm, eff, bnd, amb;
	unsigned euid;
	int nnp, sb, raw; /* raw: errno of socket(AF_INET, SOCK_RAW), 0 if it opened */
};

static int raw_socket_errno(void)
{
	int fd = socket(AF_INET, SOCK_RAW, IPPROTO_ICMP);

	if (fd < 0)
		return errno;
	close(fd);
	return 0;
}

static struct seen look(void)
{
	return (struct seen){ jt_status_hex(getpid(), 0, "CapInh"),
			      jt_status_hex(getpid(), 0, "CapPrm"),
			      jt_status_hex(getpid(), 0, "CapEff"),
			      jt_status_hex(getpid(), 0, "CapBnd"),
			      jt_status_hex(getpid(), 0, "CapAmb"),
			      (unsigned)geteuid(),
			      prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0),
			      prctl(PR_GET_SECUREBITS, 0, 0, 0, 0),
			      raw_socket_errno() };
}

/* --report: what an exec'd program holds, on stdout. */
static int report(void)
{
	struct seen s = look();

	printf("%" PRIx64 " %" PRIx64 " %" PRIx64 " %" PRIx64 " %" PRIx64 " %u %d %x %d\n", s.inh,
	       s.prm, s.eff, s.bnd, s.amb, s.euid, s.nnp, s.sb, s.raw);
	return 0;
}

static bool parse_seen(const char *text, struct seen *s)
{
	return sscanf(text,
		      "%" SCNx64 " %" SCNx64 " %" SCNx64 " %" SCNx64 " %" SCNx64 " %u %d %x %d",
		      &s->inh, &s->prm, &s->eff, &s->bnd, &s->amb, &s->euid, &s->nnp, &s->sb,
		      &s->raw) == 9;
}

/* ----------------------------------------------------------- one case */

enum ids {
	IDS_USERNS_ROOT, /* root in a user namespace of its own (any caller) */
	IDS_NOBODY,	 /* real root becoming 65534, prepared */
	IDS_NOBODY_UNPREPARED,
	IDS_AS_IS, /* no user namespace, no uid change (root: the host's root) */
};

struct scenario {
	const char *name;
	enum ids ids;
	uint64_t keep;
	bool ambient;
	const char *const *argv; /* run after jail_caps_enter(); NULL: --report */
	int out;		 /* its stdout */
	int err;		 /* the error jail_caps_enter() must give, 0 for success */
};

static bool become(enum ids ids)
{
	if (ids == IDS_USERNS_ROOT)
		return jt_userns_as_root(CLONE_NEWNET);
	if (ids == IDS_AS_IS)
		return true;
	if (unshare(CLONE_NEWNET) < 0)
		return false;
	if (ids == IDS_NOBODY) {
		nslab_error err = { 0 };

		if (jail_caps_prepare_setuid(&err) < 0) {
			fprintf(stderr, "child: %s\n", err.msg);
			return false;
		}
	}
	return setgroups(0, NULL) == 0 && setresgid(NOBODY, NOBODY, NOBODY) == 0 &&
	       setresuid(NOBODY, NOBODY, NOBODY) == 0;
}

static int scenario_child(void *arg)
{
	const struct scenario *sc = arg;
	const char *const report_argv[] = { self, "--report", NULL };
	nslab_error err = { 0 };
	int r;

	if (!become(sc->ids))
		return 90;
	r = jail_caps_enter(sc->keep, sc->ambient, jail_caps_last(), &err);
	if (r != -sc->err) {
		fprintf(stderr, "child: jail_caps_enter: %d (%s), expected %d\n", r, err.msg,
			-sc->err);
		return 91;
	}
	if (r < 0)
		return strstr(err.msg, "jail_caps_prepare_setuid") ? 0 : 92;
	if (dup2(sc->out, STDOUT_FILENO) < 0)
		return 93;
	execv(sc->argv ? sc->argv[0] : self, (char *const *)(sc->argv ? sc->argv : report_argv));
	dprintf(STDOUT_FILENO, "exec: %s\n", strerrorname_np(errno));
	return 94;
}

/* Run the scenario; what its program printed in out. Return: the child's wait status. */
static int run(struct scenario *sc, char *out, size_t len)
{
	int p[2], st;
	ssize_t n;

	CHECK(pipe(p) == 0, "pipe");
	sc->out = p[1];
	st = jt_run(scenario_child, sc);
	close(p[1]);
	n = read(p[0], out, len - 1);
	out[n > 0 ? n : 0] = '\0';
	close(p[0]);
	return st;
}

static struct seen run_report(struct scenario *sc)
{
	char out[256];
	struct seen s;
	int st = run(sc, out, sizeof(out));

	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0, "%s: child %s", sc->name, jt_status(st));
	CHECK(parse_seen(out, &s), "%s: report '%s'", sc->name, out);
	return s;
}

static void expect(const char *name, const struct seen *s, uint64_t inh, uint64_t prm, uint64_t eff,
		   uint64_t bnd, uint64_t amb, int sb, int raw)
{
	CHECK(s->inh == inh && s->prm == prm && s->eff == eff && s->bnd == bnd && s->amb == amb,
	      "%s: inh %" PRIx64 " prm %" PRIx64 " eff %" PRIx64 " bnd %" PRIx64 " amb %" PRIx64
	      ", expected %" PRIx64 " %" PRIx64 " %" PRIx64 " %" PRIx64 " %" PRIx64,
	      name, s->inh, s->prm, s->eff, s->bnd, s->amb, inh, prm, eff, bnd, amb);
	CHECK(s->nnp == 1, "%s: no_new_privs %d", name, s->nnp);
	CHECK(s->sb == sb, "%s: securebits 0x%x, expected 0x%x", name, s->sb, sb);
	CHECK(s->raw == raw, "%s: raw socket: %s, expected %s", name, strerrorname_np(s->raw),
	      strerrorname_np(raw));
	printf("ok: %s: inh %" PRIx64 " prm %" PRIx64 " eff %" PRIx64 " bnd %" PRIx64
	       " amb %" PRIx64 ", securebits 0x%x locked, no_new_privs, raw socket %s\n",
	       name, inh, prm, eff, bnd, amb, sb, raw ? strerrorname_np(raw) : "opens");
}

/* In the process itself, before any exec: the locks hold. */
static int locks_hold(void *arg)
{
	nslab_error err = { 0 };
	struct seen s;

	(void)arg;
	if (!become(IDS_USERNS_ROOT) || jail_caps_enter(0, false, -1, &err) < 0)
		return 90;
	s = look();
	if (s.inh | s.prm | s.eff | s.bnd | s.amb || s.nnp != 1 || s.sb != (SB_LOCKED | SB_NO_AMB))
		return 91;
	/* locked: no way back, not even to the same value minus a lock */
	if (prctl(PR_SET_SECUREBITS, 0, 0, 0, 0) == 0 || errno != EPERM)
		return 92;
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, CAP_NET_RAW, 0, 0) == 0)
		return 93;
	if (prctl(PR_CAPBSET_READ, CAP_CHOWN, 0, 0, 0) != 0)
		return 94;
	return 0;
}

static void check_userns_cases(void)
{
	struct scenario none = { "no capability (root in a user namespace)", IDS_USERNS_ROOT, 0,
				 false };
	struct scenario amb = { "CAP_NET_RAW kept, ambient", IDS_USERNS_ROOT, NET_RAW, true };
	struct scenario keep = { "CAP_NET_RAW kept, not ambient", IDS_USERNS_ROOT, NET_RAW, false };
	struct seen s;
	int st;

	s = run_report(&none);
	expect(none.name, &s, 0, 0, 0, 0, 0, SB_LOCKED | SB_NO_AMB, EPERM);
	s = run_report(&amb);
	expect(amb.name, &s, NET_RAW, NET_RAW, NET_RAW, NET_RAW, NET_RAW, SB_LOCKED, 0);
	/* uid 0 inside gains nothing at exec (NOROOT): without ambient the capability stays behind */
	s = run_report(&keep);
	expect(keep.name, &s, NET_RAW, 0, 0, NET_RAW, 0, SB_LOCKED | SB_NO_AMB, EPERM);
	st = jt_run(locks_hold, NULL);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0, "locks: %s", jt_status(st));
	printf("ok: securebits cannot be unlocked, ambient cannot be raised, bounding set empty\n");
}

/* Without a user namespace: root loses everything; anyone else holds nothing to lose. */
static void check_as_is(void)
{
	struct scenario sc = { "no user namespace, no uid change", IDS_AS_IS, 0, false };
	struct seen s = run_report(&sc);

	if (geteuid() == 0) {
		expect(sc.name, &s, 0, 0, 0, 0, 0, SB_LOCKED | SB_NO_AMB, EPERM);
		return;
	}
	CHECK(s.inh == 0 && s.prm == 0 && s.eff == 0 && s.amb == 0 && s.nnp == 1,
	      "%s: prm %" PRIx64 " nnp %d", sc.name, s.prm, s.nnp);
	printf("ok: %s, unprivileged: accepted, no capability, no_new_privs (bounding set %" PRIx64
	       " stays: no CAP_SETPCAP to shrink it)\n",
	       sc.name, s.bnd);
}

/* ---------------------------------------------------------- real root */

static void check_uid_change(void)
{
	struct scenario amb = { "uid 65534, CAP_NET_RAW kept, ambient", IDS_NOBODY, NET_RAW, true };
	struct scenario none = { "uid 65534, nothing kept", IDS_NOBODY, 0, false };
	struct scenario lost = { "uid 65534 unprepared, keeping CAP_NET_RAW", IDS_NOBODY_UNPREPARED,
				 NET_RAW, true };
	struct scenario bare = { "uid 65534 unprepared, nothing kept", IDS_NOBODY_UNPREPARED, 0,
				 false };
	char out[256];
	struct seen s;
	int st;

	s = run_report(&amb);
	CHECK(s.euid == NOBODY, "euid %u", s.euid);
	expect(amb.name, &s, NET_RAW, NET_RAW, NET_RAW, NET_RAW, NET_RAW, SB_LOCKED, 0);
	s = run_report(&none);
	expect(none.name, &s, 0, 0, 0, 0, 0, SB_LOCKED | SB_NO_AMB, EPERM);
	/* without jail_caps_prepare_setuid() the uid change took them: a clear error */
	lost.err = EPERM;
	st = run(&lost, out, sizeof(out));
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0, "%s: %s", lost.name, jt_status(st));
	printf("ok: %s: refused, naming jail_caps_prepare_setuid()\n", lost.name);
	/*
	 * Nothing left to drop and no CAP_SETPCAP to drop the bounding set with:
	 * accepted, since no_new_privs forbids gaining anything (see caps.c)
	 */
	s = run_report(&bare);
	CHECK(s.prm == 0 && s.eff == 0 && s.amb == 0 && s.nnp == 1, "%s: prm %" PRIx64, bare.name,
	      s.prm);
	printf("ok: %s: accepted, no capability, no_new_privs (bounding set %" PRIx64 " stays)\n",
	       bare.name, s.bnd);
}

/* A setuid-root id(1) and a cat(1) with file capabilities, in a directory nobody can reach. */
static bool make_privileged_copies(char dir[64])
{
	char path[128], cmd[256];
	cap_t caps;
	bool ok;

	strcpy(dir, "/tmp/nslab-caps-XXXXXX");
	CHECK(mkdtemp(dir), "mkdtemp: %s", strerror(errno));
	CHECK(chmod(dir, 0755) == 0, "chmod");
	snprintf(cmd, sizeof(cmd), "cp /usr/bin/id /bin/cat %s/", dir);
	CHECK(system(cmd) == 0, "%s", cmd);
	snprintf(path, sizeof(path), "%s/id", dir);
	CHECK(chown(path, 0, 0) == 0 && chmod(path, 04755) == 0, "setuid %s", path);
	snprintf(path, sizeof(path), "%s/cat", dir);
	caps = cap_from_text("cap_net_raw+ep");
	ok = caps && cap_set_file(path, caps) == 0;
	cap_free(caps);
	return ok;
}

static void remove_copies(const char *dir)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	CHECK(system(cmd) == 0, "%s", cmd);
}

/* As 65534 after jail_caps_enter(): what the copies get. */
static void privileged_copies(const char *dir, char *id_out, uint64_t *cat_eff)
{
	char id[96], cat[96], out[4096], *line;
	const char *id_argv[] = { id, "-u", NULL };
	const char *cat_argv[] = { cat, "/proc/self/status", NULL };
	struct scenario sc = { "copies", IDS_NOBODY, 0, false };
	int st;

	snprintf(id, sizeof(id), "%s/id", dir);
	snprintf(cat, sizeof(cat), "%s/cat", dir);
	sc.argv = id_argv;
	st = run(&sc, out, sizeof(out));
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0, "id: %s", jt_status(st));
	snprintf(id_out, 16, "%.*s", (int)strcspn(out, "\n"), out);
	sc.argv = cat_argv;
	st = run(&sc, out, sizeof(out));
	/*
	 * The kernel refuses to run a file whose effective bit asks for a capability
	 * outside the bounding set (capabilities(7), "capability-dumb binaries"):
	 * that gains nothing either; 0 stands for it.
	 */
	if (WIFEXITED(st) && WEXITSTATUS(st) == 94 && strcmp(out, "exec: EPERM\n") == 0) {
		*cat_eff = 0;
		printf("ok: cat with cap_net_raw+ep: exec refused (EPERM), the bounding set "
		       "lacks it\n");
		return;
	}
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0, "cat: %s: %s", jt_status(st), out);
	line = strstr(out, "CapEff:");
	CHECK(line, "no CapEff in '%s'", out);
	*cat_eff = strtoull(line + 7, NULL, 16);
}

static int unsandboxed_child(void *arg)
{
	const char *const *argv = ((const struct scenario *)arg)->argv;

	if (!become(IDS_NOBODY_UNPREPARED) || dup2(((const struct scenario *)arg)->out, 1) < 0)
		return 90;
	execv(argv[0], (char *const *)argv);
	return 94;
}

static void check_no_gain(void)
{
	char dir[64], id_jail[16], id_free[16], id[96], cat[96], out[4096], *line;
	const char *id_argv[] = { id, "-u", NULL };
	const char *cat_argv[] = { cat, "/proc/self/status", NULL };
	struct scenario free_sc = { "control" };
	uint64_t eff_jail, eff_free;
	int p[2], st;

	if (!make_privileged_copies(dir)) {
		remove_copies(dir);
		nslab_test_skip("no file capabilities on /tmp");
	}
	privileged_copies(dir, id_jail, &eff_jail);
	/* the control: the same copies, same uid, no jail_caps_enter() */
	snprintf(id, sizeof(id), "%s/id", dir);
	snprintf(cat, sizeof(cat), "%s/cat", dir);
	for (int i = 0; i < 2; i++) {
		CHECK(pipe(p) == 0, "pipe");
		free_sc.argv = i == 0 ? id_argv : cat_argv;
		free_sc.out = p[1];
		st = jt_run(unsandboxed_child, &free_sc);
		close(p[1]);
		out[0] = '\0';
		if (read(p[0], out, sizeof(out) - 1) > 0 && i == 0)
			snprintf(id_free, sizeof(id_free), "%.*s", (int)strcspn(out, "\n"), out);
		close(p[0]);
		CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0, "control: %s", jt_status(st));
		if (i == 1) {
			line = strstr(out, "CapEff:");
			CHECK(line, "control: no CapEff");
			eff_free = strtoull(line + 7, NULL, 16);
		}
	}
	remove_copies(dir);
	CHECK(strcmp(id_free, "0") == 0 && eff_free == NET_RAW,
	      "control: setuid id says '%s', file-capability cat has %" PRIx64
	      " (the copies do not work)",
	      id_free, eff_free);
	CHECK(strcmp(id_jail, "65534") == 0, "setuid-root id after jail_caps_enter(): euid '%s'",
	      id_jail);
	CHECK(eff_jail == 0, "cat with file capabilities after jail_caps_enter(): %" PRIx64,
	      eff_jail);
	printf("ok: a setuid-root id runs as %s (without the jail: %s); cat with cap_net_raw+ep "
	       "gets %" PRIx64 " (without: %" PRIx64 ")\n",
	       id_jail, id_free, eff_jail, eff_free);
}

int main(int argc, char **argv)
{
	ssize_t n;

	if (argc > 1 && strcmp(argv[1], "--report") == 0)
		return report();
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	CHECK(n > 0, "readlink /proc/self/exe: %s", strerror(errno));
	self[n] = '\0';
	if (geteuid() != 0 && !nslab_test_host_capable())
		nslab_test_skip("no user namespaces for an unprivileged user");
	check_userns_cases();
	check_as_is();
	if (geteuid() == 0) {
		check_uid_change();
		check_no_gain();
	} else {
		printf("note: not root: the uid change and setuid cases need real root\n");
	}
	printf("ok: %u checks\n", checks);
	return 0;
}

/* SPDX-License-Identifier: MIT */
/*
 * Integration: the lab API against the real kernel. A lab is built, real
 * traffic crosses it, its names change while it runs, a build that fails half-way leaves no fd (hence no
 * namespace) behind, and freeing a lab kills what it spawned.
 */
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "nslab/nslab.h"
#include "nslab-test.h"

static int count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	int n = 0;

	while (d && readdir(d))
		n++;
	if (d)
		closedir(d);
	return n;
}

static nslab_lab *two_routers(const char *name, int devices)
{
	nslab_error err = { 0 };
	nslab_lab *lab;
	char dev[32];

	CHECK(nslab_lab_new(name, &lab, &err) == 0, "%s", err.msg);
	CHECK(nslab_lab_add_router(lab, "isp", NULL, &err) == 0, "%s", err.msg);
	CHECK(nslab_lab_add_router(
		      lab, "home",
		      &(struct nslab_router_opts){ .upstream = "isp", .pool = NSLAB_POOL_PRIVATE },
		      &err) == 0,
	      "%s", err.msg);
	CHECK(nslab_lab_add_device(lab, "server", "isp", &err) == 0, "%s", err.msg);
	for (int i = 0; i < devices; i++) {
		snprintf(dev, sizeof(dev), "d%d", i);
		CHECK(nslab_lab_add_device(lab, dev, "home", &err) == 0, "%s", err.msg);
	}
	return lab;
}

static int run(nslab_lab *lab, const char *node, char *const argv[])
{
	nslab_error err = { 0 };
	nslab_proc *p;
	int status;

	CHECK(nslab_node_spawn(nslab_lab_node(lab, node), argv,
			       &(struct nslab_spawn_opts){ .inherit_stdio = true }, &p, &err) == 0,
	      "spawn in %s: %s", node, err.msg);
	CHECK(nslab_proc_wait(p, &status, &err) == 0, "%s", err.msg);
	nslab_proc_free(p);
	return status;
}

static void test_traffic(void)
{
	nslab_error err = { 0 };
	nslab_lab *lab = two_routers("t-traffic", 2);
	char a4[64], a6[64];

	CHECK(nslab_lab_build(lab, &err) == 0, "build: %s", err.msg);
	CHECK(nslab_node_addr(nslab_lab_node(lab, "server"), NULL, AF_INET, a4, sizeof(a4), &err) ==
		      0,
	      "%s", err.msg);
	CHECK(nslab_node_addr(nslab_lab_node(lab, "server"), NULL, AF_INET6, a6, sizeof(a6),
			      &err) == 0,
	      "%s", err.msg);
	CHECK(run(lab, "d0", (char *[]){ "ping", "-c3", "-i0.2", "-W5", a4, NULL }) == 0,
	      "v4 ping to %s", a4);
	CHECK(run(lab, "d1", (char *[]){ "ping", "-6", "-c3", "-i0.2", "-W5", a6, NULL }) == 0,
	      "v6 ping to %s", a6);
	/* names and the environment */
	CHECK(run(lab, "d0",
		  (char *[]){ "sh", "-c",
			      "getent ahostsv4 server.t-traffic.test | "
			      "grep -q \"^$NSLAB_IP_SERVER \"",
			      NULL }) == 0,
	      "server.t-traffic.test resolves to $NSLAB_IP_SERVER");
	/* the link-local the lab reports is the one the kernel made */
	{
		char ll[64], cmd[160];

		CHECK(nslab_node_addr(nslab_lab_node(lab, "server"), NULL, 0, ll, sizeof(ll),
				      &err) == 0,
		      "%s", err.msg);
		snprintf(cmd, sizeof(cmd),
			 "ip -6 -o addr show dev eth0 scope link | grep -q ' %s/64 '", ll);
		CHECK(run(lab, "server", (char *[]){ "sh", "-c", cmd, NULL }) == 0,
		      "server's eth0 carries the reported link-local %s", ll);
	}
	/* a wrong expectation fails: an address nobody has does not answer */
	CHECK(run(lab, "d0", (char *[]){ "ping", "-c1", "-W1", "198.18.250.250", NULL }) != 0,
	      "ping to an unassigned address must fail");
	nslab_lab_free(lab);
}

/* Names changed while the lab runs (nslab_lab_set_dns()) and a command's own environment. */
static void test_dns_and_env(void)
{
	nslab_error err = { 0 };
	nslab_lab *lab = two_routers("t-dns", 1);
	const char *env[] = { "NSLAB_IP_SERVER=overridden", "EXTRA=1", NULL };
	nslab_proc *p;
	int st;

	CHECK(nslab_lab_build(lab, &err) == 0, "build: %s", err.msg);
	CHECK(nslab_lab_set_dns(lab, "web.example", "server", &err) == 0, "%s", err.msg);
	CHECK(run(lab, "d0",
		  (char *[]){
			  "sh", "-c",
			  "getent -s files ahostsv4 web.example | grep -q \"^$NSLAB_IP_SERVER \"",
			  NULL }) == 0,
	      "web.example set to server while the lab runs");
	CHECK(nslab_lab_set_dns(lab, "web.example", "192.0.2.9", &err) == 0, "%s", err.msg);
	CHECK(run(lab, "server",
		  (char *[]){ "sh", "-c",
			      "getent -s files hosts web.example | grep -q '^192.0.2.9 '",
			      NULL }) == 0,
	      "web.example moved to 192.0.2.9, seen in every node");
	CHECK(nslab_lab_set_dns(lab, "web.example", NULL, &err) == 0, "%s", err.msg);
	CHECK(run(lab, "d0", (char *[]){ "getent", "-s", "files", "hosts", "web.example", NULL }) !=
		      0,
	      "web.example removed");
	CHECK(nslab_lab_set_dns(lab, "web.example", NULL, &err) == -ENOENT, "removed twice");
	CHECK(nslab_lab_set_dns(lab, "x.example", "nosuch", &err) == -EINVAL &&
		      strstr(err.msg, "'nosuch'"),
	      "an unknown target: %s", err.msg);
	CHECK(nslab_lab_set_dns(lab, "bad name", "server", &err) == -EINVAL, "a bad name");
	CHECK(nslab_node_spawn(
		      nslab_lab_node(lab, "d0"),
		      (char *[]){ "sh", "-c",
				  "[ \"$NSLAB_IP_SERVER\" = overridden ] && [ \"$EXTRA\" = 1 ]",
				  NULL },
		      &(struct nslab_spawn_opts){ .inherit_stdio = true, .env = env }, &p,
		      &err) == 0,
	      "%s", err.msg);
	CHECK(nslab_proc_wait(p, &st, &err) == 0 && st == 0, "env: entries set over the lab's");
	nslab_proc_free(p);
	nslab_lab_free(lab);
}

static void test_failed_build_leaves_nothing(void)
{
	nslab_error err = { 0 };
	struct rlimit old, low;
	nslab_lab *lab = two_routers("t-fail", 40);
	int before = count_fds(), r;

	/* Few fds: the build runs out of them half-way, a realistic failure. */
	CHECK(getrlimit(RLIMIT_NOFILE, &old) == 0, "getrlimit");
	low = old;
	low.rlim_cur = (rlim_t)before + 30;
	CHECK(setrlimit(RLIMIT_NOFILE, &low) == 0, "setrlimit");
	r = nslab_lab_build(lab, &err);
	CHECK(setrlimit(RLIMIT_NOFILE, &old) == 0, "setrlimit");
	CHECK(r < 0, "the build should have failed with %d fds", (int)low.rlim_cur);
	CHECK(strstr(err.msg, "device 'd") != NULL, "error names the device: %s", err.msg);
	CHECK(count_fds() == before, "fds before %d, after %d", before, count_fds());
	nslab_lab_free(lab);
}

static void test_free_kills_processes(void)
{
	nslab_error err = { 0 };
	nslab_lab *lab = two_routers("t-kill", 1);
	nslab_proc *p;
	pid_t pid;

	CHECK(nslab_lab_build(lab, &err) == 0, "build: %s", err.msg);
	CHECK(nslab_node_spawn(nslab_lab_node(lab, "d0"), (char *[]){ "sleep", "100", NULL }, NULL,
			       &p, &err) == 0,
	      "%s", err.msg);
	pid = nslab_proc_pid(p);
	CHECK(kill(pid, 0) == 0, "sleep runs");
	nslab_lab_free(lab);
	CHECK(kill(pid, 0) < 0 && errno == ESRCH, "sleep %d survived the lab", (int)pid);
	nslab_proc_free(p);
}

static void read_file(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "re");
	size_t n;

	CHECK(f, "open %s: %s", path, strerror(errno));
	n = fread(buf, 1, len - 1, f);
	buf[n] = '\0';
	fclose(f);
}

/* Commands spawned without inherit_stdio write nodes/<node>/<n>-<cmd>.stdout|stderr. */
static void test_outdir_logs(void)
{
	char dir[] = "/tmp/nslab-test-lab.XXXXXX", path[256], buf[4096];
	nslab_error err = { 0 };
	nslab_lab *lab = two_routers("t-logs", 1);
	nslab_proc *p;
	struct stat st;
	int status;

	CHECK(mkdtemp(dir), "mkdtemp");
	CHECK(nslab_lab_set_outdir(lab, dir, &err) == 0, "%s", err.msg);
	CHECK(nslab_lab_build(lab, &err) == 0, "build: %s", err.msg);
	CHECK(nslab_node_spawn(nslab_lab_node(lab, "d0"),
			       (char *[]){ "sh", "-c",
					   "echo \"hi $NSLAB_IP_SERVER\"; echo oops >&2; exit 4",
					   NULL },
			       NULL, &p, &err) == 0,
	      "%s", err.msg);
	CHECK(nslab_proc_wait(p, &status, &err) == 0 && WEXITSTATUS(status) == 4, "exit status");
	nslab_proc_free(p);
	snprintf(path, sizeof(path), "%s/nodes/d0/1-sh.stdout", dir);
	read_file(path, buf, sizeof(buf));
	CHECK(strncmp(buf, "hi 198.18.", 10) == 0, "stdout log holds '%s'", buf);
	snprintf(path, sizeof(path), "%s/nodes/d0/1-sh.stderr", dir);
	read_file(path, buf, sizeof(buf));
	CHECK(strcmp(buf, "oops\n") == 0, "stderr log holds '%s'", buf);
	/* they hold command lines: directories 0700, files 0600 */
	CHECK(stat(path, &st) == 0 && (st.st_mode & 07777) == 0600, "%s: mode 0600", path);
	snprintf(path, sizeof(path), "%s/nodes/d0", dir);
	CHECK(stat(path, &st) == 0 && (st.st_mode & 07777) == 0700, "%s: mode 0700", path);
	snprintf(path, sizeof(path), "%s/nodes", dir);
	CHECK(stat(path, &st) == 0 && (st.st_mode & 07777) == 0700, "%s: mode 0700", path);
	nslab_lab_free(lab);
	snprintf(path, sizeof(path), "%s/events.jsonl", dir);
	read_file(path, buf, sizeof(buf));
	CHECK(strstr(buf, "\"kind\":\"cmd_spawned\",\"lab\":\"t-logs\",\"node\":\"d0\""),
	      "cmd_spawned event in %s", path);
	CHECK(strstr(buf, "\"kind\":\"cmd_exited\"") && strstr(buf, "\"exit\":4"),
	      "cmd_exited with exit 4 in %s", path);
	CHECK(strstr(buf, "\"kind\":\"lab_destroyed\""), "lab_destroyed in %s", path);
	snprintf(path, sizeof(path), "rm -rf '%s'", dir);
	CHECK(system(path) == 0, "remove %s", dir);
}

/*
 * Regions through the builder API: the RTT between two regions is their
 * link's delays (ping's own count of milliseconds), a break makes them
 * unreachable (no third region), the path calls say so, a restore brings
 * the link back.
 */
static void test_regions(void)
{
	nslab_link_condition c = { 0 };
	nslab_error err = { 0 };
	nslab_lab *lab;
	char b4[64], path[128];

	CHECK(nslab_lab_new("t-regions", &lab, &err) == 0, "%s", err.msg);
	c.up.delay_ns = 20000000; /* eu -> us */
	c.down.delay_ns = 10000000;
	CHECK(nslab_lab_add_region(lab, "eu", &err) == 0, "%s", err.msg);
	CHECK(nslab_lab_add_region(lab, "us", &err) == 0, "%s", err.msg);
	CHECK(nslab_lab_link_regions(lab, "eu", "us", &c, &err) == 0, "%s", err.msg);
	CHECK(nslab_lab_add_router(lab, "ra", NULL, &err) == 0, "%s", err.msg);
	CHECK(nslab_lab_add_router(lab, "rb", NULL, &err) == 0, "%s", err.msg);
	CHECK(nslab_lab_set_router_region(lab, "ra", "eu", &err) == 0, "%s", err.msg);
	CHECK(nslab_lab_set_router_region(lab, "rb", "us", &err) == 0, "%s", err.msg);
	CHECK(nslab_lab_set_router_region(lab, "rz", "us", &err) == -ENOENT, "rz: %s", err.msg);
	CHECK(nslab_lab_add_device(lab, "a", "ra", &err) == 0, "%s", err.msg);
	CHECK(nslab_lab_add_device(lab, "b", "rb", &err) == 0, "%s", err.msg);
	CHECK(nslab_lab_build(lab, &err) == 0, "build: %s", err.msg);
	CHECK(nslab_node_addr(nslab_lab_node(lab, "b"), NULL, AF_INET, b4, sizeof(b4), &err) == 0,
	      "%s", err.msg);
	CHECK(nslab_lab_region_path(lab, "eu", "us", path, sizeof(path), &err) == 0, "%s", err.msg);
	CHECK(strcmp(path, "eu us") == 0, "path eu -> us: '%s'", path);
	/*
	 * every reply but the first (neighbour resolution) within 30-35 ms: a
	 * route through the IX would answer in well under 1 ms. The wire's own
	 * precision is test-wire's and e2e-link's: here, rootless (no CPU latency
	 * request), one reply in about 15 runs came 2.1 ms late (31.5 was the bound)
	 */
	CHECK(run(lab, "a",
		  (char *[]){ "sh", "-c",
			      "ping -n -c4 -i0.1 -W2 \"$0\" | awk -F'time=' '/time=/ { n++; "
			      "t = $2 + 0; if (n > 1 && (t < 30 || t > 35)) bad = 1 } "
			      "END { exit bad || n != 4 }'",
			      b4, NULL }) == 0,
	      "RTT a -> b of 30 ms (20 + 10 set)");
	CHECK(nslab_lab_region_link_set(lab, "us", "eu", false, &err) == 0, "break: %s", err.msg);
	CHECK(nslab_lab_region_path(lab, "eu", "us", path, sizeof(path), &err) == -EHOSTUNREACH,
	      "path after break: %s", err.msg);
	CHECK(run(lab, "a", (char *[]){ "ping", "-n", "-c1", "-W1", b4, NULL }) != 0,
	      "a -> b answered with the only region link broken");
	CHECK(nslab_lab_region_link_set(lab, "eu", "us", true, &err) == 0, "restore: %s", err.msg);
	CHECK(run(lab, "a", (char *[]){ "ping", "-n", "-c1", "-W2", b4, NULL }) == 0,
	      "a -> b after restore");
	CHECK(nslab_lab_region_link_set(lab, "eu", "mars", true, &err) == -ENOENT, "mars: %s",
	      err.msg);
	/* the CLI's words (`nslab region LAB eu us set delay 5ms up`), for the bindings */
	CHECK(nslab_lab_set_region_condition_words(
		      lab, "eu", "us", (const char *const[]){ "delay", "5ms", "up" }, 3, &err) == 0,
	      "words: %s", err.msg);
	CHECK(nslab_lab_set_region_condition_words(lab, "eu", "us",
						   (const char *const[]){ "delay", "fast" }, 2,
						   &err) == -EINVAL &&
		      strstr(err.msg, "fast"),
	      "a bad word: %s", err.msg);
	CHECK(nslab_lab_set_region_condition_words(lab, "eu", "mars",
						   (const char *const[]){ "delay", "5ms" }, 2,
						   &err) == -ENOENT,
	      "mars words: %s", err.msg);
	nslab_lab_free(lab);
}

/*
 * A removed device's link condition goes with its link: what a 3 s delay
 * holds is dropped with the link, not sent on at once (the removal used to
 * clear the condition first, flushing it), and the idle sink of its down
 * direction leaves the router. Under ASan (CI) this also checks that the
 * link thread lets go of every port before the namespaces close.
 */
static void test_remove_conditioned(void)
{
	static const char *const cond[] = { "delay", "3s" };
	char a4[64], recv_py[512], send_py[256], ready[] = "/tmp/nslab-rmcond-XXXXXX";
	nslab_error err = { 0 };
	nslab_lab *lab = two_routers("t-rmcond", 2);
	nslab_proc *rx;
	int status, fd = mkstemp(ready);

	CHECK(fd >= 0, "mkstemp: %s", strerror(errno));
	close(fd);
	unlink(ready);
	CHECK(nslab_lab_build(lab, &err) == 0, "build: %s", err.msg);
	CHECK(nslab_node_addr(nslab_lab_node(lab, "server"), NULL, AF_INET, a4, sizeof(a4), &err) ==
		      0,
	      "%s", err.msg);
	CHECK(run(lab, "d0", (char *[]){ "ping", "-c1", "-W5", a4, NULL }) == 0, "ping %s", a4);
	CHECK(nslab_lab_set_condition_words(lab, "d0", "eth0", cond, 2, &err) == 0, "%s", err.msg);
	CHECK(run(lab, "home", (char *[]){ "sh", "-c", "ip -o link | grep -q ' nslw'", NULL }) == 0,
	      "the down direction's sink is on home");
	/* exits 0 if a datagram comes within 5 s, 1 if none */
	snprintf(recv_py, sizeof(recv_py),
		 "import socket\n"
		 "s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n"
		 "s.bind(('%s', 9999))\n"
		 "open('%s', 'w').close()\n"
		 "s.settimeout(5)\n"
		 "try:\n    s.recv(64)\nexcept socket.timeout:\n    raise SystemExit(1)\n",
		 a4, ready);
	CHECK(nslab_node_spawn(nslab_lab_node(lab, "server"),
			       (char *[]){ "python3", "-c", recv_py, NULL }, NULL, &rx, &err) == 0,
	      "%s", err.msg);
	for (int i = 0; i < 100 && access(ready, F_OK) < 0; i++)
		usleep(50000); /* polling for the receiver's bind, bounded: 5 s */
	CHECK(access(ready, F_OK) == 0, "the receiver on server did not start");
	unlink(ready);
	snprintf(send_py, sizeof(send_py),
		 "import socket\n"
		 "s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n"
		 "for i in range(5):\n    s.sendto(b'held', ('%s', 9999))\n",
		 a4);
	CHECK(run(lab, "d0", (char *[]){ "python3", "-c", send_py, NULL }) == 0, "send from d0");
	CHECK(nslab_lab_remove_node(lab, "d0", 0, &err) == 0, "remove d0: %s", err.msg);
	CHECK(nslab_proc_wait(rx, &status, &err) == 0, "%s", err.msg);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 1,
	      "server got what d0's delayed link held (status %#x)", status);
	nslab_proc_free(rx);
	CHECK(run(lab, "home", (char *[]){ "sh", "-c", "! ip -o link | grep ' nslw'", NULL }) == 0,
	      "a sink of the removed link stays on home");
	CHECK(run(lab, "d1", (char *[]){ "ping", "-c1", "-W5", a4, NULL }) == 0,
	      "d1 still reaches server");
	nslab_lab_free(lab);
}

int main(void)
{
	int r = nslab_test_bootstrap();

	test_traffic();
	test_dns_and_env();
	test_failed_build_leaves_nothing();
	test_free_kills_processes();
	test_outdir_logs();
	test_regions();
	test_remove_conditioned();
	printf("ok: lab integration (%s)\n", r == 1 ? "rootless" : "root");
	return 0;
}

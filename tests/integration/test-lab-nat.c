/* SPDX-License-Identifier: MIT */
/*
 * Integration: a NAT router built and changed through the C API, with real
 * traffic: a device behind it is seen from outside as the router's address
 * (its own port kept), nothing outside reaches its private address, a full
 * cone lets another port of the server in until its mappings are flushed, and
 * bad requests are refused with the offending value. A router preset and
 * firewall changes through the C API: corporate lets TCP 443 out and not
 * 8080, until the firewall is set to none.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "nslab/nslab.h"
#include "nslab-test.h"

/* UDP from port 6800 to the server, which answers with the source it saw. */
static const char echo_py[] = "import socket,sys\n"
			      "s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM)\n"
			      "s.bind(('0.0.0.0',7001))\n"
			      "while True:\n"
			      "    d,a=s.recvfrom(512)\n"
			      "    s.sendto(('%s:%d'%a).encode(),a)\n";
static const char whoami_py[] = "import socket,sys\n"
				"s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM)\n"
				"s.bind(('0.0.0.0',6800))\n"
				"s.settimeout(0.2)\n"
				"for _ in range(50):\n"
				"    s.sendto(b'?',(sys.argv[1],7001))\n"
				"    try:\n"
				"        d,a=s.recvfrom(512)\n"
				"    except socket.timeout:\n"
				"        continue\n"
				"    sys.exit(0 if d.decode()==sys.argv[2] else 3)\n"
				"sys.exit(2)\n";

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

static void addr(nslab_lab *lab, const char *node, const char *iface, char *buf, size_t len)
{
	nslab_error err = { 0 };

	CHECK(nslab_node_addr(nslab_lab_node(lab, node), iface, AF_INET, buf, len, &err) == 0,
	      "%s: %s", node, err.msg);
}

static void test_nat(void)
{
	nslab_error err = { 0 };
	nslab_proc *echo = NULL;
	char srv[64], ext[64], d0[64], want[96];
	nslab_lab *lab;

	CHECK(nslab_lab_new("t-nat", &lab, &err) == 0, "%s", err.msg);
	CHECK(nslab_lab_add_router(lab, "isp", NULL, &err) == 0, "%s", err.msg);
	CHECK(nslab_lab_add_router(lab, "home", &(struct nslab_router_opts){ .upstream = "isp" },
				   &err) == 0,
	      "%s", err.msg);
	CHECK(nslab_lab_add_device(lab, "server", "isp", &err) == 0, "%s", err.msg);
	CHECK(nslab_lab_add_device(lab, "d0", "home", &err) == 0, "%s", err.msg);
	CHECK(nslab_lab_set_nat(lab, "home", "home", &err) == 0, "%s", err.msg);
	CHECK(nslab_lab_set_nat(lab, "home", "symmetric", &err) == -EINVAL &&
		      strstr(err.msg, "'symmetric'"),
	      "an unknown mode is refused, naming it: %s", err.msg);
	CHECK(nslab_lab_build(lab, &err) == 0, "build: %s", err.msg);
	addr(lab, "server", NULL, srv, sizeof(srv));
	addr(lab, "home", "wan", ext, sizeof(ext));
	addr(lab, "d0", NULL, d0, sizeof(d0));
	CHECK(strncmp(d0, "10.", 3) == 0, "d0 behind the NAT has a private address, not %s", d0);
	CHECK(nslab_node_spawn(nslab_lab_node(lab, "server"),
			       (char *[]){ "python3", "-c", (char *)echo_py, NULL }, NULL, &echo,
			       &err) == 0,
	      "%s", err.msg);
	snprintf(want, sizeof(want), "%s:6800", ext);
	CHECK(run(lab, "d0", (char *[]){ "python3", "-c", (char *)whoami_py, srv, want, NULL }) ==
		      0,
	      "the server sees d0 as %s", want);
	CHECK(run(lab, "d0", (char *[]){ "ping", "-c1", "-W5", srv, NULL }) == 0, "ping %s", srv);
	CHECK(run(lab, "server", (char *[]){ "ping", "-c1", "-W1", d0, NULL }) != 0,
	      "the server must not reach %s behind the NAT", d0);
	/* run-time changes */
	CHECK(nslab_lab_set_nat(lab, "home", "corporate", &err) == 0, "%s", err.msg);
	CHECK(nslab_lab_flush_nat(lab, "home", &err) == 0, "%s", err.msg);
	CHECK(nslab_lab_flush_nat(lab, "isp", &err) == -EINVAL && strstr(err.msg, "'isp'"),
	      "flush without a NAT is refused: %s", err.msg);
	CHECK(nslab_lab_set_nat(lab, "d0", "home", &err) == -EINVAL &&
		      strstr(err.msg, "'d0' is a device"),
	      "a device is refused: %s", err.msg);
	CHECK(nslab_lab_set_nat(lab, "nope", "home", &err) == -ENOENT, "no such node: %s", err.msg);
	/* still translated after the change (EDM keeps the first port it can) */
	CHECK(run(lab, "d0", (char *[]){ "python3", "-c", (char *)whoami_py, srv, want, NULL }) ==
		      0,
	      "after 'corporate' and a flush the server sees d0 as %s", want);
	nslab_proc_free(echo);
	nslab_lab_free(lab);
}

/* TCP to host:port answered (exit 0) or not (exit 1) within 2 s. */
static const char connect_py[] = "import socket,sys\n"
				 "s=socket.socket()\n"
				 "s.settimeout(2)\n"
				 "try:\n"
				 "    s.connect((sys.argv[1],int(sys.argv[2])))\n"
				 "    sys.exit(0)\n"
				 "except OSError:\n"
				 "    sys.exit(1)\n";
static const char listen_py[] = "import socket,select\n"
				"ls=[]\n"
				"for p in (443,8080):\n"
				"    s=socket.socket()\n"
				"    s.bind(('0.0.0.0',p))\n"
				"    s.listen(8)\n"
				"    ls.append(s)\n"
				"while True:\n"
				"    for s in select.select(ls,[],[])[0]:\n"
				"        s.accept()[0].close()\n";

static int tcp_to(nslab_lab *lab, const char *srv, const char *port)
{
	return run(
		lab, "d0",
		(char *[]){ "python3", "-c", (char *)connect_py, (char *)srv, (char *)port, NULL });
}

static void test_firewall(void)
{
	nslab_error err = { 0 };
	nslab_proc *srvp = NULL;
	char srv[64];
	nslab_lab *lab;
	int tries = 0;

	CHECK(nslab_lab_new("t-fw", &lab, &err) == 0, "%s", err.msg);
	CHECK(nslab_lab_add_router(lab, "isp", NULL, &err) == 0, "%s", err.msg);
	CHECK(nslab_lab_add_router(lab, "corp", &(struct nslab_router_opts){ .upstream = "isp" },
				   &err) == 0,
	      "%s", err.msg);
	CHECK(nslab_lab_add_device(lab, "server", "isp", &err) == 0, "%s", err.msg);
	CHECK(nslab_lab_add_device(lab, "d0", "corp", &err) == 0, "%s", err.msg);
	CHECK(nslab_lab_set_router_preset(lab, "corp", "office", &err) == -EINVAL &&
		      strstr(err.msg, "'office'"),
	      "an unknown preset is refused, naming it: %s", err.msg);
	CHECK(nslab_lab_set_router_preset(lab, "corp", "corporate", &err) == 0, "%s", err.msg);
	CHECK(nslab_lab_build(lab, &err) == 0, "build: %s", err.msg);
	addr(lab, "server", NULL, srv, sizeof(srv));
	CHECK(nslab_node_spawn(nslab_lab_node(lab, "server"),
			       (char *[]){ "python3", "-c", (char *)listen_py, NULL }, NULL, &srvp,
			       &err) == 0,
	      "%s", err.msg);
	/* the listener needs a moment to bind: the allowed port is the readiness probe */
	while (tcp_to(lab, srv, "443") != 0)
		CHECK(++tries < 100, "TCP 443 from d0 behind the corporate firewall got no answer");
	CHECK(tcp_to(lab, srv, "8080") != 0, "TCP 8080 must not leave the corporate firewall");
	CHECK(nslab_lab_set_firewall(lab, "corp", "none", &err) == 0, "%s", err.msg);
	CHECK(tcp_to(lab, srv, "8080") == 0, "TCP 8080 gets out once the firewall is none");
	CHECK(nslab_lab_set_firewall(lab, "corp", "release", &err) == -EINVAL &&
		      strstr(err.msg, "captive-portal"),
	      "release needs a captive portal: %s", err.msg);
	CHECK(nslab_lab_set_firewall(lab, "corp", "open", &err) == -EINVAL &&
		      strstr(err.msg, "'open'"),
	      "an unknown firewall is refused: %s", err.msg);
	nslab_proc_free(srvp);
	nslab_lab_free(lab);
}

int main(void)
{
	int r = nslab_test_bootstrap();

	test_nat();
	test_firewall();
	printf("ok: nat integration (%s)\n", r == 1 ? "rootless" : "root");
	return 0;
}

/* SPDX-License-Identifier: MIT */
/*
 * hello-lab: the C API in one page. Two routers, a device behind each, a ping
 * from one to the other over IPv4 and IPv6, then everything is gone.
 * Build: cc hello-lab.c $(pkg-config --cflags --libs nslab)   (or via Meson here)
 */
#include <stdio.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <nslab/nslab.h>

static int ping(nslab_lab *lab, const char *from, const char *to, int family)
{
	nslab_error err = { 0 };
	nslab_proc *proc;
	char addr[64];
	int status;
	char *argv[] = {
		"ping", family == AF_INET ? "-4" : "-6", "-c", "1", "-W", "2", addr, NULL
	};
	struct nslab_spawn_opts opts = { .inherit_stdio = true };

	if (nslab_node_addr(nslab_lab_node(lab, to), NULL, family, addr, sizeof(addr), &err) < 0 ||
	    nslab_node_spawn(nslab_lab_node(lab, from), argv, &opts, &proc, &err) < 0 ||
	    nslab_proc_wait(proc, &status, &err) < 0) {
		fprintf(stderr, "hello-lab: %s\n", err.msg);
		return -1;
	}
	nslab_proc_free(proc);
	printf("%s -> %s (%s): %s\n", from, to, addr, status == 0 ? "ok" : "FAILED");
	return status == 0 ? 0 : -1;
}

int main(void)
{
	nslab_error err = { 0 };
	nslab_lab *lab = NULL;
	int r;

	if (nslab_bootstrap(&err) < 0 || nslab_lab_new("hello", &lab, &err) < 0 ||
	    nslab_lab_add_router(lab, "isp", NULL, &err) < 0 ||
	    nslab_lab_add_router(lab, "home", &(struct nslab_router_opts){ .upstream = "isp" },
				 &err) < 0 ||
	    nslab_lab_add_device(lab, "server", "isp", &err) < 0 ||
	    nslab_lab_add_device(lab, "laptop", "home", &err) < 0 ||
	    nslab_lab_build(lab, &err) < 0) {
		fprintf(stderr, "hello-lab: %s\n", err.msg);
		nslab_lab_free(lab);
		return 1;
	}
	r = ping(lab, "laptop", "server", AF_INET) | ping(lab, "laptop", "server", AF_INET6);
	nslab_lab_free(lab);
	return r < 0 ? 1 : 0;
}

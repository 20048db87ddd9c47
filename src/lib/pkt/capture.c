/* SPDX-License-Identifier: MIT */
/* pkt/capture: a pcap file of one interface, written by a thread (see the DOC in capture.h). */
#include "pkt/capture.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/filter.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "ns/netns.h"
#include "pkt/pcap-dl.h"
#include "shared/macro.h"

#define SNAPLEN	  262144u     /* a GRO super-frame is 64 KiB; libpcap's default */
#define FRAME_BUF (SNAPLEN)   /* one frame at a time */
#define WRITE_BUF (64u << 10) /* records gathered before a write() */

struct pkt_capture {
	int sock, wake, out;
	pthread_t thread;
	bool running;
	uint64_t packets, bytes; /* __atomic: read while the thread writes */
	int write_err;		 /* the first failed write's errno */
	unsigned char *frame, *wbuf;
	size_t wlen;
};

struct pcap_hdr {
	uint32_t magic;
	uint16_t major, minor;
	int32_t zone;
	uint32_t sigfigs, snaplen, linktype;
};

struct pcap_rec {
	uint32_t sec, usec, incl, orig;
};

static int write_all(int fd, const void *buf, size_t len)
{
	const unsigned char *p = buf;

	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static void flush_records(struct pkt_capture *c)
{
	int r = c->wlen ? write_all(c->out, c->wbuf, c->wlen) : 0;

	if (r < 0 && !c->write_err)
		c->write_err = -r;
	c->wlen = 0;
}

static void add_record(struct pkt_capture *c, size_t incl, size_t orig)
{
	struct timespec ts;
	struct pcap_rec rec;

	clock_gettime(CLOCK_REALTIME, &ts);
	rec = (struct pcap_rec){ .sec = (uint32_t)ts.tv_sec,
				 .usec = (uint32_t)(ts.tv_nsec / 1000),
				 .incl = (uint32_t)incl,
				 .orig = (uint32_t)orig };
	if (c->wlen + sizeof(rec) + incl > WRITE_BUF)
		flush_records(c);
	if (sizeof(rec) + incl > WRITE_BUF) { /* a big frame goes straight out */
		int r = write_all(c->out, &rec, sizeof(rec));

		if (r >= 0)
			r = write_all(c->out, c->frame, incl);
		if (r < 0 && !c->write_err)
			c->write_err = -r;
	} else {
		memcpy(c->wbuf + c->wlen, &rec, sizeof(rec));
		memcpy(c->wbuf + c->wlen + sizeof(rec), c->frame, incl);
		c->wlen += sizeof(rec) + incl;
	}
	__atomic_add_fetch(&c->packets, 1, __ATOMIC_RELAXED);
	__atomic_add_fetch(&c->bytes, orig, __ATOMIC_RELAXED);
}

/* Every frame the socket holds now; false once it failed for good. */
static bool read_frames(struct pkt_capture *c)
{
	for (;;) {
		ssize_t n = recv(c->sock, c->frame, FRAME_BUF, MSG_DONTWAIT | MSG_TRUNC);

		if (n < 0)
			return errno == EAGAIN || errno == EINTR || errno == ENETDOWN;
		add_record(c, (size_t)n < FRAME_BUF ? (size_t)n : FRAME_BUF, (size_t)n);
	}
}

static void *capture_thread(void *arg)
{
	struct pkt_capture *c = arg;
	struct pollfd pfd[2] = { { .fd = c->sock, .events = POLLIN },
				 { .fd = c->wake, .events = POLLIN } };

	for (;;) {
		if (poll(pfd, 2, -1) < 0 && errno != EINTR)
			break;
		/* the socket first: a stop reads what came before it */
		if (!read_frames(c) || (pfd[1].revents & POLLIN))
			break;
		flush_records(c);
	}
	(void)read_frames(c);
	flush_records(c);
	return NULL;
}

struct open_q {
	const char *iface;
	const struct sock_fprog *prog;
	int fd;
};

/* In the namespace: the socket, its filter, then the bind (DOC step 2). */
static int open_fn(void *data, nslab_error *err)
{
	struct open_q *q = data;
	struct sockaddr_ll sll = { .sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_ALL) };
	_cleanup_close_ int fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return nslab_err_set(err, errno, "packet socket");
	sll.sll_ifindex = (int)if_nametoindex(q->iface);
	if (!sll.sll_ifindex)
		return nslab_err_set(err, ENODEV, "no interface '%s'", q->iface);
	if (q->prog && setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, q->prog, sizeof(*q->prog)) < 0)
		return nslab_err_set(err, errno, "attach the filter");
	/* a burst between two reads of a busy thread: room for it */
	(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &(int){ 4 << 20 }, sizeof(int));
	if (bind(fd, (struct sockaddr *)&sll, sizeof(sll)) < 0)
		return nslab_err_set(err, errno, "bind to '%s'", q->iface);
	q->fd = TAKE_FD(fd);
	return 0;
}

/* The filter compiled for Ethernet frames (free with pcap_freecode()). */
static int compile_filter(const char *filter, struct bpf_program *prog, nslab_error *err)
{
	pcap_t *p;
	int r = dl_pcap_load(err);

	if (r < 0)
		return r;
	p = dl_pcap.pcap_open_dead(DLT_EN10MB, (int)SNAPLEN);
	if (!p)
		return nslab_err_set(err, ENOMEM, "libpcap");
	r = dl_pcap.pcap_compile(p, prog, filter, 1, PCAP_NETMASK_UNKNOWN);
	if (r < 0)
		r = nslab_err_setx(err, EINVAL, "filter '%s': %s", filter, dl_pcap.pcap_geterr(p));
	dl_pcap.pcap_close(p);
	return r;
}

int pkt_capture_check_filter(const char *filter, nslab_error *err)
{
	struct bpf_program prog = { 0 };
	int r = compile_filter(filter, &prog, err);

	if (r >= 0)
		dl_pcap.pcap_freecode(&prog);
	return r;
}

static int capture_open(struct pkt_capture *c, int netns_fd, const char *iface, const char *filter,
			nslab_error *err)
{
	struct bpf_program prog = { 0 };
	struct sock_fprog fprog;
	struct open_q q = { .iface = iface, .fd = -1 };
	int r = 0;

	if (filter) {
		r = compile_filter(filter, &prog, err);
		if (r < 0)
			return r;
		/* struct bpf_insn is laid out as the kernel's struct sock_filter */
		fprog = (struct sock_fprog){ .len = (unsigned short)prog.bf_len,
					     .filter = (struct sock_filter *)prog.bf_insns };
		q.prog = &fprog;
	}
	r = netns_call(netns_fd, open_fn, &q, err);
	if (filter)
		dl_pcap.pcap_freecode(&prog);
	c->sock = q.fd;
	return r;
}

static int write_header(int fd, nslab_error *err)
{
	struct pcap_hdr h = { .magic = 0xa1b2c3d4,
			      .major = 2,
			      .minor = 4,
			      .snaplen = SNAPLEN,
			      .linktype = DLT_EN10MB };
	int r = write_all(fd, &h, sizeof(h));

	return r < 0 ? nslab_err_set(err, -r, "write the pcap header") : 0;
}

int pkt_capture_start(int netns_fd, const char *iface, const char *filter, int out_fd,
		      struct pkt_capture **ret, nslab_error *err)
{
	struct pkt_capture *c = calloc(1, sizeof(*c));
	int r;

	if (!c) {
		(void)close(out_fd);
		return nslab_err_set(err, ENOMEM, "capture");
	}
	c->sock = -1;
	c->out = out_fd;
	c->wake = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	c->frame = malloc(FRAME_BUF);
	c->wbuf = malloc(WRITE_BUF);
	if (c->wake < 0 || !c->frame || !c->wbuf)
		r = nslab_err_set(err, c->wake < 0 ? errno : ENOMEM, "capture");
	else
		r = write_header(out_fd, err);
	if (r >= 0)
		r = capture_open(c, netns_fd, iface, filter, err);
	if (r >= 0) {
		r = -pthread_create(&c->thread, NULL, capture_thread, c);
		if (r < 0)
			(void)nslab_err_set(err, -r, "start the capture thread");
	}
	if (r < 0) {
		pkt_capture_free(c);
		return r;
	}
	c->running = true;
	*ret = c;
	return 0;
}

int pkt_capture_stop(struct pkt_capture *c, nslab_error *err)
{
	if (c->running) {
		(void)eventfd_write(c->wake, 1);
		(void)pthread_join(c->thread, NULL);
		c->running = false;
	}
	if (c->write_err)
		return nslab_err_set(err, c->write_err, "write the pcap file");
	return 0;
}

void pkt_capture_counts(const struct pkt_capture *c, uint64_t *ret_packets, uint64_t *ret_bytes)
{
	*ret_packets = __atomic_load_n(&c->packets, __ATOMIC_RELAXED);
	*ret_bytes = __atomic_load_n(&c->bytes, __ATOMIC_RELAXED);
}

struct pkt_capture *pkt_capture_free(struct pkt_capture *c)
{
	if (!c)
		return NULL;
	(void)pkt_capture_stop(c, NULL);
	if (c->sock >= 0)
		(void)close(c->sock);
	if (c->wake >= 0)
		(void)close(c->wake);
	if (c->out >= 0)
		(void)close(c->out);
	free(c->frame);
	free(c->wbuf);
	free(c);
	return NULL;
}

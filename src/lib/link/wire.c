/* SPDX-License-Identifier: MIT */
/*
 * link/wire: the wire backend's datapath (see wire.h).
 *
 * DOC: a port's life
 * 1. a TAP "nslw<ifindex>" and an AF_PACKET socket bound to the interface are
 *    opened on a thread inside the interface's namespace (netns_call());
 * 2. the TAP gets no IPv6 link-local address (it must send nothing of its
 *    own) and goes up; the thread starts reading it;
 * 3. clsact and the redirect filter go on the interface: from here its
 *    frames are conditioned. A condition change touches only the engine's
 *    state (atomic: the filter stays);
 * 4. clearing a condition takes the clsact qdisc away first (frames flow
 *    directly again), then sends what was queued and closes the TAP, which
 *    vanishes with its fd; removing the link (a node removed: wire_port_drop())
 *    lets the port go and drops what it held, and the veth goes with its filter.
 * A SIGKILL closes the fds (TAPs go) and the lab's namespaces, which hold the
 * filters, go with the lab.
 *
 * Departures of a port are kept in two FIFOs, each in time order: frames
 * that took the delay (the engine never lets them overtake each other) and
 * frames picked for reordering (sent at once, or at the rate's clock). The
 * timerfd is armed for the earliest head over all ports.
 */
#include "link/wire.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <linux/if_ether.h>
#include <linux/if_link.h>
#include <linux/if_packet.h>
#include <linux/virtio_net.h>
#include <endian.h>

#include "core/libm-dl.h"
#include "nl/rtnl.h"
#include "nl/tc.h"
#include "ns/netns.h"

#ifndef VIRTIO_NET_HDR_GSO_UDP_L4
#define VIRTIO_NET_HDR_GSO_UDP_L4 5 /* Linux 4.18; Debian 12's headers predate it */
#endif
#define FRAME_MAX      (65536 + 256) /* a GSO super-frame, its vnet header, and slack */
#define QUEUE_MAX      65536	     /* frames held per port, whatever the condition */
#define READ_BATCH     64	     /* frames read from one TAP per wakeup, so that none starves */
#define WAKE_SAMPLES   64	     /* timer wakeups the early margin is judged over */
#define WAKE_FIRST_NS  60000	     /* the margin until that many were seen */
#define WAKE_MIN_NS    20000	     /* the margin's bounds: a fast host still spins a little... */
#define WAKE_MAX_NS    150000	     /* ... a slow one never spins more than this per deadline */
#define WAKE_PAD_NS    10000
#define WIRE_NICE      (-10)
#define DUTY_WINDOW_NS 100000000ull /* the link thread's CPU share is judged over this much time */
#define DUTY_DEMOTE    50	    /* % of a CPU above which it stops being real-time ... */
#define DUTY_PROMOTE   20	    /* ... and below which it is again */
#define SNDBUF	       (4 << 20)
#define QOS_HOLD_NS    100000000ull /* idle time after which the CPU latency request goes */
#define QOS_DEVICE     "/dev/cpu_dma_latency"
#define QOS_ENV	       "NSLAB_LINK_CPU_LATENCY"

struct wpkt {
	struct wpkt *next;
	uint64_t when;
	uint32_t len;
	unsigned char data[];
};

struct fifo {
	struct wpkt *head, *tail;
};

/* What epoll hands back: a port, or another fd the thread serves (wire_fd_add()). */
enum wire_src_kind { SRC_PORT, SRC_FD };

struct wire_port {
	enum wire_src_kind kind; /* first: epoll's pointer is read as this */
	struct wire_port *next;
	int rx_fd, tx_fd, ifindex, sink_a, sink_b;
	bool sink_made; /* this port's add created the sink: a failed add deletes it again */
	struct nlsock *nl;
	char what[64];
	struct wire_dir eng;
	struct fifo delayed, express;
	size_t queued;
	uint64_t tx_errors;
};

struct wire_fd {
	enum wire_src_kind kind; /* SRC_FD */
	int fd;
	wire_fd_fn fn;
	void *ctx;
};

struct wire {
	pthread_t thread;
	bool started;
	int ep, tfd, efd;
	pthread_mutex_t mu;
	pthread_cond_t round_done; /* rounds moved on (wire_quiesce()) */
	uint64_t rounds;	   /* rounds ended, under mu */
	struct wire_port *ports;
	bool stop;
	/* the thread's scheduling (wire_thread_sched()): real-time while it is light */
	bool rt_allowed, rt;
	uint64_t duty_start_ns, duty_start_cpu_ns;
	/* how early the timer goes off before a departure (wire_wake_learn()) */
	uint64_t armed_ns; /* the timer's expiry, 0: disarmed */
	bool polling;	   /* a departure is nearer than the margin: no sleep */
	uint64_t margin_ns;
	uint32_t late_ns[WAKE_SAMPLES]; /* the last timer wakeups' lateness */
	unsigned n_late;
	/* the CPU latency request (wire_qos_*()): held while frames pass */
	int qos_fd; /* QOS_DEVICE, -1: not allowed (rootless) or turned off */
	int32_t qos_us;
	bool qos_on;
	uint64_t active_ns; /* when a frame was last read or held */
	int idle_ms;	    /* epoll_wait()'s timeout while nothing is held */
	_Alignas(16) unsigned char buf[FRAME_MAX]; /* a vnet header first: aligned for it */
};

static uint64_t u64_clamp(uint64_t v, uint64_t lo, uint64_t hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void fifo_push(struct fifo *f, struct wpkt *p)
{
	p->next = NULL;
	if (f->tail)
		f->tail->next = p;
	else
		f->head = p;
	f->tail = p;
}

static struct wpkt *fifo_pop(struct fifo *f)
{
	struct wpkt *p = f->head;

	f->head = p->next;
	if (!f->head)
		f->tail = NULL;
	return p;
}

static void port_send(struct wire_port *p, const void *data, size_t len)
{
	if (send(p->tx_fd, data, len, MSG_DONTWAIT) < 0)
		p->tx_errors++;
}

/* The next frame due of a port (the earlier of its two heads), or NULL. */
static struct fifo *port_next(struct wire_port *p)
{
	struct wpkt *a = p->delayed.head, *b = p->express.head;

	if (!a && !b)
		return NULL;
	if (!b || (a && a->when <= b->when))
		return &p->delayed;
	return &p->express;
}

static void port_flush(struct wire_port *p, uint64_t now)
{
	struct fifo *f;

	while ((f = port_next(p)) && f->head->when <= now) {
		struct wpkt *k = fifo_pop(f);

		port_send(p, k->data, k->len);
		p->queued--;
		free(k);
	}
}

/*
 * ARP, ICMPv6 neighbour discovery (router/neighbour solicitation and
 * advertisement, redirect), and IPv6 with a hop-by-hop header first (MLD
 * reports): what the stacks send on their own, at times of their own.
 */
static bool is_control(const unsigned char *f, uint32_t len)
{
	uint16_t type = len >= 14 ? (uint16_t)(f[12] << 8 | f[13]) : 0;

	if (type == ETH_P_ARP)
		return true;
	/* IPv6 with ICMPv6 (58) right after the header, type 133..137 */
	if (type != ETH_P_IPV6 || len < 14 + 40 + 1)
		return false;
	return f[14 + 6] == 0 || (f[14 + 6] == 58 && f[14 + 40] >= 133 && f[14 + 40] <= 137);
}

/* What a frame read with its vnet header is on the wire. */
struct frame {
	unsigned char *buf; /* vnet header, then the Ethernet frame */
	uint32_t n;	    /* bytes in buf */
	struct virtio_net_hdr *vh;
	unsigned char *eth;
	uint32_t len;	   /* Ethernet frame bytes */
	uint32_t wire_len; /* bytes on the wire: a super-frame's segments each carry the headers */
	uint32_t seg_len;  /* its largest segment */
	bool gso;
};

/* Headers repeated in each segment: up to the end of the TCP or UDP header. */
static uint32_t gso_header_len(const struct frame *f)
{
	uint32_t start = le16toh(f->vh->csum_start);
	uint8_t type = f->vh->gso_type & (uint8_t)~VIRTIO_NET_HDR_GSO_ECN;

	if (type == VIRTIO_NET_HDR_GSO_UDP_L4 && start + 8 <= f->len)
		return start + 8;
	if (start + 13 <= f->len)
		return start + 4u * (f->eth[start + 12] >> 4);
	return le16toh(f->vh->hdr_len);
}

static void frame_measure(struct frame *f)
{
	uint32_t gso_size = le16toh(f->vh->gso_size), hdr, segs;

	f->eth = f->buf + sizeof(*f->vh);
	f->len = f->n - (uint32_t)sizeof(*f->vh);
	f->wire_len = f->seg_len = f->len;
	f->gso = f->vh->gso_type != VIRTIO_NET_HDR_GSO_NONE && gso_size;
	if (!f->gso)
		return;
	hdr = gso_header_len(f);
	if (hdr >= f->len)
		return;
	segs = (f->len - hdr + gso_size - 1) / gso_size;
	f->wire_len = f->len + (segs - 1) * hdr;
	f->seg_len = hdr + gso_size;
}

/* The checksum the stack left to the "hardware", done here before a bit is flipped. */
static void frame_finish_csum(struct frame *f)
{
	uint32_t start = le16toh(f->vh->csum_start), off = le16toh(f->vh->csum_offset), sum = 0;

	if (!(f->vh->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) || start + off + 2 > f->len)
		return;
	for (uint32_t i = start; i < f->len; i += 2)
		sum += (uint32_t)(f->eth[i] << 8) | (i + 1 < f->len ? f->eth[i + 1] : 0);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	sum = ~sum & 0xffff;
	f->eth[start + off] = (unsigned char)(sum >> 8);
	f->eth[start + off + 1] = (unsigned char)sum;
	f->vh->flags &= (uint8_t)~VIRTIO_NET_HDR_F_NEEDS_CSUM;
}

static void frame_corrupt(struct wire_port *p, struct frame *f, uint32_t bit)
{
	/* a super-frame's segments get their checksums later, over the damage: not done */
	if (f->gso) {
		p->eng.stats.corrupted--;
		return;
	}
	frame_finish_csum(f);
	f->eth[14 + bit / 8] ^= (unsigned char)(1u << (bit % 8));
}

/* One frame read from the sink: decide, then send now or queue. */
static void port_frame(struct wire_port *p, struct frame *f, uint64_t now)
{
	struct wire_verdict v;

	frame_measure(f);
	if (is_control(f->eth, f->len))
		wire_decide_control(&p->eng, now, f->wire_len, &v);
	else
		wire_decide(&p->eng, now, f->wire_len, f->seg_len, &v);
	if (v.fate != WIRE_SEND)
		return;
	if (v.corrupt)
		frame_corrupt(p, f, v.corrupt_bit);
	for (unsigned i = 0; i < v.copies; i++) {
		struct fifo *q = v.reordered ? &p->express : &p->delayed;
		struct wpkt *k;

		/* nothing waiting and due now: no copy, no timer */
		if (v.when_ns[i] <= now && !p->delayed.head && !p->express.head) {
			port_send(p, f->buf, f->n);
			continue;
		}
		if (p->queued >= QUEUE_MAX || !(k = malloc(sizeof(*k) + f->n))) {
			p->eng.stats.overflow++;
			continue;
		}
		k->when = v.when_ns[i];
		k->len = f->n;
		memcpy(k->data, f->buf, f->n);
		fifo_push(q, k);
		p->queued++;
	}
}

/*
 * A frame handed from one CPU to a thread sleeping on the other waits for
 * that CPU to wake: this VM's cpuidle driver (haltpoll) halts idle CPUs, and
 * a halted CPU woke the link thread 35-50 us late (the added latency's median
 * and the one-way delay's p99 tail, bench/link-wire.sh). A PM QoS CPU latency
 * request of 0 us makes the idle governor poll instead of halting, on every
 * CPU: wakeups within a few us, at the cost of idle CPUs spinning (on a VM,
 * host CPU time). So it is held only while frames pass through the wire (read
 * or held in a queue) and let go QOS_HOLD_NS after the last one: an idle lab
 * costs nothing. The request lives as long as the fd (the kernel drops it with
 * the process); opening the device needs root in the initial namespace, so a
 * rootless lab goes without. QOS_ENV=off turns it off, QOS_ENV=N asks for N us.
 */
static int qos_open(int32_t *us)
{
	const char *env = getenv(QOS_ENV);
	char *end;
	long v = 0;

	if (env && *env) {
		if (!strcmp(env, "off"))
			return -1;
		errno = 0;
		v = strtol(env, &end, 10);
		if (errno || *end || v < 0 || v > 1000000)
			v = 0; /* a bad value is the default: documented, never fatal in a thread */
	}
	*us = (int32_t)v;
	return open(QOS_DEVICE, O_WRONLY | O_CLOEXEC);
}

static void qos_write(struct wire *w, bool on)
{
	/* -1 is PM_QOS_DEFAULT_VALUE: the request stays, asking for nothing */
	int32_t v = on ? w->qos_us : -1;

	if (write(w->qos_fd, &v, sizeof(v)) == (ssize_t)sizeof(v))
		w->qos_on = on;
}

/* A frame was read or is held: take the request if it was not held. */
static void wire_qos_active(struct wire *w, uint64_t now)
{
	w->active_ns = now;
	if (w->qos_fd >= 0 && !w->qos_on)
		qos_write(w, true);
}

/* The epoll timeout: -1, or until the request is let go after the last frame. */
static int wire_qos_idle(struct wire *w, uint64_t now)
{
	uint64_t end = w->active_ns + QOS_HOLD_NS;

	if (!w->qos_on)
		return -1;
	if (now >= end) {
		qos_write(w, false);
		return w->qos_on ? 1000 : -1; /* a failed write: tried again in a second */
	}
	return (int)((end - now) / 1000000 + 1);
}

static uint64_t ts_ns(const struct timespec *ts)
{
	return (uint64_t)ts->tv_sec * 1000000000ull + (uint64_t)ts->tv_nsec;
}

/*
 * When the frame reached the sink, on the monotonic clock: the kernel stamps
 * it on the wall clock (SO_TIMESTAMPNS), so its age is taken there. A frame
 * is then timed from its arrival, not from when this thread got to it.
 */
static uint64_t arrival_ns(struct msghdr *mh, uint64_t now_mono, uint64_t now_real)
{
	for (struct cmsghdr *c = CMSG_FIRSTHDR(mh); c; c = CMSG_NXTHDR(mh, c)) {
		struct timespec ts;
		uint64_t t;

		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_TIMESTAMPNS)
			continue;
		memcpy(&ts, CMSG_DATA(c), sizeof(ts));
		t = ts_ns(&ts);
		/* a stamp from the future (the wall clock stepped back) or too old: not trusted */
		if (t > now_real || now_real - t > 100000000ull || now_real - t > now_mono)
			break;
		return now_mono - (now_real - t);
	}
	return now_mono;
}

static void port_read(struct wire *w, struct wire_port *p)
{
	for (int i = 0; i < READ_BATCH; i++) {
		_Alignas(struct cmsghdr) char ctl[CMSG_SPACE(sizeof(struct timespec)) + 64];
		struct iovec iov = { w->buf, sizeof(w->buf) };
		struct msghdr mh = { .msg_iov = &iov,
				     .msg_iovlen = 1,
				     .msg_control = ctl,
				     .msg_controllen = sizeof(ctl) };
		ssize_t n = recvmsg(p->rx_fd, &mh, MSG_DONTWAIT);
		struct frame f = { .buf = w->buf,
				   .n = (uint32_t)n,
				   .vh = (struct virtio_net_hdr *)(void *)w->buf };
		struct timespec real;

		uint64_t now;

		if (n < (ssize_t)(sizeof(*f.vh) + 14))
			return;
		clock_gettime(CLOCK_REALTIME, &real);
		now = now_ns();
		if (!i)
			wire_qos_active(w, now);
		port_frame(p, &f, arrival_ns(&mh, now, ts_ns(&real)));
	}
}

/* Send what is due everywhere, then arm the timer for the earliest head. */
static uint64_t wire_flush_all(struct wire *w, uint64_t now)
{
	uint64_t next = 0;

	for (struct wire_port *p = w->ports; p; p = p->next) {
		struct fifo *f;

		port_flush(p, now);
		f = port_next(p);
		if (f && (!next || f->head->when < next))
			next = f->head->when;
	}
	return next;
}

/*
 * How late a timer wakeup is here, learnt from the last WAKE_SAMPLES: the
 * timer is armed that much before a departure, and the rest is waited out
 * polling (wire_settle()). This VM's idle CPUs halt (no guest halt polling),
 * and a halted CPU woke a SCHED_FIFO thread 37-54 us late at the median and
 * 86-360 us at p99 depending on the other jobs, so a fixed 60 us margin left
 * frames late; a host that wakes in 5 us polls 20 us. The margin is the
 * second largest lateness of the window (one preemption of milliseconds is
 * not learnt), padded, within [WAKE_MIN_NS, WAKE_MAX_NS]. Polling costs that
 * much CPU per departure time and nothing while no frame is held: at most
 * 15% of a CPU at 1000 departure times a second, under DUTY_PROMOTE, so the
 * polling never costs the thread its real-time priority. Only a real-time
 * thread learns and uses it: an ordinary one (rootless, or demoted by a bulk
 * transfer) is late by the scheduler's choice, which polling longer would
 * not change, only take CPU from the others; it keeps WAKE_FIRST_NS.
 */
static void wire_wake_learn(struct wire *w, uint64_t now)
{
	uint32_t top = 0, second = 0;

	if (!w->rt || !w->armed_ns || now < w->armed_ns)
		return;
	w->late_ns[w->n_late++ % WAKE_SAMPLES] =
		(uint32_t)u64_clamp(now - w->armed_ns, 0, WAKE_MAX_NS);
	if (w->n_late < WAKE_SAMPLES || w->n_late % (WAKE_SAMPLES / 4))
		return;
	for (unsigned i = 0; i < WAKE_SAMPLES; i++) {
		uint32_t v = w->late_ns[i];

		if (v > top) {
			second = top;
			top = v;
		} else if (v > second) {
			second = v;
		}
	}
	w->margin_ns = u64_clamp(second + WAKE_PAD_NS, WAKE_MIN_NS, WAKE_MAX_NS);
}

static void wire_arm(struct wire *w, uint64_t at)
{
	struct itimerspec its = { 0 };

	if (at == w->armed_ns)
		return;
	its.it_value.tv_sec = (time_t)(at / 1000000000ull);
	its.it_value.tv_nsec = (long)(at % 1000000000ull);
	(void)timerfd_settime(w->tfd, TFD_TIMER_ABSTIME, &its, NULL);
	w->armed_ns = at;
}

/*
 * Send what is due everywhere; then, for the earliest head, either arm the
 * timer margin_ns early or, when it is nearer than that, poll: the thread
 * loop then does not sleep (epoll_wait() with no timeout, so frames that come
 * meanwhile are read and the lock is let go between rounds) until it is sent.
 */
static void wire_settle(struct wire *w)
{
	uint64_t now = now_ns(), next = wire_flush_all(w, now);
	uint64_t margin = w->rt ? w->margin_ns : WAKE_FIRST_NS;

	w->polling = next && next <= now + margin;
	wire_arm(w, next && !w->polling ? next - margin : 0);
	if (next)
		wire_qos_active(w, now);
	w->idle_ms = next ? -1 : wire_qos_idle(w, now);
}

static uint64_t thread_cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static bool set_realtime(bool on)
{
	struct sched_param sp = { .sched_priority = on ? 1 : 0 };

	return sched_setscheduler(gettid(), (on ? SCHED_FIFO : SCHED_OTHER) | SCHED_RESET_ON_FORK,
				  &sp) == 0;
}

/*
 * Its frames are late by however long this thread waits for a CPU. Where
 * allowed (root), it is a real-time thread of the lowest priority (not passed
 * on to a child), so it runs as soon as it wakes even beside busy ordinary
 * tasks (with CPU hogs the ping p99 over a 20 ms RTT went from 25-35 ms to
 * 20.5 ms here, bench/link-wire.sh). But a bulk transfer keeps it busy, and a
 * busy real-time thread starves the kernel's own per-CPU workers on its CPU
 * (rtnetlink calls of the supervisor waited seconds behind it): over a window
 * of DUTY_WINDOW_NS, above DUTY_DEMOTE % of a CPU it becomes an ordinary
 * thread at nice WIRE_NICE, below DUTY_PROMOTE % real-time again. Elsewhere it
 * is at nice WIRE_NICE where that is allowed.
 */
static void wire_sched_init(struct wire *w)
{
	(void)setpriority(PRIO_PROCESS, (id_t)gettid(), WIRE_NICE);
	w->rt_allowed = w->rt = set_realtime(true);
	w->duty_start_ns = now_ns();
	w->duty_start_cpu_ns = thread_cpu_ns();
}

static void wire_sched_check(struct wire *w)
{
	uint64_t now = now_ns(), cpu, pct;

	if (!w->rt_allowed || now - w->duty_start_ns < DUTY_WINDOW_NS)
		return;
	cpu = thread_cpu_ns();
	pct = (cpu - w->duty_start_cpu_ns) * 100 / (now - w->duty_start_ns);
	if (w->rt && pct > DUTY_DEMOTE && set_realtime(false))
		w->rt = false;
	else if (!w->rt && pct < DUTY_PROMOTE && set_realtime(true))
		w->rt = true;
	w->duty_start_ns = now;
	w->duty_start_cpu_ns = cpu;
}

/* One round: wait (or poll) for events, read the sinks, send what is due. */
static bool wire_round(struct wire *w)
{
	struct epoll_event evs[32];
	uint64_t junk;
	int n = epoll_wait(w->ep, evs, 32, w->polling ? 0 : w->idle_ms);

	pthread_mutex_lock(&w->mu);
	for (int i = 0; i < n; i++) {
		void *ptr = evs[i].data.ptr;

		if (ptr == &w->tfd) {
			if (read(w->tfd, &junk, sizeof(junk)) > 0)
				wire_wake_learn(w, now_ns());
		} else if (ptr == &w->efd) {
			(void)!read(w->efd, &junk, sizeof(junk));
		} else if (*(enum wire_src_kind *)ptr == SRC_FD) {
			struct wire_fd *f = ptr;

			f->fn(f->ctx, f->fd);
		} else {
			port_read(w, ptr);
		}
	}
	w->rounds++;
	pthread_cond_broadcast(&w->round_done);
	if (w->stop) {
		pthread_mutex_unlock(&w->mu);
		return false;
	}
	wire_settle(w);
	pthread_mutex_unlock(&w->mu);
	wire_sched_check(w);
	return true;
}

static void *wire_thread(void *arg)
{
	struct wire *w = arg;

	/* timers fire on time, not within the default 50 us slack */
	(void)prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);
	(void)prctl(PR_SET_NAME, "nslab-wire", 0, 0, 0); /* for top -H and ps -L */
	wire_sched_init(w);
	while (wire_round(w))
		;
	return NULL;
}

static void wire_kick(struct wire *w)
{
	uint64_t one = 1;

	(void)!write(w->efd, &one, sizeof(one));
}

static int epoll_add(int ep, int fd, void *ptr)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = ptr };

	return epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
}

int wire_new(struct wire **ret, nslab_error *err)
{
	struct wire *w = calloc(1, sizeof(*w));
	int r;

	if (!w)
		return nslab_err_set(err, ENOMEM, "link thread");
	pthread_mutex_init(&w->mu, NULL);
	pthread_cond_init(&w->round_done, NULL);
	w->margin_ns = WAKE_FIRST_NS;
	w->idle_ms = -1;
	w->qos_fd = qos_open(&w->qos_us);
	w->ep = epoll_create1(EPOLL_CLOEXEC);
	w->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	w->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (w->ep < 0 || w->tfd < 0 || w->efd < 0 || epoll_add(w->ep, w->tfd, &w->tfd) < 0 ||
	    epoll_add(w->ep, w->efd, &w->efd) < 0) {
		r = nslab_err_set(err, errno, "link thread: epoll, timerfd or eventfd");
		wire_free(w, false);
		return r;
	}
	r = pthread_create(&w->thread, NULL, wire_thread, w);
	if (r) {
		wire_free(w, false);
		return nslab_err_set(err, r, "start the link thread");
	}
	w->started = true;
	*ret = w;
	return 0;
}

/* With deliver, what is in flight is sent now; without, it is dropped (its link is going). */
static void port_close(struct wire_port *p, bool deliver)
{
	struct fifo *f;

	while ((f = port_next(p))) {
		struct wpkt *k = fifo_pop(f);

		/* in flight when the condition went: delivered now rather than lost */
		if (deliver)
			port_send(p, k->data, k->len);
		free(k);
	}
	if (p->rx_fd >= 0)
		close(p->rx_fd);
	if (p->tx_fd >= 0)
		close(p->tx_fd);
	if (p->sink_made && p->sink_a > 0)
		(void)rtnl_link_del(p->nl, p->sink_a, NULL);
	wire_dir_clear(&p->eng);
	free(p);
}

/*
 * Under mu, after a source left the epoll set: wait for the thread to end
 * the round it is in. epoll_wait() runs without the lock, so a round may
 * hold an event of the source taken before it left, to be handled once the
 * lock is free; the next round's wait cannot return it. Only then may the
 * caller free the source and what its callback uses. Not on the thread itself
 * (a callback removing its own source), nor once the thread stops.
 */
static void wire_quiesce(struct wire *w)
{
	uint64_t target = w->rounds + 1;

	if (!w->started || pthread_equal(pthread_self(), w->thread))
		return;
	wire_kick(w); /* out of an idle wait at once */
	while (w->rounds < target && !w->stop)
		pthread_cond_wait(&w->round_done, &w->mu);
}

static void wire_stop(struct wire *w)
{
	if (!w->started)
		return;
	pthread_mutex_lock(&w->mu);
	w->stop = true;
	pthread_mutex_unlock(&w->mu);
	wire_kick(w);
	pthread_join(w->thread, NULL);
	w->started = false;
}

struct wire *wire_free(struct wire *w, bool undo)
{
	if (!w)
		return NULL;
	while (undo && w->ports)
		(void)wire_port_del(w, w->ports, NULL);
	wire_stop(w);
	while (w->ports) {
		struct wire_port *p = w->ports;

		w->ports = p->next;
		p->sink_made = false; /* the sink goes with its namespace */
		port_close(p, true);
	}
	if (w->ep >= 0)
		close(w->ep);
	if (w->tfd >= 0)
		close(w->tfd);
	if (w->efd >= 0)
		close(w->efd);
	if (w->qos_fd >= 0)
		close(w->qos_fd); /* and with it the request */
	pthread_cond_destroy(&w->round_done);
	pthread_mutex_destroy(&w->mu);
	free(w);
	return NULL;
}

/* Step 1: the sink pair, no addresses of its own, up. */
static int port_sink(struct wire_port *p, nslab_error *err)
{
	_Alignas(struct nlmsghdr) char buf[NL_REQ_BUFSIZ];
	char na[IFNAMSIZ], nb[IFNAMSIZ];
	struct rtnl_veth_end a = { .name = na, .netns_fd = -1 }, b = { .name = nb, .netns_fd = -1 };
	struct rtnl_link_change chg = RTNL_LINK_CHANGE_KEEP;
	nslab_error talk_err = { 0 };
	int r;

	snprintf(na, sizeof(na), "nslw%da", p->ifindex);
	snprintf(nb, sizeof(nb), "nslw%db", p->ifindex);
	r = rtnl_build_veth(buf, sizeof(buf), &a, &b, err);
	if (r >= 0)
		r = nlsock_talk(p->nl, (struct nlmsghdr *)buf, NULL, NULL, &talk_err);
	/* a sink left by an earlier condition on this interface is used again */
	if (r < 0 && r != -EEXIST) {
		if (err)
			*err = talk_err;
		return nslab_err_prefix(err, r, "create the sink veth '%s'", na);
	}
	p->sink_made = r >= 0;
	r = rtnl_link_index(p->nl, na, &p->sink_a, err);
	if (r >= 0)
		r = rtnl_link_index(p->nl, nb, &p->sink_b, err);
	chg.set_addr_gen_mode = true;
	chg.addr_gen_mode = IN6_ADDR_GEN_MODE_NONE;
	chg.up = 1;
	if (r >= 0)
		r = rtnl_link_set(p->nl, p->sink_b, &chg, err);
	if (r >= 0)
		r = rtnl_link_set(p->nl, p->sink_a, &chg, err);
	return r;
}

static int packet_socket(int ifindex, uint16_t proto, int *ret, nslab_error *err)
{
	struct sockaddr_ll sll = { .sll_family = AF_PACKET,
				   .sll_ifindex = ifindex,
				   .sll_protocol = htons(proto) };
	int one = 1;
	/* protocol 0 at creation: nothing is received before the bind picks the interface */
	int fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);

	if (fd < 0)
		return nslab_err_set(err, errno, "AF_PACKET socket");
	*ret = fd;
	if (setsockopt(fd, SOL_PACKET, PACKET_VNET_HDR, &one, sizeof(one)) < 0)
		return nslab_err_set(err, errno, "PACKET_VNET_HDR");
	if (bind(fd, (struct sockaddr *)&sll, sizeof(sll)) < 0)
		return nslab_err_set(err, errno, "bind AF_PACKET socket to ifindex %d", ifindex);
	return 0;
}

/* Step 2, on a thread inside the interface's namespace. */
static int port_open_inside(void *data, nslab_error *err)
{
	struct wire_port *p = data;
	int one = 1, size = SNDBUF;
	int r = packet_socket(p->sink_b, ETH_P_ALL, &p->rx_fd, err);

	if (r >= 0)
		r = packet_socket(p->ifindex, 0, &p->tx_fd, err);
	if (r < 0)
		return r;
	if (setsockopt(p->tx_fd, SOL_PACKET, PACKET_QDISC_BYPASS, &one, sizeof(one)) < 0)
		return nslab_err_set(err, errno, "PACKET_QDISC_BYPASS");
	/* best effort: without stamps, frames are timed from when they are read */
	(void)setsockopt(p->rx_fd, SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof(one));
	(void)setsockopt(p->tx_fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof(size));
	/* beyond rmem_max where allowed (root): a burst must not overflow the socket */
	if (setsockopt(p->rx_fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size)) < 0)
		(void)setsockopt(p->rx_fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
	return 0;
}

static void port_unlink(struct wire *w, struct wire_port *p)
{
	for (struct wire_port **pp = &w->ports; *pp; pp = &(*pp)->next)
		if (*pp == p) {
			*pp = p->next;
			break;
		}
	if (p->rx_fd >= 0)
		(void)epoll_ctl(w->ep, EPOLL_CTL_DEL, p->rx_fd, NULL);
}

static int port_prepare(const struct wire_port_spec *s, const nslab_link_dir *cfg, uint64_t seed,
			struct wire_port *p, nslab_error *err)
{
	struct wire_trace trace = { 0 };
	int r;

	p->rx_fd = p->tx_fd = -1;
	p->ifindex = s->ifindex;
	p->nl = s->nl;
	snprintf(p->what, sizeof(p->what), "%s", s->what);
	if (cfg->jitter_ns && (r = dl_m_load(err)) < 0)
		return r;
	if (cfg->trace[0]) {
		r = wire_trace_load(cfg->trace, &trace, err);
		if (r < 0)
			return r;
	}
	wire_dir_init(&p->eng, cfg, seed, cfg->trace[0] ? &trace : NULL, now_ns());
	r = port_sink(p, err);
	if (r >= 0)
		r = netns_call(s->netns_fd, port_open_inside, p, err);
	return r;
}

int wire_port_add(struct wire *w, const struct wire_port_spec *s, const nslab_link_dir *cfg,
		  uint64_t seed, struct wire_port **ret, nslab_error *err)
{
	struct wire_port *p = calloc(1, sizeof(*p));
	int r;

	if (!p)
		return nslab_err_set(err, ENOMEM, "%s", s->what);
	r = port_prepare(s, cfg, seed, p, err);
	if (r < 0)
		goto undo_port;
	pthread_mutex_lock(&w->mu);
	r = epoll_add(w->ep, p->rx_fd, p);
	if (r >= 0) {
		p->next = w->ports;
		w->ports = p;
	}
	pthread_mutex_unlock(&w->mu);
	if (r < 0) {
		r = nslab_err_set(err, errno, "epoll");
		goto undo_port;
	}
	r = tc_clsact(s->nl, s->ifindex, true, err);
	if (r >= 0)
		r = tc_redirect(s->nl, s->ifindex, p->sink_a, err);
	if (r < 0)
		goto undo_thread;
	/*
	 * From here the sink stays when the condition goes (idle, reused by the
	 * next one, gone with the namespace): deleting a veth waits for RCU
	 * grace periods under the RTNL lock, seconds when other namespaces churn.
	 */
	p->sink_made = false;
	*ret = p;
	return 0;
undo_thread:
	(void)tc_clsact(s->nl, s->ifindex, false, NULL);
	pthread_mutex_lock(&w->mu);
	port_unlink(w, p);
	pthread_mutex_unlock(&w->mu);
undo_port:
	port_close(p, true);
	return nslab_err_prefix(err, r, "%s", s->what);
}

int wire_port_set(struct wire *w, struct wire_port *p, const nslab_link_dir *cfg, uint64_t seed,
		  nslab_error *err)
{
	struct wire_trace trace = { 0 };
	uint64_t last_out, next_free;
	struct wire_stats stats;
	int r;

	if (cfg->jitter_ns && (r = dl_m_load(err)) < 0)
		return nslab_err_prefix(err, r, "%s", p->what);
	if (cfg->trace[0]) {
		r = wire_trace_load(cfg->trace, &trace, err);
		if (r < 0)
			return nslab_err_prefix(err, r, "%s", p->what);
	}
	pthread_mutex_lock(&w->mu);
	/* queued frames keep their times, and new ones may not overtake them */
	last_out = p->eng.last_out_ns;
	next_free = p->eng.next_free_ns;
	stats = p->eng.stats;
	wire_dir_clear(&p->eng);
	wire_dir_init(&p->eng, cfg, seed, cfg->trace[0] ? &trace : NULL, now_ns());
	p->eng.last_out_ns = last_out;
	p->eng.next_free_ns = next_free;
	p->eng.stats = stats;
	pthread_mutex_unlock(&w->mu);
	wire_kick(w);
	return 0;
}

int wire_port_del(struct wire *w, struct wire_port *p, nslab_error *err)
{
	int r = tc_clsact(p->nl, p->ifindex, false, err);

	pthread_mutex_lock(&w->mu);
	port_unlink(w, p);
	wire_quiesce(w);
	pthread_mutex_unlock(&w->mu);
	port_close(p, true);
	return r < 0 ? r : 0;
}

void wire_port_drop(struct wire *w, struct wire_port *p, bool del_sink)
{
	pthread_mutex_lock(&w->mu);
	port_unlink(w, p);
	wire_quiesce(w); /* no round holds p any more: it may go */
	pthread_mutex_unlock(&w->mu);
	p->sink_made = del_sink;
	port_close(p, false);
}

void wire_port_stats(struct wire *w, struct wire_port *p, struct wire_stats *ret_stats,
		     nslab_link_dir *ret_cfg)
{
	pthread_mutex_lock(&w->mu);
	if (ret_stats)
		*ret_stats = p->eng.stats;
	if (ret_cfg)
		*ret_cfg = p->eng.cfg;
	pthread_mutex_unlock(&w->mu);
}

int wire_fd_add(struct wire *w, int fd, wire_fd_fn fn, void *ctx, struct wire_fd **ret,
		nslab_error *err)
{
	struct wire_fd *f = calloc(1, sizeof(*f));
	int r;

	if (!f)
		return nslab_err_set(err, ENOMEM, "link thread: fd %d", fd);
	*f = (struct wire_fd){ SRC_FD, fd, fn, ctx };
	pthread_mutex_lock(&w->mu);
	r = epoll_add(w->ep, fd, f);
	pthread_mutex_unlock(&w->mu);
	if (r < 0) {
		r = nslab_err_set(err, errno, "link thread: epoll fd %d", fd);
		free(f);
		return r;
	}
	*ret = f;
	return 0;
}

struct wire_fd *wire_fd_del(struct wire *w, struct wire_fd *f)
{
	if (!f)
		return NULL;
	pthread_mutex_lock(&w->mu);
	(void)epoll_ctl(w->ep, EPOLL_CTL_DEL, f->fd, NULL);
	wire_quiesce(w); /* no event of f left in a round: f and its ctx may go */
	pthread_mutex_unlock(&w->mu);
	free(f);
	return NULL;
}

void wire_locked(struct wire *w, void (*fn)(void *ctx), void *ctx)
{
	pthread_mutex_lock(&w->mu);
	fn(ctx);
	pthread_mutex_unlock(&w->mu);
}

/* SPDX-License-Identifier: MIT */
/*
 * jail/caps: capabilities, securebits and no_new_privs of the command.
 *
 * DOC: the order in the child
 * 1. jail_caps_prepare_setuid(), then the core's setresgid()/setresuid():
 *    SECBIT_NO_SETUID_FIXUP makes the uid change leave the capability sets
 *    alone, so that a command running as a non-zero uid can still keep some.
 * 2. jail_caps_enter():
 *    a. effective = permitted, so that CAP_SETPCAP is usable whatever the uid
 *       change did (PR_SET_KEEPCAPS keeps only the permitted set);
 *    b. every capability not kept leaves the bounding set, up to the kernel's
 *       last one (PR_CAPBSET_DROP says EINVAL past it);
 *    c. securebits set and locked: NOROOT (uid 0 gains nothing at exec),
 *       NO_SETUID_FIXUP, KEEP_CAPS off (unlocked), NO_CAP_AMBIENT_RAISE unless ambient
 *       capabilities were asked for; all of this needs CAP_SETPCAP, so it
 *       comes before the sets are cut down;
 *    d. ambient cleared, effective = permitted = inheritable = keep, then
 *       ambient raised for keep if asked (ambient is the only way a kept
 *       capability survives the exec of an ordinary program once NOROOT is set);
 *    e. no_new_privs.
 *
 * A process that holds no CAP_SETPCAP at all (a sandbox without a user
 * namespace of its own, run by an unprivileged user) can neither shrink its
 * bounding set nor set securebits; it holds no capability to lose either, and
 * no_new_privs forbids gaining one at exec, so b and c are skipped for it.
 *
 * Only raw system calls here: this runs between clone and exec.
 */
#include "jail/jail.h"

#include <ctype.h>
#include <errno.h>
#include <string.h>
#include <strings.h>
#include "jail/libcap-dl.h"
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/capability.h>
#include <linux/securebits.h>

int jail_cap_from_name(const char *name)
{
	char buf[48] = "cap_";
	cap_value_t v;
	size_t i;

	if (!name)
		return -EINVAL;
	if (dl_cap_load(NULL) < 0)
		return -ENOENT; /* no libcap: no name is known */
	if (strncasecmp(name, "cap_", 4) == 0)
		name += 4;
	for (i = 0; name[i] && 4 + i + 1 < sizeof(buf); i++) {
		if (!isalpha((unsigned char)name[i]) && name[i] != '_')
			return -EINVAL; /* also keeps libcap's numeric form out */
		buf[4 + i] = (char)tolower((unsigned char)name[i]);
	}
	buf[4 + i] = '\0';
	if (i == 0 || name[i] || dl_cap.cap_from_name(buf, &v) < 0 || v < 0 || v > 63)
		return -EINVAL;
	return v;
}

/* The three sets of the calling thread, as 64-bit masks. */
struct capsets {
	uint64_t eff, prm, inh;
};

static int caps_get(struct capsets *ret)
{
	struct __user_cap_header_struct hdr = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[2];

	if (syscall(SYS_capget, &hdr, d) < 0)
		return -errno;
	ret->eff = (uint64_t)d[1].effective << 32 | d[0].effective;
	ret->prm = (uint64_t)d[1].permitted << 32 | d[0].permitted;
	ret->inh = (uint64_t)d[1].inheritable << 32 | d[0].inheritable;
	return 0;
}

static int caps_set(const struct capsets *s)
{
	struct __user_cap_header_struct hdr = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[2] = {
		{ (uint32_t)s->eff, (uint32_t)s->prm, (uint32_t)s->inh },
		{ (uint32_t)(s->eff >> 32), (uint32_t)(s->prm >> 32), (uint32_t)(s->inh >> 32) },
	};

	return syscall(SYS_capset, &hdr, d) < 0 ? -errno : 0;
}

static bool has(uint64_t set, int cap)
{
	return set & (UINT64_C(1) << cap);
}

int jail_caps_prepare_setuid(nslab_error *err)
{
	int bits = prctl(PR_GET_SECUREBITS, 0, 0, 0, 0);

	if (bits < 0)
		return nslab_err_set(err, errno, "capabilities: read securebits");
	if (prctl(PR_SET_SECUREBITS, (unsigned long)bits | SECBIT_NO_SETUID_FIXUP, 0, 0, 0) < 0)
		return nslab_err_set(err, errno, "capabilities: keep them across the uid change");
	return 0;
}

int jail_caps_last(void)
{
	int cap = CAP_LAST_CAP;

	/* the kernel may know more (or fewer) than these headers: PR_CAPBSET_READ says */
	while (cap < 63 && prctl(PR_CAPBSET_READ, (unsigned long)cap + 1, 0, 0, 0) >= 0)
		cap++;
	while (cap > 0 && prctl(PR_CAPBSET_READ, (unsigned long)cap, 0, 0, 0) < 0)
		cap--;
	return cap;
}

/*
 * Every capability but keep out of the bounding set, up to the kernel's last:
 * last when known (no call fails on the way: errno may be shared with init,
 * init-early.c's DOC), else until the kernel says EINVAL.
 */
static int drop_bounding(uint64_t keep, int last, nslab_error *err)
{
	for (int cap = 0; cap < 64 && (last < 0 || cap <= last); cap++) {
		if (has(keep, cap))
			continue;
		if (prctl(PR_CAPBSET_DROP, (unsigned long)cap, 0, 0, 0) == 0)
			continue;
		if (last < 0 && errno == EINVAL)
			return 0; /* past the kernel's last capability */
		return nslab_err_set(err, errno, "capabilities: drop %d from the bounding set",
				     cap);
	}
	return 0;
}

static int lock_securebits(bool ambient, nslab_error *err)
{
	/*
	 * KEEP_CAPS stays off but unlocked: NO_SETUID_FIXUP, locked, already
	 * keeps the sets across a uid change, and programs with file
	 * capabilities (iputils ping) set KEEP_CAPS themselves and exit when
	 * prctl() refuses it.
	 */
	unsigned long bits = SECBIT_NOROOT | SECBIT_NOROOT_LOCKED | SECBIT_NO_SETUID_FIXUP |
			     SECBIT_NO_SETUID_FIXUP_LOCKED;

	if (!ambient)
		bits |= SECBIT_NO_CAP_AMBIENT_RAISE | SECBIT_NO_CAP_AMBIENT_RAISE_LOCKED;
	if (prctl(PR_SET_SECUREBITS, bits, 0, 0, 0) < 0)
		return nslab_err_set(err, errno, "capabilities: lock securebits");
	return 0;
}

static int raise_ambient(uint64_t keep, nslab_error *err)
{
	for (int cap = 0; cap < 64; cap++)
		if (has(keep, cap) &&
		    prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, (unsigned long)cap, 0, 0) < 0)
			return nslab_err_set(err, errno,
					     "capabilities: raise %d in the ambient set", cap);
	return 0;
}

/* Steps a to c of the DOC block: what needs CAP_SETPCAP. */
static int restrict_privileged(struct capsets *cur, uint64_t keep, bool ambient, int last,
			       nslab_error *err)
{
	int r;

	if (keep & ~cur->prm)
		return nslab_err_setx(err, EPERM,
				      "capabilities: cannot keep 0x%llx, not held (the uid change "
				      "dropped them? see jail_caps_prepare_setuid())",
				      (unsigned long long)(keep & ~cur->prm));
	cur->eff = cur->prm;
	r = caps_set(cur);
	if (r < 0)
		return nslab_err_set(err, -r, "capabilities: make the permitted set effective");
	if (!has(cur->eff, CAP_SETPCAP))
		return 0; /* nothing to lose, and no_new_privs follows (see the DOC block) */
	r = drop_bounding(keep, last, err);
	if (r >= 0)
		r = lock_securebits(ambient, err);
	return r;
}

int jail_caps_enter(uint64_t keep, bool ambient, int last, nslab_error *err)
{
	struct capsets cur = { 0 };
	int r = caps_get(&cur);

	if (r < 0)
		return nslab_err_set(err, -r, "capabilities: read them");
	r = restrict_privileged(&cur, keep, ambient, last, err);
	if (r < 0)
		return r;
	/* EINVAL: a kernel before 4.3 has no ambient set, so nothing to clear */
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
		return nslab_err_set(err, errno, "capabilities: clear the ambient set");
	r = caps_set(&(struct capsets){ keep, keep, keep });
	if (r < 0)
		return nslab_err_set(err, -r, "capabilities: keep 0x%llx",
				     (unsigned long long)keep);
	if (ambient && (r = raise_ambient(keep, err)) < 0)
		return r;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return nslab_err_set(err, errno, "capabilities: no_new_privs");
	return 0;
}

/* SPDX-License-Identifier: MIT */
/*
 * Fuzz the control protocol's decoder: the input is one datagram as the
 * supervisor receives it from any local process. ctl_msg_parse() must accept
 * it or fail with -EPROTO/-EPROTONOSUPPORT, and every attribute it indexes must
 * be readable as its kind (strings NUL-terminated inside the message).
 */
#include "fuzz.h"

#include <stdlib.h>
#include <string.h>
#include <libmnl/libmnl.h>

#include "lab/ctlproto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ctl_msg m;
	nslab_error err;
	void *buf;

	if (size > CTL_MSG_MAX)
		return 0;	       /* recvmsg() never hands more: MSG_TRUNC */
	buf = malloc(size ? size : 1); /* an exact copy: reads past it are caught */
	if (!buf)
		return 0;
	memcpy(buf, data, size);
	if (ctl_msg_parse(buf, size, &m, &err) == 0) {
		static const enum ctl_attr strs[] = { CTL_A_MESSAGE, CTL_A_LAB, CTL_A_OUTDIR,
						      CTL_A_NODE, CTL_A_CMDLINE };

		for (size_t i = 0; i < sizeof(strs) / sizeof(strs[0]); i++)
			if (ctl_get_str(&m, strs[i]))
				(void)strlen(ctl_get_str(&m, strs[i]));
		(void)ctl_get_u32(&m, CTL_A_STATUS, 0);
		(void)ctl_get_u64(&m, CTL_A_BUILT_AT, 0);
		(void)ctl_op_name(m.op);
	}
	free(buf);
	return 0;
}

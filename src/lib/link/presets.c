/* SPDX-License-Identifier: MIT */
/*
 * link/presets: the built-in link presets, as data (YAML flow mappings read by
 * the same decoder as the lab file), and the public look-ups over them.
 *
 * Delays are one way (a ping's RTT is the sum of up and down). The numbers are
 * typical values for each access technology; patchbay's names are kept so that
 * its users find theirs (its README gives no numbers, these are ours).
 */
#include "link/cond.h"

#include <errno.h>
#include <string.h>

static const struct {
	const char *name, *text;
} presets[] = {
	{ "lan", "{delay: 100us}" },
	{ "wifi", "{delay: 5ms, jitter: 2ms, loss: 0.1%, rate: 100mbit, up: {rate: 50mbit}}" },
	{ "wifi-bad", "{delay: 20ms, jitter: 10ms, distribution: normal, loss: 3%, rate: 10mbit, "
		      "up: {rate: 5mbit}}" },
	{ "mobile-4g", "{delay: 25ms, jitter: 8ms, distribution: normal, loss: 0.5%, rate: 30mbit, "
		       "up: {rate: 10mbit}}" },
	{ "mobile", "{preset: mobile-4g}" },
	{ "mobile-3g", "{delay: 75ms, jitter: 20ms, distribution: normal, loss: 1%, rate: 3mbit, "
		       "up: {rate: 1mbit}}" },
	{ "mobile-5g",
	  "{delay: 10ms, jitter: 4ms, distribution: normal, loss: 0.1%, rate: 300mbit, "
	  "up: {rate: 50mbit}}" },
	{ "edge", "{delay: 150ms, jitter: 40ms, distribution: normal, loss: 2%, rate: 200kbit, "
		  "up: {rate: 100kbit}}" },
	{ "satellite",
	  "{delay: 20ms, jitter: 8ms, distribution: normal, loss: 0.5%, rate: 150mbit, "
	  "up: {rate: 20mbit}}" },
	{ "satellite-geo",
	  "{delay: 300ms, jitter: 10ms, loss: 0.5%, rate: 25mbit, up: {rate: 3mbit}}" },
	{ "dsl", "{delay: 15ms, jitter: 2ms, rate: 16mbit, up: {rate: 1mbit}}" },
	{ "cable", "{delay: 8ms, jitter: 3ms, rate: 200mbit, up: {rate: 20mbit}}" },
	{ "fiber", "{delay: 2ms, rate: 500mbit}" },
};

const char *linkcond_preset_text(const char *name)
{
	/* aliases resolve through `preset:` (their own text names the target) */
	for (size_t i = 0; i < sizeof(presets) / sizeof(presets[0]); i++)
		if (strcmp(presets[i].name, name) == 0)
			return presets[i].text;
	return NULL;
}

bool nslab_link_preset_at(size_t i, const char **ret_name, const char **ret_text)
{
	if (i >= sizeof(presets) / sizeof(presets[0]))
		return false;
	*ret_name = presets[i].name;
	*ret_text = presets[i].text;
	return true;
}

int nslab_link_preset(const char *name, nslab_link_condition *ret, nslab_error *err)
{
	const char *argv[] = { name };
	enum nslab_link_which which;

	if (!name || !linkcond_preset_text(name))
		return nslab_err_setx(err, ENOENT, "unknown link preset '%s'", name ? name : "");
	return linkcond_from_words(argv, 1, NULL, ret, &which, err);
}

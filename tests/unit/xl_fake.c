/* xl_fake.c — the fake runner of xl_fake.h. */
#include "xl_fake.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../common/util.h"

char *xlf_load(const char *name, size_t *len)
{
	char path[256], *data = NULL;
	snprintf(path, sizeof(path), DATA "%s", name);
	int rc = read_file(path, 1 << 20, &data, len);
	cr_assert_eq(rc, 0, "cannot read %s (run from the repository root)", path);
	char *p = data;
	while (strncmp(p, "# ", 2) == 0 && strchr(p, '\n'))
		p = strchr(p, '\n') + 1;
	*len = strlen(p);
	memmove(data, p, *len + 1);
	return data;
}

static int fake_run(void *ctx, const char *const argv[], const char *stdin_data, size_t stdin_len,
                    int timeout_ms, runner_result *res)
{
	fake *f = ctx;
	runner_result_init(res);
	if (f->ncalls < sizeof(f->calls) / sizeof(f->calls[0]))
		f->calls[f->ncalls++] = runner_argv_str(argv);
	if (f->next >= f->n) {
		res->out = strdup("");
		res->err = strdup("fake runner: no scripted output for this command\n");
		res->err_len = strlen(res->err);
		res->exit_status = 99;
		return 0;
	}
	const fake_step *s = &f->steps[f->next++];
	if (s->out_file) {
		res->out = xlf_load(s->out_file, &res->out_len);
	} else {
		res->out = strdup(s->out ? s->out : "");
		res->out_len = strlen(res->out);
	}
	if (s->err_file) {
		res->err = xlf_load(s->err_file, &res->err_len);
	} else {
		res->err = strdup(s->err ? s->err : "");
		res->err_len = strlen(res->err);
	}
	res->exit_status = s->timed_out ? -1 : s->exit_status;
	res->term_signal = s->timed_out ? 15 : 0;
	res->timed_out = s->timed_out;
	return 0;
}

hv_driver xlf_open(fake *f, const fake_step *steps, size_t n)
{
	memset(f, 0, sizeof(*f));
	f->steps = steps;
	f->n = n;
	hv_driver d;
	char err[HV_ERRLEN];
	cr_assert_eq(hv_xl_open(&d, (runner){.run = fake_run, .ctx = f}, err), 0);
	return d;
}

void xlf_assert_calls(fake *f, const char *const want[])
{
	size_t i = 0;
	for (; want[i]; i++) {
		cr_assert_lt(i, f->ncalls, "missing command %zu: %s", i, want[i]);
		cr_assert_str_eq(f->calls[i], want[i], "command %zu", i);
	}
	cr_assert_eq(f->ncalls, i, "extra command: %s", f->ncalls > i ? f->calls[i] : "");
	for (size_t k = 0; k < f->ncalls; k++)
		free(f->calls[k]);
	f->ncalls = 0;
}

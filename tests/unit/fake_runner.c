/* fake_runner.c — the fake command runner of fake_runner.h. */
#include "fake_runner.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../common/util.h"

char *fake_load(const char *dir, const char *name, size_t *len)
{
	char path[256], *data = NULL;
	snprintf(path, sizeof(path), "%s%s", dir, name);
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
		res->out = fake_load(f->dir, s->out_file, &res->out_len);
	} else {
		res->out = strdup(s->out ? s->out : "");
		res->out_len = strlen(res->out);
	}
	if (s->err_file) {
		res->err = fake_load(f->dir, s->err_file, &res->err_len);
	} else {
		res->err = strdup(s->err ? s->err : "");
		res->err_len = strlen(res->err);
	}
	res->exit_status = s->timed_out ? -1 : s->exit_status;
	res->term_signal = s->timed_out ? 15 : 0;
	res->timed_out = s->timed_out;
	return 0;
}

runner fake_runner_of(fake *f, const char *dir, const fake_step *steps, size_t n)
{
	memset(f, 0, sizeof(*f));
	f->dir = dir;
	f->steps = steps;
	f->n = n;
	return (runner){.run = fake_run, .ctx = f};
}

void fake_assert_calls(fake *f, const char *const want[])
{
	size_t i = 0;
	for (; want[i]; i++) {
		size_t wl = strlen(want[i]);
		cr_assert_lt(i, f->ncalls, "missing command %zu: %s", i, want[i]);
		if (wl && want[i][wl - 1] == '*')
			cr_assert(strncmp(f->calls[i], want[i], wl - 1) == 0, "command %zu: %s", i,
			          f->calls[i]);
		else
			cr_assert_str_eq(f->calls[i], want[i], "command %zu", i);
	}
	cr_assert_eq(f->ncalls, i, "extra command: %s", f->ncalls > i ? f->calls[i] : "");
	for (size_t k = 0; k < f->ncalls; k++)
		free(f->calls[k]);
	f->ncalls = 0;
}

void fake_free_calls(fake *f)
{
	for (size_t k = 0; k < f->ncalls; k++)
		free(f->calls[k]);
	f->ncalls = 0;
}

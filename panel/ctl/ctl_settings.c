/* ctl_settings.c — xvpsctl's guest settings commands (issue 16 item 2; README "xvpsctl"):
 *   hostname VPS_ID FQDN [--wait]            PATCH /vps/{id} {"hostname"}
 *   ssh-keys VPS_ID [FILE] [--wait]          PATCH /vps/{id} {"ssh_keys"}: FILE's (or stdin's)
 *                                            authorized_keys lines, blank and # lines skipped
 *   reset-password VPS_ID [--stdin] [--wait] POST /vps/{id}/actions/reset-password: xvps makes
 *                                            the password and it is printed once on stdout, or
 *                                            --stdin reads one line (no echo on a terminal)
 * Each change applies at the guest's next boot; --wait waits for the job writing the seed. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../common/validate.h"
#include "ctl.h"

#define SET_PATH_MAX 96
#define SET_LINE_MAX 8192
#define SET_KEYS_MAX 32

/* Sends the change; prints the job (or "unchanged") and waits for it with wait. */
static int send_change(const ctl *c, const char *method, const char *path, json_object *body,
                       bool wait, bool show_password)
{
	json_object *resp = NULL, *job = NULL, *v = NULL;
	char job_id[40] = "";
	long status =
	        ctl_request(c, method, path, body ? json_object_to_json_string(body) : "{}", &resp);

	if (status != 200 && status != 202) {
		ctl_print_problem(status, resp);
		json_object_put(resp);
		return 1;
	}
	if (json_object_object_get_ex(resp, "job", &job) && job &&
	    json_object_object_get_ex(job, "id", &v))
		snprintf(job_id, sizeof(job_id), "%s", json_object_get_string(v));
	if (show_password && json_object_object_get_ex(resp, "password", &v) && v)
		printf("password: %s\n", json_object_get_string(v));
	if (json_object_object_get_ex(resp, "password_serial", &v) && show_password)
		printf("password serial: %s\n", json_object_get_string(v));
	json_object_put(resp);
	if (!job_id[0]) {
		printf("unchanged\n");
		return 0;
	}
	printf("applies at the next boot of the VPS (job %s writes its seed)\n", job_id);
	return wait && ctl_wait_job(c, job_id, 600) != 0 ? 1 : 0;
}

/* The authorized_keys lines of f into a JSON array; false (printed) on a line too long or too
 * many keys. */
static bool read_keys(FILE *f, json_object *keys)
{
	char line[SET_LINE_MAX];

	while (fgets(line, sizeof(line), f)) {
		size_t n = strlen(line);

		if (n && line[n - 1] != '\n' && !feof(f)) {
			fprintf(stderr, "xvpsctl: a key line is longer than %d bytes\n",
			        SET_LINE_MAX);
			return false;
		}
		while (n && (line[n - 1] == '\n' || line[n - 1] == '\r' || line[n - 1] == ' '))
			line[--n] = '\0';
		if (!n || line[0] == '#')
			continue;
		if (json_object_array_length(keys) >= SET_KEYS_MAX) {
			fprintf(stderr, "xvpsctl: more than %d keys\n", SET_KEYS_MAX);
			return false;
		}
		json_object_array_add(keys, json_object_new_string(line));
	}
	return true;
}

int ctl_settings_cmd(const ctl *c, const char *cmd, int argc, char **argv)
{
	bool wait = false, from_stdin = false;
	const char *pos[2] = {NULL, NULL};
	char path[SET_PATH_MAX];
	long long id = 0;
	int npos = 0, rc;

	for (int i = 0; i < argc; i++) {
		if (!strcmp(argv[i], "--wait"))
			wait = true;
		else if (!strcmp(argv[i], "--stdin"))
			from_stdin = true;
		else if (npos < 2)
			pos[npos++] = argv[i];
		else
			npos = 3;
	}
	if (!pos[0] || !parse_int_range(pos[0], 1, INT64_MAX, &id))
		npos = 3;
	if (!strcmp(cmd, "hostname") && npos == 2 && !from_stdin) {
		json_object *b = json_object_new_object();

		json_object_object_add(b, "hostname", json_object_new_string(pos[1]));
		snprintf(path, sizeof(path), "/vps/%lld", id);
		rc = send_change(c, "PATCH", path, b, wait, false);
		json_object_put(b);
		return rc;
	}
	if (!strcmp(cmd, "ssh-keys") && (npos == 1 || npos == 2) && !from_stdin) {
		FILE *f = npos == 2 && strcmp(pos[1], "-") ? fopen(pos[1], "r") : stdin;
		json_object *b = json_object_new_object(), *keys = json_object_new_array();
		bool ok;

		json_object_object_add(b, "ssh_keys", keys);
		if (!f) {
			perror(pos[1]);
			json_object_put(b);
			return 1;
		}
		ok = read_keys(f, keys);
		if (f != stdin)
			fclose(f);
		snprintf(path, sizeof(path), "/vps/%lld", id);
		rc = ok ? send_change(c, "PATCH", path, b, wait, false) : 1;
		json_object_put(b);
		return rc;
	}
	if (!strcmp(cmd, "reset-password") && npos == 1) {
		json_object *b = json_object_new_object();
		char pw[1100];

		if (from_stdin) {
			if (!ctl_read_secret("new root password: ", pw, sizeof(pw))) {
				fprintf(stderr, "xvpsctl: no password on stdin\n");
				json_object_put(b);
				return 1;
			}
			json_object_object_add(b, "password", json_object_new_string(pw));
			memset(pw, 0, sizeof(pw));
		}
		snprintf(path, sizeof(path), "/vps/%lld/actions/reset-password", id);
		rc = send_change(c, "POST", path, b, wait, true);
		json_object_put(b);
		return rc;
	}
	fprintf(stderr, "usage: xvpsctl hostname VPS_ID FQDN [--wait]\n"
	                "       xvpsctl ssh-keys VPS_ID [FILE|-] [--wait]\n"
	                "       xvpsctl reset-password VPS_ID [--stdin] [--wait]\n");
	return 2;
}

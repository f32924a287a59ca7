/* ctl.h — what xvpsctl's command files share (xvpsctl.c): the connection, one request, and the
 * printing and waiting helpers. */
#ifndef XVPS_CTL_H
#define XVPS_CTL_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>

typedef struct ctl {
	const char *url;   /* base URL, e.g. http://127.0.0.1:8080 */
	const char *token; /* API key */
	bool insecure;     /* accept a self-signed certificate (the appliance's first boot) */
} ctl;

/* One request to /api/v1PATH: the HTTP status (0 on a transport error, printed) and the JSON
 * body in *out (NULL when empty or not JSON). */
long request(const ctl *c, const char *method, const char *path, const char *body,
             json_object **out);
void print_problem(long status, json_object *body); /* a problem+json as one stderr line */
void print_json(json_object *o);                    /* pretty, on stdout */
int wait_job(const ctl *c, const char *job_id, int timeout_s); /* 0 when done */
/* One line of stdin without its newline, echo off on a terminal; false at EOF or too long. */
bool read_secret(const char *prompt, char *out, size_t size);

/* hostname / ssh-keys / reset-password (ctl_settings.c; issue 16 item 2). Exit status. */
int ctl_settings_cmd(const ctl *c, const char *cmd, int argc, char **argv);

#endif

/* ctl_rdns.h — xvpsctl's reverse DNS commands (ctl_rdns.c; issue 16 item 4) and the pieces of
 * xvpsctl.c they use. */
#ifndef XVPS_CTL_RDNS_H
#define XVPS_CTL_RDNS_H

#include <json-c/json.h>

struct ctl;
/* xvpsctl.c: one request (the HTTP status, 0 on a transport error; the JSON body in *out),
 * an error's problem+json on stderr, a JSON value on stdout. */
long request(const struct ctl *c, const char *method, const char *path, const char *body,
             json_object **out);
void print_problem(long status, json_object *body);
void print_json(json_object *o);

/* rdns get VPS_ID | rdns set VPS_ID ADDRESS NAME | rdns clear VPS_ID ADDRESS. 0, 1 (the API
 * refused: its problem on stderr) or 2 (usage). */
int rdns_cmd(const struct ctl *c, int argc, char **argv);

#endif

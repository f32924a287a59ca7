/* ctl_template.c — `xvpsctl template import` (issue 16 item 7): POST /templates with a cloud
 * image's url or file (docs/openapi.yaml), prints the template and its template.import job,
 * and with --wait follows the job to its end. */
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"

static int usage(void)
{
	fputs("usage: xvpsctl template import --name NAME --os OS --disk-gib GIB "
	      "--boot pvh|pv|hvm\n"
	      "       (--url URL [--sha256 HEX] | --file PATH) [--seed xvps|nocloud] [--wait]\n",
	      stderr);
	return 2;
}

int ctl_template_cmd(const ctl *c, int argc, char **argv)
{
	static const char *const opts[] = {"--name", "--os",     "--boot", "--seed",
	                                   "--url",  "--sha256", "--file", NULL};
	static const char *const keys[] = {"name", "os", "boot", "seed", "url", "sha256", "file"};
	json_object *body, *resp = NULL, *job, *tpl, *v;
	long long gib = 0;
	bool wait = false;
	long status;
	int rc = 0;

	if (argc < 1 || strcmp(argv[0], "import") != 0)
		return usage();
	body = json_object_new_object();
	for (int i = 1; i < argc; i++) {
		bool known = false;

		if (!strcmp(argv[i], "--wait")) {
			wait = true;
			continue;
		}
		if (i + 1 >= argc) {
			json_object_put(body);
			return usage();
		}
		if (!strcmp(argv[i], "--disk-gib")) {
			char *end = NULL;
			gib = strtoll(argv[++i], &end, 10);
			if (!end || *end || gib < 1) {
				json_object_put(body);
				return usage();
			}
			json_object_object_add(body, "disk_gib", json_object_new_int64(gib));
			continue;
		}
		for (size_t k = 0; opts[k]; k++)
			if (!strcmp(argv[i], opts[k])) {
				json_object_object_add(body, keys[k],
				                       json_object_new_string(argv[++i]));
				known = true;
				break;
			}
		if (!known) {
			json_object_put(body);
			return usage();
		}
	}
	status = ctl_request(c, "POST", "/templates",
	                     json_object_to_json_string_ext(body, JSON_C_TO_STRING_PLAIN), &resp);
	json_object_put(body);
	if (status != 202) {
		if (status == 201)
			fputs("xvpsctl: that made a template without an import (give --url or "
			      "--file)\n",
			      stderr);
		ctl_print_problem(status, resp);
		json_object_put(resp);
		return 1;
	}
	if (!json_object_object_get_ex(resp, "template", &tpl) ||
	    !json_object_object_get_ex(resp, "job", &job) ||
	    !json_object_object_get_ex(job, "id", &v)) {
		ctl_print_json(resp);
		json_object_put(resp);
		return 1;
	}
	json_object *tid = NULL;
	json_object_object_get_ex(tpl, "id", &tid);
	printf("importing template %s (job %s)\n", tid ? json_object_get_string(tid) : "?",
	       json_object_get_string(v));
	if (wait)
		rc = ctl_wait_job(c, json_object_get_string(v), 7200) == 0 ? 0 : 1;
	json_object_put(resp);
	return rc;
}

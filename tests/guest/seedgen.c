/* seedgen.c — test driver for tests/guest/seed_test.sh: `seedgen STATE_DIR < SPEC.json` parses a
 * VPS_SPEC with the agent's own spec_parse and writes its seed with the real seed_write
 * (provisioning/seed.c), then prints the seed's path. Exit 0, or 1 with the reason on stderr. */
#include <json-c/json.h>
#include <stdio.h>

#include "../../provisioning/seed.h"
#include "../../provisioning/spec.h"

int main(int argc, char **argv)
{
	char buf[1 << 18], path[512], err[SEED_ERRLEN] = "";
	json_field_error fe = {0};
	json_object *o;
	vps_spec spec;
	size_t n;
	int rc;

	if (argc != 2) {
		fprintf(stderr, "usage: seedgen STATE_DIR < SPEC.json\n");
		return 2;
	}
	n = fread(buf, 1, sizeof(buf) - 1, stdin);
	buf[n] = '\0';
	o = json_tokener_parse(buf);
	if (!o) {
		fprintf(stderr, "seedgen: stdin is not JSON\n");
		return 1;
	}
	rc = spec_parse(o, &spec, &fe);
	json_object_put(o);
	if (rc) {
		fprintf(stderr, "seedgen: spec %s: %s\n", fe.field, fe.detail);
		return 1;
	}
	rc = seed_write(argv[1], &spec, path, sizeof(path), err);
	spec_dispose(&spec);
	if (rc) {
		fprintf(stderr, "seedgen: %s\n", err);
		return 1;
	}
	printf("%s\n", path);
	return 0;
}

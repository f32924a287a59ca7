/* template_import.c — cloud images as templates (template_import.h): template.fetch (libcurl,
 * size-limited, https unless allowed, optional sha256) and template.import (qemu-img info and
 * convert, then the storage driver), and their agent operations. */
#include "template_import.h"

#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../common/jsonutil.h"
#include "../common/runner.h"
#include "../common/util.h"
#include "../common/validate.h"
#include "agent_internal.h"

#define GIB (1024ull * 1024ull * 1024ull)

bool tpl_url_ok(const char *url, bool allow_http, const char **why)
{
	const char *host;
	size_t n;

	if (!url || (n = strlen(url)) == 0 || n > TPL_URL_MAX) {
		if (why)
			*why = "must be a URL of 1 to 2048 characters";
		return false;
	}
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)url[i];

		if (c <= 0x20 || c >= 0x7f || c == '"' || c == '\\' || c == '\'' || c == '<' ||
		    c == '>' || c == '`') {
			if (why)
				*why = "must be printable ASCII without spaces, quotes or "
				       "backslashes";
			return false;
		}
	}
	if (strncmp(url, "https://", 8) == 0) {
		host = url + 8;
	} else if (strncmp(url, "http://", 7) == 0) {
		if (!allow_http) {
			if (why)
				*why = "must be an https:// URL (http is off: the admin setting "
				       "images.allow_http)";
			return false;
		}
		host = url + 7;
	} else {
		if (why)
			*why = allow_http ? "must be an https:// or http:// URL"
			                  : "must be an https:// URL";
		return false;
	}
	if (*host == '\0' || *host == '/' || *host == '@') {
		if (why)
			*why = "has no host";
		return false;
	}
	return true;
}

/* The storage driver's runner when it has one (lvm; tests' fakes), else the real one. */
static runner host_runner(vps_ctx *ctx)
{
	return ctx->st->run.run ? ctx->st->run : runner_real();
}

/* ---- work files ----------------------------------------------------------------------------- */

static int work_path(vps_ctx *ctx, const char *tpl, const char *ext, char *out, size_t len,
                     vps_err *err)
{
	const char *dir = ctx->st->template_dir;

	if (!dir[0] || dir[0] != '/') {
		vps_set_err(err, -EINVAL, NULL, "no template import directory (XVPS_TEMPLATE_DIR)");
		return -EINVAL;
	}
	if (!sfmt(out, len, "%s/xvps-import-%s.%s", dir, tpl, ext)) {
		vps_set_err(err, -ENAMETOOLONG, NULL, "the import path of %s is too long", tpl);
		return -ENAMETOOLONG;
	}
	return 0;
}

int tpl_import_cleanup(vps_ctx *ctx, const char *tpl)
{
	static const char *const exts[] = {"part", "download", "raw", "raw.tmp"};
	char path[PATH_MAX];
	int rc = 0;

	for (size_t i = 0; i < sizeof(exts) / sizeof(exts[0]); i++)
		if (work_path(ctx, tpl, exts[i], path, sizeof(path), NULL) == 0 &&
		    unlink(path) != 0 && errno != ENOENT && rc == 0)
			rc = -errno;
	return rc;
}

/* ---- fetch ---------------------------------------------------------------------------------- */

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static void curl_init_once(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
}

typedef struct sink {
	int fd;
	uint64_t got, max;
	bool too_big, io_failed;
} sink;

static size_t sink_write(char *data, size_t size, size_t n, void *p)
{
	sink *s = p;
	size_t len = size * n;

	if (s->got + len > s->max) {
		s->too_big = true;
		return 0; /* aborts the transfer */
	}
	if (write_full(s->fd, data, len, false) != 0) {
		s->io_failed = true;
		return 0;
	}
	s->got += len;
	return len;
}

static bool hex64(const char *s)
{
	if (!s || strlen(s) != 64)
		return false;
	for (size_t i = 0; i < 64; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return true;
}

/* sha256sum of path into out[65]. */
static int file_sha256(vps_ctx *ctx, const char *path, char out[65], vps_err *err)
{
	const char *argv[] = {"sha256sum", path, NULL};
	runner hr = host_runner(ctx);
	runner_result res;
	char line[RUNNER_LINE_LEN];
	int rc;

	runner_result_init(&res);
	rc = runner_run(&hr, argv, NULL, 0, TPL_SHA256_TIMEOUT, &res);
	if (!runner_ok(rc, &res) || res.out_len < 64) {
		vps_set_err(err, -EIO, NULL, "sha256sum failed: %s",
		            runner_failure_line(&res, line, sizeof(line)));
		runner_result_dispose(&res);
		return -EIO;
	}
	memcpy(out, res.out, 64);
	out[64] = '\0';
	runner_result_dispose(&res);
	return 0;
}

int tpl_fetch(vps_ctx *ctx, const char *tpl, const char *url, const char *sha256,
              uint64_t max_bytes, bool allow_http, json_object **result_out, vps_err *err)
{
	char part[PATH_MAX], done[PATH_MAX], have[65], cerr[CURL_ERROR_SIZE] = "";
	const char *why = NULL, *protos = allow_http ? "http,https" : "https";
	sink s = {.fd = -1, .max = max_bytes};
	long status = 0;
	CURLcode cc;
	CURL *c;
	int rc;

	*result_out = NULL;
	if (!tpl_url_ok(url, allow_http, &why)) {
		vps_set_err(err, -EINVAL, "url", "url %s", why);
		return -EINVAL;
	}
	if (sha256 && !hex64(sha256)) {
		vps_set_err(err, -EINVAL, "sha256", "sha256 must be 64 lower-case hex digits");
		return -EINVAL;
	}
	if (max_bytes < 1 || max_bytes > TPL_FETCH_MAX_BYTES) {
		vps_set_err(err, -EINVAL, "max_bytes", "max_bytes is out of range");
		return -EINVAL;
	}
	if ((rc = work_path(ctx, tpl, "part", part, sizeof(part), err)) != 0 ||
	    (rc = work_path(ctx, tpl, "download", done, sizeof(done), err)) != 0)
		return rc;
	if ((rc = mkdir_p(ctx->st->template_dir, 0700)) != 0) {
		vps_set_err(err, rc, NULL, "cannot create the import directory: %s", strerror(-rc));
		return rc;
	}
	tpl_import_cleanup(ctx, tpl);
	s.fd = open(part, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (s.fd < 0) {
		rc = -errno;
		vps_set_err(err, rc, NULL, "cannot create %s: %s", part, strerror(-rc));
		return rc;
	}
	pthread_once(&curl_once, curl_init_once);
	c = curl_easy_init();
	if (!c) {
		close(s.fd);
		unlink(part);
		vps_set_err(err, -ENOMEM, NULL, "cannot start a download");
		return -ENOMEM;
	}
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, protos);
	curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, protos);
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
	curl_easy_setopt(c, CURLOPT_MAXREDIRS, 5L);
	curl_easy_setopt(c, CURLOPT_FAILONERROR, 1L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 30L);
	curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1024L);
	curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, 60L);
	curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)max_bytes);
	curl_easy_setopt(c, CURLOPT_USERAGENT, "xvps-agent");
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, sink_write);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &s);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, cerr);
	cc = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_cleanup(c);
	rc = 0;
	if (s.too_big || cc == CURLE_FILESIZE_EXCEEDED) {
		vps_set_err(err, -EFBIG, "url", "the image is larger than the %llu-byte limit",
		            (unsigned long long)max_bytes);
		rc = -EFBIG;
	} else if (s.io_failed) {
		vps_set_err(err, -EIO, NULL, "cannot write the download to %s", part);
		rc = -EIO;
	} else if (cc != CURLE_OK) {
		vps_set_err(err, -EIO, "url", "download failed: %s",
		            cerr[0] ? cerr : curl_easy_strerror(cc));
		rc = -EIO;
	} else if (s.got == 0) {
		vps_set_err(err, -EINVAL, "url", "the download is empty");
		rc = -EINVAL;
	}
	if (!rc && fsync(s.fd) != 0) {
		rc = -errno;
		vps_set_err(err, rc, NULL, "cannot sync the download: %s", strerror(-rc));
	}
	close(s.fd);
	if (!rc && (rc = file_sha256(ctx, part, have, err)) == 0 && sha256 &&
	    strcmp(have, sha256) != 0) {
		vps_set_err(err, -EINVAL, "sha256", "sha256 mismatch: the download has %s", have);
		rc = -EINVAL;
	}
	if (!rc && rename(part, done) != 0) {
		rc = -errno;
		vps_set_err(err, rc, NULL, "cannot keep the download: %s", strerror(-rc));
	}
	if (rc) {
		tpl_import_cleanup(ctx, tpl);
		return rc;
	}
	json_object *o = json_object_new_object();
	json_object_object_add(o, "name", json_object_new_string(tpl));
	json_object_object_add(o, "bytes", json_object_new_int64((int64_t)s.got));
	json_object_object_add(o, "sha256", json_object_new_string(have));
	*result_out = o;
	return 0;
}

/* ---- import --------------------------------------------------------------------------------- */

/* file must resolve, without a symlink at its end, to a regular file inside the import dir. */
static int check_file(vps_ctx *ctx, const char *file, vps_err *err)
{
	char real[PATH_MAX], dir[PATH_MAX];
	struct stat st;
	size_t n;

	if (!file || file[0] != '/' || strlen(file) >= PATH_MAX) {
		vps_set_err(err, -EINVAL, "file", "file must be an absolute path");
		return -EINVAL;
	}
	if (lstat(file, &st) != 0) {
		vps_set_err(err, -ENOENT, "file", "file %s: %s", file, strerror(errno));
		return -ENOENT;
	}
	if (!S_ISREG(st.st_mode)) {
		vps_set_err(err, -EINVAL, "file", "file %s is not a regular file", file);
		return -EINVAL;
	}
	if (!realpath(file, real) || !realpath(ctx->st->template_dir, dir) ||
	    strncmp(real, dir, (n = strlen(dir))) != 0 || real[n] != '/') {
		vps_set_err(err, -EINVAL, "file",
		            "file must be inside the template import directory %s",
		            ctx->st->template_dir);
		return -EINVAL;
	}
	return 0;
}

/* qemu-img info: the format (raw|qcow2) and the virtual size; refuses backing/data files. */
static int image_info(vps_ctx *ctx, const char *path, char fmt[8], uint64_t *vbytes, vps_err *err)
{
	const char *argv[] = {"qemu-img", "info", "--output=json", path, NULL};
	runner hr = host_runner(ctx);
	runner_result res;
	char line[RUNNER_LINE_LEN];
	json_object *o = NULL, *v, *spec, *data;
	const char *f;
	int rc = -EINVAL;

	runner_result_init(&res);
	if (!runner_ok(runner_run(&hr, argv, NULL, 0, 120000, &res), &res)) {
		vps_set_err(err, -EINVAL, "file", "qemu-img info cannot read the image: %s",
		            runner_failure_line(&res, line, sizeof(line)));
		goto out;
	}
	o = json_tokener_parse(res.out);
	if (!o || !json_object_object_get_ex(o, "format", &v) || !(f = json_object_get_string(v)) ||
	    !json_object_object_get_ex(o, "virtual-size", &v)) {
		vps_set_err(err, -EIO, NULL, "qemu-img info answered something unexpected");
		rc = -EIO;
		goto out;
	}
	if (strcmp(f, "raw") != 0 && strcmp(f, "qcow2") != 0) {
		vps_set_err(err, -EINVAL, "file", "the image is %.32s, not qcow2 or raw", f);
		goto out;
	}
	if (json_object_object_get_ex(o, "backing-filename", NULL) ||
	    (json_object_object_get_ex(o, "format-specific", &spec) &&
	     json_object_object_get_ex(spec, "data", &data) &&
	     json_object_object_get_ex(data, "data-file", NULL))) {
		vps_set_err(err, -EINVAL, "file",
		            "the image refers to another file (backing or data file): refused");
		goto out;
	}
	snprintf(fmt, 8, "%s", f);
	*vbytes = (uint64_t)json_object_get_int64(v);
	rc = 0;
out:
	json_object_put(o);
	runner_result_dispose(&res);
	return rc;
}

int tpl_import(vps_ctx *ctx, const char *tpl, uint64_t disk_gib, const char *file,
               json_object **result_out, vps_err *err)
{
	char src[PATH_MAX], raw[PATH_MAX], tmp[PATH_MAX], fmt[8] = "", line[RUNNER_LINE_LEN];
	char sterr[ST_ERRLEN] = "", rawname[ST_NAME_MAX + 1];
	uint64_t vbytes = 0, bytes = 0;
	runner_result res;
	int rc;

	*result_out = NULL;
	if (disk_gib < 1 || disk_gib > 16384) {
		vps_set_err(err, -EINVAL, "disk_gib", "disk_gib is out of range");
		return -EINVAL;
	}
	if ((rc = work_path(ctx, tpl, "raw", raw, sizeof(raw), err)) != 0 ||
	    (rc = work_path(ctx, tpl, "raw.tmp", tmp, sizeof(tmp), err)) != 0)
		return rc;
	if (file) {
		if ((rc = check_file(ctx, file, err)) != 0)
			return rc;
		snprintf(src, sizeof(src), "%s", file);
	} else {
		if ((rc = work_path(ctx, tpl, "download", src, sizeof(src), err)) != 0)
			return rc;
		if (access(src, R_OK) != 0) {
			vps_set_err(err, -ENOENT, "url", "nothing was downloaded for %s", tpl);
			return -ENOENT;
		}
	}
	if ((rc = image_info(ctx, src, fmt, &vbytes, err)) != 0)
		goto out;
	if (vbytes == 0 || vbytes > disk_gib * GIB) {
		vps_set_err(err, -EINVAL, "disk_gib",
		            "the image's virtual size (%llu bytes) does not fit in disk_gib %llu",
		            (unsigned long long)vbytes, (unsigned long long)disk_gib);
		rc = -EINVAL;
		goto out;
	}
	{
		const char *argv[] = {"qemu-img", "convert", "-f", fmt, "-O",
		                      "raw",      src,       tmp,  NULL};
		runner hr = host_runner(ctx);

		runner_result_init(&res);
		rc = runner_run(&hr, argv, NULL, 0, TPL_CONVERT_TIMEOUT, &res);
		if (!runner_ok(rc, &res)) {
			vps_set_err(err, -EIO, NULL, "qemu-img convert failed: %s",
			            runner_failure_line(&res, line, sizeof(line)));
			runner_result_dispose(&res);
			rc = -EIO;
			goto out;
		}
		runner_result_dispose(&res);
	}
	if (rename(tmp, raw) != 0) {
		rc = -errno;
		vps_set_err(err, rc, NULL, "cannot keep the converted image: %s", strerror(-rc));
		goto out;
	}
	snprintf(rawname, sizeof(rawname), "xvps-import-%s.raw", tpl);
	rc = ctx->st->ops->template_ensure(ctx->st, tpl, disk_gib, rawname, &bytes, sterr);
	if (rc) {
		vps_set_err(err, rc == -ENOSPC ? -ENOSPC : -EIO, NULL, "template %s: %s", tpl,
		            sterr);
		goto out;
	}
	json_object *o = json_object_new_object();
	json_object_object_add(o, "name", json_object_new_string(tpl));
	json_object_object_add(o, "size_bytes", json_object_new_int64((int64_t)bytes));
	json_object_object_add(o, "format", json_object_new_string(fmt));
	json_object_object_add(o, "virtual_bytes", json_object_new_int64((int64_t)vbytes));
	*result_out = o;
out:
	tpl_import_cleanup(ctx, tpl);
	return rc;
}

/* ---- the agent operations ------------------------------------------------------------------- */

json_object *agent_op_template_import(agent *a, json_object *req, int variant)
{
	static const char *const fetch_fields[] = {"op",        "name",       "url", "sha256",
	                                           "max_bytes", "allow_http", NULL};
	static const char *const import_fields[] = {"op", "name", "disk_gib", "file", NULL};
	json_field_error fe = {0};
	const char *name = NULL, *url = NULL, *sha = NULL, *file = NULL, *why = NULL;
	int64_t max_bytes = 0, disk_gib = 0;
	bool allow_http = false;
	json_object *result = NULL;
	vps_err e = {0};
	int rc;

	if (!json_only_fields(req, variant ? import_fields : fetch_fields, &fe) ||
	    !json_get_str(req, "name", true, &name, &fe))
		return agent_reply_field(&fe, "");
	if (!valid_template_name(name, &why))
		return agent_reply_err("invalid", "name",
		                       why ? why : "name is not a template name");
	if (variant == 0 && (!json_get_str(req, "url", true, &url, &fe) ||
	                     !json_get_str(req, "sha256", false, &sha, &fe) ||
	                     !json_get_int(req, "max_bytes", true, 1, (int64_t)TPL_FETCH_MAX_BYTES,
	                                   &max_bytes, &fe) ||
	                     !json_get_bool(req, "allow_http", false, &allow_http, &fe)))
		return agent_reply_field(&fe, "");
	if (variant == 1 && (!json_get_int(req, "disk_gib", true, 1, 16384, &disk_gib, &fe) ||
	                     !json_get_str(req, "file", false, &file, &fe)))
		return agent_reply_field(&fe, "");
	name_lock *l = agent_name_acquire(a, name);
	if (variant == 0)
		rc = tpl_fetch(a->vps, name, url, sha, (uint64_t)max_bytes, allow_http, &result,
		               &e);
	else
		rc = tpl_import(a->vps, name, (uint64_t)disk_gib, file, &result, &e);
	agent_name_release(a, l);
	if (rc)
		log_warn("template.%s %s: %s", variant ? "import" : "fetch", name, e.msg);
	else
		log_info("template.%s %s: ok", variant ? "import" : "fetch", name);
	return agent_reply_vps(rc, result, &e);
}

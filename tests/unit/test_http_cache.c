/* test_http_cache.c — panel/http_cache.c and store_generation() against a real SQLite file in a
 * mkdtemp() directory (issue 17 item 1): a kept answer comes back with its ETag and headers until
 * a commit (of this connection, another thread's, or another process's) moves the generation;
 * answers are kept per user and per path; only 200s with a JSON body are kept. */
#include <criterion/criterion.h>
#include <ftw.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>

#include "../../panel/http_cache.h"
#include "../../panel/http_internal.h"
#include "../../panel/store.h"
#include "panel_testdb.h"

static char tmp[64], dbpath[128];

static void setup(void)
{
	snprintf(tmp, sizeof(tmp), "/tmp/xvps-hcache-XXXXXX");
	cr_assert_not_null(mkdtemp(tmp));
	snprintf(dbpath, sizeof(dbpath), "%s/xvps.db", tmp);
	cr_assert_eq(store_open(dbpath), 0);
	http_cache_clear();
}

static void teardown(void)
{
	http_cache_clear();
	store_close_thread();
	nftw(tmp, rm_one, 8, FTW_DEPTH | FTW_PHYS);
}

TestSuite(http_cache, .init = setup, .fini = teardown);

/* A request of user uid for path, as dispatch() hands it over (no MHD connection: no query). */
static void req_init(http_req *rq, int64_t uid, const char *path)
{
	memset(rq, 0, sizeof(*rq));
	rq->method = "GET";
	rq->path = path;
	rq->user.id = uid;
}

static void req_done(http_req *rq)
{
	reply_clear(rq);
	for (int i = 0; i < rq->nhdr; i++) {
		free(rq->hdr_name[i]);
		free(rq->hdr_value[i]);
	}
	rq->nhdr = 0;
}

static const char *hdr(const http_req *rq, const char *name)
{
	for (int i = 0; i < rq->nhdr; i++)
		if (strcmp(rq->hdr_name[i], name) == 0)
			return rq->hdr_value[i];
	return NULL;
}

/* One request through lookup, the "handler" (answers body with X-Total-Count: total when it
 * runs) and fill, as dispatch() does. True when the handler ran; etag_out[64] gets the ETag. */
static bool serve(int64_t uid, const char *path, const char *body, const char *total,
                  char etag_out[HTTP_CACHE_ETAG_MAX], char *sent, size_t sent_size)
{
	http_cache_req c;
	http_req rq;
	bool ran = false;
	const char *data, *n, *v;
	size_t len;

	req_init(&rq, uid, path);
	if (!http_cache_lookup(&rq, &c)) {
		ran = true;
		reply_json(&rq, 200, json_tokener_parse(body));
		reply_header(&rq, "X-Total-Count", total);
		http_cache_fill(&rq, &c);
	}
	cr_assert_eq(rq.status, 200);
	cr_assert_not_null(rq.resp_shared, "the answer is not the shared body");
	cr_assert_not_null(hdr(&rq, "ETag"));
	cr_assert_str_eq(hdr(&rq, "Cache-Control"), "private, no-cache");
	snprintf(etag_out, HTTP_CACHE_ETAG_MAX, "%s", hdr(&rq, "ETag"));
	cr_assert_str_eq(etag_out, c.etag);
	cr_assert_eq(http_body_nheaders(rq.resp_shared), 1);
	http_body_header(rq.resp_shared, 0, &n, &v);
	cr_assert_str_eq(n, "X-Total-Count");
	data = http_body_data(rq.resp_shared, &len);
	snprintf(sent, sent_size, "%.*s %s", (int)len, data, v);
	req_done(&rq);
	return ran;
}

Test(http_cache, keeps_an_answer_until_a_commit)
{
	char e1[64], e2[64], e3[64], sent[256];

	cr_assert(serve(7, "/api/v1/vps", "[{\"id\":\"1\"}]", "1", e1, sent, sizeof(sent)));
	cr_assert_str_eq(sent, "[{\"id\":\"1\"}] 1");
	cr_assert_not(serve(7, "/api/v1/vps", "[{\"id\":\"2\"}]", "2", e2, sent, sizeof(sent)),
	              "the handler ran although nothing changed");
	cr_assert_str_eq(sent, "[{\"id\":\"1\"}] 1", "the kept answer differs: %s", sent);
	cr_assert_str_eq(e1, e2);
	cr_assert(strncmp(e1, "W/\"", 3) == 0, "%s", e1);

	exec_sql("CREATE TABLE t(x); INSERT INTO t VALUES(1);");
	cr_assert(serve(7, "/api/v1/vps", "[{\"id\":\"2\"}]", "2", e3, sent, sizeof(sent)),
	          "a commit did not end the kept answer");
	cr_assert_str_eq(sent, "[{\"id\":\"2\"}] 2");
	cr_assert_str_neq(e1, e3);
}

Test(http_cache, answers_are_per_user_and_path)
{
	char a[64], b[64], c[64], sent[256];

	cr_assert(serve(7, "/api/v1/vps", "[1]", "1", a, sent, sizeof(sent)));
	cr_assert(serve(8, "/api/v1/vps", "[2]", "1", b, sent, sizeof(sent)));
	cr_assert_str_eq(sent, "[2] 1", "user 8 got user 7's answer");
	cr_assert(serve(7, "/api/v1/jobs", "[3]", "1", c, sent, sizeof(sent)));
	cr_assert_str_eq(sent, "[3] 1");
	cr_assert_str_neq(a, b);
	cr_assert_str_neq(a, c);
	cr_assert_not(serve(8, "/api/v1/vps", "[9]", "1", b, sent, sizeof(sent)));
	cr_assert_str_eq(sent, "[2] 1");
}

Test(http_cache, keeps_no_error)
{
	http_cache_req c;
	http_req rq;
	char e[64], sent[256];

	req_init(&rq, 7, "/api/v1/vps/9");
	cr_assert_not(http_cache_lookup(&rq, &c));
	reply_not_found(&rq, "VPS");
	http_cache_fill(&rq, &c);
	cr_assert_eq(rq.status, 404);
	cr_assert_null(rq.resp_shared);
	req_done(&rq);
	cr_assert(serve(7, "/api/v1/vps/9", "{}", "0", e, sent, sizeof(sent)), "a 404 was kept");
}

static void *commit_elsewhere(void *arg)
{
	(void)arg;
	exec_sql("INSERT INTO t VALUES(2);");
	store_close_thread();
	return NULL;
}

Test(http_cache, generation_moves_on_every_commit)
{
	sqlite3 *other;
	uint64_t g0, g1, g2, g3;
	pthread_t th;

	exec_sql("CREATE TABLE t(x);");
	g0 = store_generation();
	cr_assert_eq(store_generation(), g0, "moved without a commit");
	exec_sql("INSERT INTO t VALUES(1);"); /* this connection */
	g1 = store_generation();
	cr_assert_gt(g1, g0);
	cr_assert_eq(pthread_create(&th, NULL, commit_elsewhere, NULL), 0); /* another thread's */
	pthread_join(th, NULL);
	g2 = store_generation();
	cr_assert_gt(g2, g1);
	/* Another process's commit: a connection without the hook. */
	cr_assert_eq(sqlite3_open(dbpath, &other), SQLITE_OK);
	cr_assert_eq(sqlite3_exec(other, "INSERT INTO t VALUES(3)", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(other);
	g3 = store_generation();
	cr_assert_gt(g3, g2);
	cr_assert_eq(store_generation(), g3);
}

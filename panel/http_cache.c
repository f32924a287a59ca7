/* http_cache.c — ETags, 304s and answers kept in memory for the CACHE_ETAG routes (issue 17
 * item 1; see http_cache.h). The cache is a small table under one mutex, keyed by the user, the
 * path and the query, and valid for one store generation and one minute; bodies are shared by
 * reference with the responses that send them. Never reads a table itself. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <microhttpd.h>

#include "../common/util.h"
#include "http_cache.h"
#include "store.h"

#define CACHE_SLOTS      32
#define CACHE_BYTES_MAX  (8u << 20) /* all kept bodies together */
#define CACHE_BODY_MAX   (2u << 20) /* a larger answer is sent, not kept */
#define BODY_HEADERS_MAX 4

struct http_body {
	atomic_int refs;
	struct MHD_Response *resp; /* made once, by the first answer that sends this body */
	int nhdr;
	char *hdr_name[BODY_HEADERS_MAX];
	char *hdr_value[BODY_HEADERS_MAX];
	size_t len;
	char data[]; /* len bytes and a NUL */
};

typedef struct cache_slot {
	char *key;
	uint64_t gen;
	int64_t minute;
	uint64_t used; /* LRU clock */
	char etag[HTTP_CACHE_ETAG_MAX];
	http_body *body; /* NULL while a thread builds it (the others wait: one build at a time) */
} cache_slot;

static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t g_built = PTHREAD_COND_INITIALIZER;
static cache_slot g_slots[CACHE_SLOTS];
static size_t g_bytes;
static uint64_t g_clock;
static uint32_t g_boot; /* ETags of an earlier run of xvpsd never match */
static pthread_once_t g_boot_once = PTHREAD_ONCE_INIT;

static void boot_init(void)
{
	if (random_bytes(&g_boot, sizeof(g_boot)) != 0)
		g_boot = (uint32_t)now_unix();
}

const char *http_body_data(const http_body *b, size_t *len_out)
{
	*len_out = b->len;
	return b->data;
}

int http_body_nheaders(const http_body *b)
{
	return b->nhdr;
}

void http_body_header(const http_body *b, int i, const char **name, const char **value)
{
	*name = b->hdr_name[i];
	*value = b->hdr_value[i];
}

/* The memory of b, once nothing can send it any more. */
static void body_free(void *p)
{
	http_body *b = p;

	for (int i = 0; i < b->nhdr; i++) {
		free(b->hdr_name[i]);
		free(b->hdr_value[i]);
	}
	free(b);
}

void http_body_unref(void *p)
{
	http_body *b = p;

	if (!b || atomic_fetch_sub(&b->refs, 1) != 1)
		return;
	/* Connections still sending the response keep it, and so b's bytes: libmicrohttpd calls
	 * body_free() when the last one is done. */
	if (b->resp)
		MHD_destroy_response(b->resp);
	else
		body_free(b);
}

struct MHD_Response *http_body_response(http_body *b,
                                        void (*decorate)(struct MHD_Response *, void *), void *cls)
{
	struct MHD_Response *r;

	pthread_mutex_lock(&g_lock);
	if (!b->resp) {
		r = MHD_create_response_from_buffer_with_free_callback_cls(b->len, b->data,
		                                                           body_free, b);
		if (r) {
			for (int i = 0; i < b->nhdr; i++)
				MHD_add_response_header(r, b->hdr_name[i], b->hdr_value[i]);
			decorate(r, cls);
			b->resp = r;
		}
	}
	r = b->resp;
	pthread_mutex_unlock(&g_lock);
	return r;
}

static http_body *body_new(const char *data, size_t len, const http_req *rq)
{
	http_body *b = malloc(sizeof(*b) + len + 1);

	if (!b)
		return NULL;
	atomic_init(&b->refs, 1);
	b->resp = NULL;
	b->nhdr = 0;
	b->len = len;
	memcpy(b->data, data, len);
	b->data[len] = '\0';
	for (int i = 0; i < rq->nhdr; i++) {
		if (b->nhdr == BODY_HEADERS_MAX ||
		    !(b->hdr_name[b->nhdr] = strdup(rq->hdr_name[i])))
			goto fail;
		if (!(b->hdr_value[b->nhdr] = strdup(rq->hdr_value[i]))) {
			free(b->hdr_name[b->nhdr]);
			goto fail;
		}
		b->nhdr++;
	}
	return b;
fail:
	http_body_unref(b);
	return NULL;
}

static void slot_drop(cache_slot *s)
{
	if (s->body) {
		g_bytes -= s->body->len;
		http_body_unref(s->body);
	}
	free(s->key);
	memset(s, 0, sizeof(*s));
}

void http_cache_clear(void)
{
	pthread_mutex_lock(&g_lock);
	for (int i = 0; i < CACHE_SLOTS; i++)
		slot_drop(&g_slots[i]);
	pthread_mutex_unlock(&g_lock);
}

/* The request's key: "user|admin|path?k=v&k=v" with the query arguments in the order sent.
 * False when it does not fit or holds a control character (then nothing is cached). */
typedef struct key_buf {
	char *p;
	size_t len, cap;
	bool ok;
} key_buf;

static void key_add(key_buf *k, const char *s)
{
	for (; s && *s; s++) {
		if ((unsigned char)*s < 0x20 || k->len + 1 >= k->cap) {
			k->ok = false;
			return;
		}
		k->p[k->len++] = *s;
	}
	k->p[k->len] = '\0';
}

static enum MHD_Result key_arg(void *cls, enum MHD_ValueKind kind, const char *key,
                               const char *value)
{
	key_buf *k = cls;

	(void)kind;
	/* Separators are control characters, which key_add() refuses in names and values. */
	k->ok = k->ok && k->len + 2 < k->cap;
	if (k->ok)
		k->p[k->len++] = '\x01';
	key_add(k, key);
	if (value && k->ok && k->len + 2 < k->cap) {
		k->p[k->len++] = '\x02';
		key_add(k, value);
	}
	return k->ok ? MHD_YES : MHD_NO;
}

static bool request_key(http_req *rq, char *out, size_t size)
{
	key_buf k = {out, 0, size, true};
	int n = snprintf(out, size, "%lld|%d|", (long long)rq->user.id, rq->user.is_admin ? 1 : 0);

	if (n < 0 || (size_t)n >= size)
		return false;
	k.len = (size_t)n;
	key_add(&k, rq->path);
	if (k.ok && rq->conn)
		MHD_get_connection_values(rq->conn, MHD_GET_ARGUMENT_KIND, key_arg, &k);
	return k.ok;
}

/* FNV-1a of the key: the ETag tells one user's or one query's answer from another's. */
static uint32_t key_hash(const char *s)
{
	uint32_t h = 2166136261u;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h;
}

/* True when the If-None-Match header value names etag (weak comparison) or is "*". */
static bool etag_matches(const char *inm, const char *etag)
{
	const char *opaque = etag + 2; /* past W/ */
	size_t n = strlen(opaque);

	if (!inm)
		return false;
	while (*inm == ' ' || *inm == '\t')
		inm++;
	if (strcmp(inm, "*") == 0)
		return true;
	for (const char *p = strstr(inm, opaque); p; p = strstr(p + 1, opaque))
		if (p[n] == '\0' || p[n] == ',' || p[n] == ' ' || p[n] == '\t')
			return true;
	return false;
}

static void set_validators(http_req *rq, const http_cache_req *c)
{
	reply_header(rq, "ETag", c->etag);
	/* Stored by the client only to be revalidated: no-store would forbid If-None-Match. */
	reply_header(rq, "Cache-Control", "private, no-cache");
}

static cache_slot *slot_of(const char *key)
{
	for (int i = 0; i < CACHE_SLOTS; i++)
		if (g_slots[i].key && strcmp(g_slots[i].key, key) == 0)
			return &g_slots[i];
	return NULL;
}

static cache_slot *slot_free_or_lru(void)
{
	cache_slot *victim = NULL;

	for (int i = 0; i < CACHE_SLOTS; i++) {
		cache_slot *s = &g_slots[i];

		if (!s->key)
			return s;
		if (s->body && (!victim || s->used < victim->used))
			victim = s;
	}
	return victim; /* NULL: every slot is being built */
}

/* Under g_lock: the kept answer for c (a new reference), or NULL when the caller is to build it
 * (c->claimed: it must call http_cache_fill(), which wakes the others). While another thread
 * builds the same answer, waits for it (at most 5 s; then builds too). */
static http_body *find_or_claim(http_cache_req *c)
{
	struct timespec until;
	cache_slot *s;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += 5;
	for (;;) {
		s = slot_of(c->key);
		if (s && s->gen == c->gen && s->minute == c->minute) {
			if (s->body) {
				atomic_fetch_add(&s->body->refs, 1);
				s->used = ++g_clock;
				snprintf(c->etag, sizeof(c->etag), "%s", s->etag);
				return s->body;
			}
			if (pthread_cond_timedwait(&g_built, &g_lock, &until) == 0)
				continue;
			return NULL; /* the builder is slow: build too, claim nothing */
		}
		break;
	}
	if (s && s->gen > c->gen)
		return NULL; /* a newer generation is there: build, claim nothing */
	if (s)
		slot_drop(s); /* outdated */
	else
		s = slot_free_or_lru();
	if (!s)
		return NULL;
	slot_drop(s);
	s->key = strdup(c->key);
	if (!s->key)
		return NULL;
	s->gen = c->gen;
	s->minute = c->minute;
	s->used = ++g_clock;
	snprintf(s->etag, sizeof(s->etag), "%s", c->etag);
	c->claimed = true;
	return NULL;
}

bool http_cache_lookup(http_req *rq, http_cache_req *c)
{
	http_body *hit = NULL;

	c->active = false;
	c->claimed = false;
	if (!request_key(rq, c->key, sizeof(c->key)))
		return false;
	pthread_once(&g_boot_once, boot_init);
	/* The generation first: whatever is read after it is at least that new. */
	if (!rq->store_gen)
		rq->store_gen = store_generation();
	c->gen = rq->store_gen;
	c->minute = now_unix() / 60;
	snprintf(c->etag, sizeof(c->etag), "W/\"%08x-%llx-%llx-%08x\"", g_boot,
	         (unsigned long long)c->gen, (unsigned long long)c->minute, key_hash(c->key));
	c->active = true;
	if (etag_matches(req_header(rq, "If-None-Match"), c->etag)) {
		reply_empty(rq, 304);
		set_validators(rq, c);
		return true;
	}
	pthread_mutex_lock(&g_lock);
	hit = find_or_claim(c);
	pthread_mutex_unlock(&g_lock);
	if (!hit)
		return false;
	reply_shared(rq, 200, "application/json", hit);
	set_validators(rq, c);
	return true;
}

/* Under g_lock: keeps body (one reference taken) in the slot c claimed, or frees the claim
 * (body NULL), and wakes the threads waiting for it. */
static void cache_put(http_cache_req *c, http_body *body)
{
	cache_slot *s = slot_of(c->key);

	c->claimed = false;
	pthread_cond_broadcast(&g_built);
	if (!s || s->body || s->gen != c->gen || s->minute != c->minute)
		return; /* not our claim any more */
	if (!body) {
		slot_drop(s);
		return;
	}
	/* A kept answer of an older generation or minute is never served again (a lookup needs
	 * both equal, and both only grow): let it go now rather than when the LRU reaches it, so
	 * stale copies of large lists do not add to the peak RSS (issue 17 item 1). */
	for (int i = 0; i < CACHE_SLOTS; i++)
		if (g_slots[i].body && &g_slots[i] != s &&
		    (g_slots[i].gen < c->gen || g_slots[i].minute < c->minute))
			slot_drop(&g_slots[i]);
	while (g_bytes + body->len > CACHE_BYTES_MAX) {
		cache_slot *old = NULL;

		for (int i = 0; i < CACHE_SLOTS; i++)
			if (g_slots[i].body && (!old || g_slots[i].used < old->used))
				old = &g_slots[i];
		if (!old)
			break;
		slot_drop(old);
	}
	atomic_fetch_add(&body->refs, 1);
	s->body = body;
	g_bytes += body->len;
}

void http_cache_fill(http_req *rq, http_cache_req *c)
{
	http_body *body;
	const char *s;
	size_t len;

	if (!c->active)
		return;
	s = NULL;
	len = 0;
	if (rq->status == 200 && rq->resp_json) {
		s = json_compact(rq->resp_json);
		len = strlen(s);
	} else if (rq->status == 200 && rq->resp_raw && rq->content_type &&
	           strcmp(rq->content_type, "application/json") == 0) {
		s = rq->resp_raw; /* written straight (jsonw.h) */
		len = rq->resp_raw_len;
	}
	body = s ? body_new(s, len, rq) : NULL;
	if (!body) {
		if (c->claimed) {
			pthread_mutex_lock(&g_lock);
			cache_put(c, NULL);
			pthread_mutex_unlock(&g_lock);
		}
		return; /* sent as built */
	}
	/* The handler's headers travel with the body now. */
	for (int i = 0; i < rq->nhdr; i++) {
		free(rq->hdr_name[i]);
		free(rq->hdr_value[i]);
	}
	rq->nhdr = 0;
	if (c->claimed) {
		pthread_mutex_lock(&g_lock);
		cache_put(c, len <= CACHE_BODY_MAX ? body : NULL);
		pthread_mutex_unlock(&g_lock);
	}
	reply_shared(rq, 200, "application/json", body); /* takes the reference */
	set_validators(rq, c);
}

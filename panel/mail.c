/* mail.c — sends one e-mail through the SMTP smarthost with libcurl (mail.h). Never runs a
 * program; refuses addresses and subjects that could inject headers. */
#include <curl/curl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../common/util.h"
#include "mail.h"

#define MAIL_URL_MAX  512
#define MAIL_FROM_MAX 256
#define MAIL_MSG_MAX  4096

static char smtp_url[MAIL_URL_MAX], smtp_from[MAIL_FROM_MAX];
static pthread_mutex_t init_mu = PTHREAD_MUTEX_INITIALIZER;
static int init_rc = 1; /* 1: not yet */

bool mail_header_safe(const char *s)
{
	if (!s || !*s)
		return false;
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if (*p < 0x20 || *p == 0x7f)
			return false;
	return true;
}

bool mail_address_ok(const char *a)
{
	const char *at;

	if (!mail_header_safe(a) || strlen(a) > 254 || strchr(a, '<') || strchr(a, '>') ||
	    strchr(a, ' '))
		return false;
	at = strchr(a, '@');
	return at && at != a && at[1] && !strchr(at + 1, '@');
}

static bool env_copy(const char *name, char *out, size_t size)
{
	const char *v = getenv(name);

	out[0] = '\0';
	if (!v || !*v)
		return true;
	if (strlen(v) >= size) {
		log_error("%s is longer than %zu bytes", name, size - 1);
		return false;
	}
	snprintf(out, size, "%s", v);
	return true;
}

static int init_once(void)
{
	if (!env_copy("XVPS_SMTP_URL", smtp_url, sizeof(smtp_url)) ||
	    !env_copy("XVPS_SMTP_FROM", smtp_from, sizeof(smtp_from)))
		return -1;
	if (smtp_url[0] && strncmp(smtp_url, "smtp://", 7) != 0 &&
	    strncmp(smtp_url, "smtps://", 8) != 0) {
		log_error("XVPS_SMTP_URL must start with smtp:// or smtps://");
		return -1;
	}
	if (smtp_url[0] && !mail_address_ok(smtp_from)) {
		log_error("XVPS_SMTP_FROM must be an e-mail address when XVPS_SMTP_URL is set");
		return -1;
	}
	if (smtp_url[0] && curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		log_error("mail: curl_global_init failed");
		return -1;
	}
	return 0;
}

int mail_init(void)
{
	int rc;

	pthread_mutex_lock(&init_mu);
	if (init_rc == 1)
		init_rc = init_once();
	rc = init_rc;
	pthread_mutex_unlock(&init_mu);
	return rc;
}

bool mail_on(void)
{
	return smtp_url[0] != '\0';
}

typedef struct reader {
	const char *p;
	size_t left;
} reader;

static size_t read_cb(char *buf, size_t size, size_t n, void *arg)
{
	reader *r = arg;
	size_t k = size * n < r->left ? size * n : r->left;

	memcpy(buf, r->p, k);
	r->p += k;
	r->left -= k;
	return k;
}

int mail_send(const char *addr, const char *subject, const char *body, const char *msgid_tag,
              char *err, size_t err_len)
{
	char msg[MAIL_MSG_MAX], date[64], rcpt[300];
	struct curl_slist *to = NULL;
	time_t now = (time_t)now_unix();
	struct tm tm;
	reader rd;
	CURL *c;
	CURLcode cc;
	int len;

	if (!mail_on()) {
		snprintf(err, err_len, "no SMTP smarthost (XVPS_SMTP_URL) is set");
		return -1;
	}
	if (!mail_address_ok(addr)) {
		snprintf(err, err_len, "no usable e-mail address");
		return -1;
	}
	if (!mail_header_safe(subject) || !mail_header_safe(msgid_tag)) {
		snprintf(err, err_len, "the subject is not header-safe");
		return -1;
	}
	gmtime_r(&now, &tm);
	strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S +0000", &tm);
	len = snprintf(msg, sizeof(msg),
	               "Date: %s\r\nFrom: <%s>\r\nTo: <%s>\r\nSubject: %s\r\n"
	               "Message-ID: <xvps-%s@xvps>\r\nMIME-Version: 1.0\r\n"
	               "Content-Type: text/plain; charset=utf-8\r\n\r\n%s",
	               date, smtp_from, addr, subject, msgid_tag, body);
	if (len < 0 || (size_t)len >= sizeof(msg)) {
		snprintf(err, err_len, "the message is too long");
		return -1;
	}
	if (!(c = curl_easy_init())) {
		snprintf(err, err_len, "curl_easy_init failed");
		return -1;
	}
	snprintf(rcpt, sizeof(rcpt), "<%s>", addr);
	to = curl_slist_append(NULL, rcpt);
	rd = (reader){msg, (size_t)len};
	curl_easy_setopt(c, CURLOPT_URL, smtp_url);
	curl_easy_setopt(c, CURLOPT_MAIL_FROM, smtp_from);
	curl_easy_setopt(c, CURLOPT_MAIL_RCPT, to);
	curl_easy_setopt(c, CURLOPT_READFUNCTION, read_cb);
	curl_easy_setopt(c, CURLOPT_READDATA, &rd);
	curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, (long)MAIL_TIMEOUT_S);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
	cc = curl_easy_perform(c);
	curl_slist_free_all(to);
	curl_easy_cleanup(c);
	if (cc != CURLE_OK) {
		snprintf(err, err_len, "smtp: %s", curl_easy_strerror(cc));
		return -1;
	}
	return 0;
}

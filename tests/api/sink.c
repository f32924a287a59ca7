/* sink.c — the API suite's SMTP sink (see sink.h). */
#include "sink.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

pthread_mutex_t sink_mu = PTHREAD_MUTEX_INITIALIZER;
char smtp_mail[32768];
static int smtp_fd = -1;

int sink_listen(const char *url)
{
	const char *colon = url ? strrchr(url, ':') : NULL;
	struct sockaddr_in a = {.sin_family = AF_INET};
	int fd, one = 1;

	if (!colon || colon[1] < '0' || colon[1] > '9')
		return -1;
	a.sin_port = htons((uint16_t)atoi(colon + 1));
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) != 0 || listen(fd, 8) != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

void sink_say(int fd, const char *s)
{
	ssize_t r = write(fd, s, strlen(s));
	(void)r;
}

bool sink_read_line(int fd, char *out, size_t size)
{
	size_t n = 0;
	char c;

	while (read(fd, &c, 1) == 1) {
		if (c == '\n') {
			if (n && out[n - 1] == '\r')
				n--;
			out[n] = '\0';
			return true;
		}
		if (n + 1 < size)
			out[n++] = c;
	}
	return false;
}

static void *smtp_main(void *arg)
{
	(void)arg;
	for (;;) {
		int c = accept(smtp_fd, NULL, NULL);
		char line[1024];

		if (c < 0)
			return NULL;
		sink_say(c, "220 sink ESMTP\r\n");
		while (sink_read_line(c, line, sizeof(line))) {
			if (strncasecmp(line, "DATA", 4) == 0) {
				sink_say(c, "354 go on\r\n");
				while (sink_read_line(c, line, sizeof(line)) &&
				       strcmp(line, ".") != 0) {
					pthread_mutex_lock(&sink_mu);
					if (strlen(smtp_mail) + strlen(line) + 2 <
					    sizeof(smtp_mail)) {
						strcat(smtp_mail, line);
						strcat(smtp_mail, "\n");
					}
					pthread_mutex_unlock(&sink_mu);
				}
				sink_say(c, "250 kept\r\n");
			} else if (strncasecmp(line, "QUIT", 4) == 0) {
				sink_say(c, "221 bye\r\n");
				break;
			} else {
				sink_say(c,
				         "250 ok\r\n"); /* EHLO, MAIL FROM, RCPT TO, RSET, NOOP */
			}
		}
		close(c);
	}
}

bool smtp_sink_start(void)
{
	pthread_t t;

	if (smtp_fd >= 0)
		return true;
	smtp_fd = sink_listen(getenv("XVPS_SMTP_URL"));
	if (smtp_fd < 0)
		return false;
	if (pthread_create(&t, NULL, smtp_main, NULL) != 0) {
		close(smtp_fd);
		smtp_fd = -1;
		return false;
	}
	pthread_detach(t);
	return true;
}

bool sink_has(const char *buf, const char *what)
{
	bool yes;

	pthread_mutex_lock(&sink_mu);
	yes = strstr(buf, what) != NULL;
	pthread_mutex_unlock(&sink_mu);
	return yes;
}

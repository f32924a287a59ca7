/* hello.c — the benchmark's baseline: a bare libmicrohttpd server answering, from memory, the very
 * bytes xvpsd answered (files captured by tests/bench/run.sh), in xvpsd's threading mode (epoll,
 * internal thread pool of 4). GET /0 answers the first file, /1 the second, ...; any other path
 * answers "hello". Built and run only by tests/bench/run.sh; listens on 127.0.0.1 only.
 * Usage: hello PORT [BODY_FILE...]   (stops on SIGINT/SIGTERM) */
#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_BODIES 16

static struct MHD_Response *g_hello;
static struct MHD_Response *g_bodies[MAX_BODIES];
static int g_nbodies;

static enum MHD_Result on_access(void *cls, struct MHD_Connection *conn, const char *url,
                                 const char *method, const char *version, const char *upload,
                                 size_t *upload_size, void **req_cls)
{
	char *end;
	long i;

	(void)cls;
	(void)method;
	(void)version;
	(void)upload;
	/* Answer on the second call, as xvpsd does: a response queued at the first one (before
	 * MHD knows the request has no body) goes out with "Connection: close", and every request
	 * would pay a new TCP connection. */
	if (!*req_cls) {
		*req_cls = (void *)1;
		return MHD_YES;
	}
	*upload_size = 0;
	i = url[0] == '/' && url[1] ? strtol(url + 1, &end, 10) : -1;
	if (i >= 0 && i < g_nbodies && *end == '\0')
		return MHD_queue_response(conn, MHD_HTTP_OK, g_bodies[i]);
	return MHD_queue_response(conn, MHD_HTTP_OK, g_hello);
}

/* The whole file as a response (MHD copies it), or NULL. */
static struct MHD_Response *file_response(const char *path)
{
	struct MHD_Response *r = NULL;
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	long n;

	if (!f)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0 &&
	    (buf = malloc((size_t)n + 1)) && fread(buf, 1, (size_t)n, f) == (size_t)n) {
		r = MHD_create_response_from_buffer((size_t)n, buf, MHD_RESPMEM_MUST_COPY);
		if (r)
			MHD_add_response_header(r, "Content-Type", "application/json");
	}
	free(buf);
	fclose(f);
	return r;
}

int main(int argc, char **argv)
{
	struct sockaddr_in sa = {.sin_family = AF_INET};
	struct MHD_Daemon *d;
	sigset_t sigs;
	int sig, port;

	if (argc < 2 || argc - 2 > MAX_BODIES || (port = atoi(argv[1])) <= 0 || port > 65535) {
		fprintf(stderr, "usage: hello PORT [BODY_FILE...]\n");
		return 2;
	}
	for (int i = 2; i < argc; i++) {
		g_bodies[g_nbodies] = file_response(argv[i]);
		if (!g_bodies[g_nbodies]) {
			fprintf(stderr, "hello: cannot read %s\n", argv[i]);
			return 1;
		}
		g_nbodies++;
	}
	sa.sin_port = htons((uint16_t)port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	g_hello = MHD_create_response_from_buffer(6, (void *)"hello\n", MHD_RESPMEM_PERSISTENT);
	MHD_add_response_header(g_hello, "Content-Type", "text/plain");
	d = MHD_start_daemon(MHD_USE_EPOLL_INTERNAL_THREAD | MHD_USE_ERROR_LOG, (uint16_t)port,
	                     NULL, NULL, on_access, NULL, MHD_OPTION_SOCK_ADDR,
	                     (struct sockaddr *)&sa, MHD_OPTION_THREAD_POOL_SIZE, 4u,
	                     MHD_OPTION_CONNECTION_TIMEOUT, 30u, MHD_OPTION_END);
	if (!d) {
		fprintf(stderr, "hello: cannot listen on 127.0.0.1:%d\n", port);
		return 1;
	}
	sigwait(&sigs, &sig);
	MHD_stop_daemon(d);
	MHD_destroy_response(g_hello);
	for (int i = 0; i < g_nbodies; i++)
		MHD_destroy_response(g_bodies[i]);
	return 0;
}

/* hello.c — the benchmark's baseline: a bare libmicrohttpd server answering "hello" to every
 * request, in xvpsd's threading mode (epoll, internal thread pool of 4). Built and run only by
 * tests/bench/run.sh; listens on 127.0.0.1 only and does nothing else.
 * Usage: hello PORT   (stops on SIGINT/SIGTERM) */
#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct MHD_Response *g_hello;

static enum MHD_Result on_access(void *cls, struct MHD_Connection *conn, const char *url,
                                 const char *method, const char *version, const char *upload,
                                 size_t *upload_size, void **req_cls)
{
	(void)cls;
	(void)url;
	(void)method;
	(void)version;
	(void)upload;
	(void)upload_size;
	(void)req_cls;
	return MHD_queue_response(conn, MHD_HTTP_OK, g_hello);
}

int main(int argc, char **argv)
{
	struct sockaddr_in sa = {.sin_family = AF_INET};
	struct MHD_Daemon *d;
	sigset_t sigs;
	int sig, port;

	if (argc != 2 || (port = atoi(argv[1])) <= 0 || port > 65535) {
		fprintf(stderr, "usage: hello PORT\n");
		return 2;
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
	return 0;
}

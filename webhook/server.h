/* server.h - `flink-webhook serve`: the admission webhook over HTTPS (libmicrohttpd + GnuTLS).
 *
 * Threading: libmicrohttpd runs a pool of `threads` workers with epoll; each request is handled
 * entirely on one worker with request-local state (json-c trees are never shared: every worker
 * gets its own copy of the default Flink configuration). A sweeper thread enforces the
 * per-request deadline (slow clients); a watcher thread reloads the certificate. The main thread
 * waits for SIGTERM/SIGINT and then drains: stop accepting, finish in-flight requests (bounded by
 * --shutdown-timeout), exit 0. */
#ifndef FLINKOP_WEBHOOK_SERVER_H
#define FLINKOP_WEBHOOK_SERVER_H

/* Returns the process exit code. */
int server_main(int argc, char **argv);

#endif

/* http.h - the one HTTP layer under both API clients (kube.c for Kubernetes, flinkrest.c for
 * Flink): a libcurl handle per client, requests with a bounded answer, and one mapping of
 * transport failures to negative errno:
 *   -ECONNREFUSED nothing listens, -EHOSTUNREACH the host name does not resolve, -ETIMEDOUT no
 *   answer in time (or too slow: low-speed limit), -ECONNRESET the connection broke or closed
 *   without an answer, -E2BIG the answer exceeds the request's limit, -ECANCELED the caller's
 *   stop flag was raised, -ENOMEM, -EIO anything else.
 * The HTTP status is not an error here: the answer carries it and each client maps it.
 *
 * A transport hook replaces the network (unit tests run a fake API server or JobManager through
 * it, fuzz targets feed answers): the request never leaves the process.
 *
 * Threading: a struct fo_http holds one curl handle; use it from one thread at a time.
 * Ownership: the request is borrowed; the answer's body belongs to the answer
 * (fo_http_answer_free). */
#ifndef FLINKOP_HTTP_H
#define FLINKOP_HTTP_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

#include "flinkop/buf.h"

/* Server verification and client identity (PEM strings or files; strings win). */
struct fo_http_tls {
  bool insecure; /* no verification at all */
  const char *ca_file, *ca_pem;
  const char *cert_file, *cert_pem;
  const char *key_file, *key_pem;
};

struct fo_http_request {
  const char *method;
  const char *base; /* scheme://host[:port], no trailing slash */
  const char *path; /* "/...", query included */
  const char *body; /* NUL-terminated, or NULL for none */
  /* a multipart/form-data upload of the file at upload_path (streamed from disk) as the part
   * upload_field, named upload_name, of type upload_type; instead of body. The transport hook sees
   * body "@upload_field=upload_name:upload_path". */
  const char *upload_path, *upload_field, *upload_name, *upload_type;
  const char *content_type;      /* sent with a body */
  const char *const *headers;    /* more "Name: value" lines, NULL-terminated; may be NULL */
  long timeout_ms;               /* the whole request; 0 = no limit (a watch: use low_speed_s) */
  long connect_timeout_ms;       /* 0 = 10 s */
  long low_speed_s;              /* -ETIMEDOUT after this long under 1 byte/s; 0 = off */
  bool keepalive;                /* TCP keep-alive probes (long-lived connections) */
  const struct fo_http_tls *tls; /* NULL: the system's CAs */
  size_t max_answer;             /* bytes of body kept; over it: -E2BIG */
  /* Streaming: a 2xx body goes to on_chunk as it arrives instead of into the answer; a negative
   * return ends the request with that value. Other bodies are kept in the answer as usual. */
  int (*on_chunk)(void *ud, const char *data, size_t len);
  void *chunk_ud;
  atomic_bool *stop; /* raised: the request ends with -ECANCELED */
};

struct fo_http_answer {
  long code;          /* HTTP status; 0 when none came */
  struct fo_buf body; /* NUL-terminated when len > 0 */
  long retry_after;   /* Retry-After seconds, 0 when absent */
  char error[256];    /* the transport failure, as text */
};

/* A transport hook: answers `method` `path` (with `body`, may be NULL) itself. It sets *data and
 * *len to the answer's body (borrowed until the next call) and returns the HTTP status, or 0 for
 * a transport failure (seen as -ECONNREFUSED). */
typedef long (*fo_http_transport_fn)(void *ud, const char *method, const char *path,
                                     const char *body, const char **data, size_t *len);

/* NULL on ENOMEM. */
struct fo_http *fo_http_new(void);
/* NULL-safe; returns NULL. */
struct fo_http *fo_http_free(struct fo_http *h);
void fo_http_set_transport(struct fo_http *h, fo_http_transport_fn fn, void *ud);
/* True when a transport hook replaces the network. */
bool fo_http_has_transport(const struct fo_http *h);

/* Performs `rq`. Returns 0 when an answer came (any status: see ret->code), or a negative errno
 * above. *ret is always initialised; free it with fo_http_answer_free. */
int fo_http_perform(struct fo_http *h, const struct fo_http_request *rq,
                    struct fo_http_answer *ret);
void fo_http_answer_free(struct fo_http_answer *a);

#endif

#include "server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <gnutls/gnutls.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "flinkop/admission.h"
#include "flinkop/flinkconf.h"
#include "flinkop/log.h"
#include "metrics.h"
#include "certmgr.h"
#include "tlscreds.h"

/* TLS 1.2 and 1.3 only, AEAD ciphers only. */
#define TLS_PRIORITIES                                                                \
  "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2:-CIPHER-ALL:+AES-256-GCM:+AES-128-GCM:" \
  "+CHACHA20-POLY1305:-MAC-ALL:+AEAD:-KX-ALL:+ECDHE-ECDSA:+ECDHE-RSA"

/* Per connection: when the current request phase began, for the slow-client deadline. */
struct conn {
  struct conn *prev, *next;
  int fd;
  struct timespec phase_start;
  unsigned requests;
  bool killed;
  bool tls;
  bool handshaken;
  gnutls_session_t session; /* valid only while the connection is open: MHD frees it before
                               NOTIFY_CLOSED */
};

/* Per request. */
struct req {
  enum wh_endpoint ep;
  struct fo_buf body;
  struct timespec start;
  unsigned fail_code; /* set when the request was refused before its body was read */
  const char *fail_msg;
  bool counted;
  bool close_after; /* the answer closes the connection */
};

static struct {
  const struct wh_config *cfg;
  json_object *default_conf; /* master copy; workers copy it */
  pthread_mutex_t conns_mu;
  struct conn conns; /* list head */
  atomic_int inflight;
  atomic_bool shutting_down;
  atomic_bool stop_sweeper;
  int sig_pipe[2];
} S = {.conns_mu = PTHREAD_MUTEX_INITIALIZER};

/* Each worker thread's own state, freed by the key's destructor when the thread ends: a copy of
 * the default configuration (json-c trees are not shared between threads) and the review it
 * decodes request after request into (its arena is reused: no allocation per request). */
struct worker {
  json_object *conf;
  struct fo_admission_request review;
};
static pthread_key_t worker_key;
static pthread_once_t worker_once = PTHREAD_ONCE_INIT;
static void worker_free(void *p) {
  struct worker *w = p;
  if (!w) return;
  json_object_put(w->conf);
  fo_admission_request_free(&w->review);
  free(w);
}
static void worker_key_init(void) { pthread_key_create(&worker_key, worker_free); }

/* This thread's state, or NULL when it cannot be made (out of memory). */
/* The spec.serviceAccount /mutate fills in for a request's object: --default-service-account
 * where its namespace is one of --default-service-account-namespaces (any when none are given),
 * else NULL. */
static const char *default_account(const struct fo_admission_request *rq) {
  const char *sa = S.cfg->default_service_account;
  char **ns = S.cfg->default_service_account_namespaces;
  if (!sa || !*sa || !ns) return sa && *sa ? sa : NULL;
  for (; *ns; ns++)
    if (rq->namespace_ && !strcmp(*ns, rq->namespace_)) return sa;
  return NULL;
}

static struct worker *worker(void) {
  pthread_once(&worker_once, worker_key_init);
  struct worker *w = pthread_getspecific(worker_key);
  if (w) return w;
  if (!(w = calloc(1, sizeof *w))) return NULL;
  if (S.default_conf && json_object_deep_copy(S.default_conf, &w->conf, NULL) != 0) {
    free(w);
    return NULL;
  }
  if (pthread_setspecific(worker_key, w) != 0) {
    worker_free(w);
    return NULL;
  }
  return w;
}

static double elapsed(const struct timespec *a) {
  struct timespec b;
  clock_gettime(CLOCK_MONOTONIC, &b);
  return (double)(b.tv_sec - a->tv_sec) + (double)(b.tv_nsec - a->tv_nsec) / 1e9;
}

/* ---- responses ---- */

static enum MHD_Result respond_ex(struct MHD_Connection *c, unsigned code, const char *ctype,
                                  char *body_owned, bool close_after) {
  size_t n = body_owned ? strlen(body_owned) : 0;
  struct MHD_Response *r =
      MHD_create_response_from_buffer(n, body_owned ? body_owned : (char *)"",
                                      body_owned ? MHD_RESPMEM_MUST_FREE : MHD_RESPMEM_PERSISTENT);
  if (!r) {
    free(body_owned);
    return MHD_NO;
  }
  MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, ctype);
  if (code == 405) MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, "POST");
  /* Once stopping, every answer closes its connection: the client then knows not to reuse it, which
   * an idle keep-alive connection closed by the drain cannot tell it (its next request fails). */
  if (close_after || atomic_load(&S.shutting_down))
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONNECTION, "close");
  enum MHD_Result ret = MHD_queue_response(c, code, r);
  MHD_destroy_response(r);
  return ret;
}

static enum MHD_Result respond(struct MHD_Connection *c, unsigned code, const char *ctype,
                               char *body_owned) {
  return respond_ex(c, code, ctype, body_owned, false);
}

static enum MHD_Result respond_error(struct MHD_Connection *c, unsigned code, const char *msg,
                                     bool close_after) {
  struct fo_buf b;
  fo_buf_init(&b, 8192);
  fo_buf_printf(&b, "{\"code\":%u,\"error\":", code);
  fo_buf_json_string(&b, msg, strlen(msg));
  fo_buf_puts(&b, "}\n");
  return respond_ex(c, code, "application/json", fo_buf_steal(&b), close_after);
}

/* ---- connection tracking ---- */

/* Marks the connection whose client sent its Finished message: the handshake completed. */
static int on_handshake(gnutls_session_t session, unsigned htype, unsigned when, unsigned incoming,
                        const gnutls_datum_t *msg) {
  (void)when, (void)msg;
  if (htype != GNUTLS_HANDSHAKE_FINISHED || !incoming) return 0;
  pthread_mutex_lock(&S.conns_mu);
  for (struct conn *k = S.conns.next; k; k = k->next)
    if (k->session == session) {
      k->handshaken = true;
      break;
    }
  pthread_mutex_unlock(&S.conns_mu);
  return 0;
}

static void on_connection(void *cls, struct MHD_Connection *c, void **socket_context,
                          enum MHD_ConnectionNotificationCode toe) {
  (void)cls;
  if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
    struct conn *k = calloc(1, sizeof *k);
    if (!k) return;
    const union MHD_ConnectionInfo *fi =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
    k->fd = fi ? fi->connect_fd : -1;
    clock_gettime(CLOCK_MONOTONIC, &k->phase_start);
    if (!S.cfg->insecure) {
      const union MHD_ConnectionInfo *si =
          MHD_get_connection_info(c, MHD_CONNECTION_INFO_GNUTLS_SESSION);
      k->tls = true;
      k->session = si ? (gnutls_session_t)si->tls_session : NULL;
      if (k->session)
        gnutls_handshake_set_hook_function(k->session, GNUTLS_HANDSHAKE_FINISHED, GNUTLS_HOOK_POST,
                                           on_handshake);
    }
    pthread_mutex_lock(&S.conns_mu);
    k->next = S.conns.next;
    k->prev = &S.conns;
    if (S.conns.next) S.conns.next->prev = k;
    S.conns.next = k;
    pthread_mutex_unlock(&S.conns_mu);
    *socket_context = k;
    wh_metrics_connection(1);
  } else if (toe == MHD_CONNECTION_NOTIFY_CLOSED) {
    struct conn *k = *socket_context;
    if (!k) return;
    /* A TLS connection that never completed a handshake: garbage, a client that rejected our
     * certificate, or a scanner. */
    pthread_mutex_lock(&S.conns_mu);
    if (k->tls && !k->handshaken && k->requests == 0) wh_metrics_tls_failure();
    k->prev->next = k->next;
    if (k->next) k->next->prev = k->prev;
    pthread_mutex_unlock(&S.conns_mu);
    free(k);
    *socket_context = NULL;
    wh_metrics_connection(-1);
  }
}

static struct conn *conn_of(struct MHD_Connection *c) {
  const union MHD_ConnectionInfo *i =
      MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
  return i ? (struct conn *)i->socket_context : NULL;
}

/* Closes connections that took longer than --request-timeout to deliver a request (slowloris) or
 * idle keep-alive connections past it. shutdown() under conns_mu: MHD removes the entry (in
 * NOTIFY_CLOSED) before it closes the descriptor, so the fd cannot have been reused. */
static void *sweeper(void *arg) {
  (void)arg;
  while (!atomic_load(&S.stop_sweeper)) {
    struct pollfd p = {.fd = S.sig_pipe[0], .events = 0};
    poll(&p, 0, 250);
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    pthread_mutex_lock(&S.conns_mu);
    for (struct conn *k = S.conns.next; k; k = k->next) {
      double age = (double)(now.tv_sec - k->phase_start.tv_sec) +
                   (double)(now.tv_nsec - k->phase_start.tv_nsec) / 1e9;
      if (!k->killed && k->fd >= 0 && age > (double)S.cfg->request_timeout) {
        k->killed = true;
        shutdown(k->fd, SHUT_RDWR);
        if (fo_log_debug_enabled)
          fo_log("debug", "closing slow or idle connection", "\"ageSeconds\":%.1f", age);
      }
    }
    pthread_mutex_unlock(&S.conns_mu);
  }
  return NULL;
}

/* Connections accepted but not yet answered once: a client opened them to send a request. */
static int unanswered_connections(void) {
  int n = 0;
  pthread_mutex_lock(&S.conns_mu);
  for (struct conn *k = S.conns.next; k; k = k->next)
    if (k->requests == 0 && !k->killed) n++;
  pthread_mutex_unlock(&S.conns_mu);
  return n;
}

/* ---- request handling ---- */

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                         enum MHD_RequestTerminationCode toe) {
  (void)cls, (void)toe;
  struct req *q = *con_cls;
  if (!q) return;
  fo_buf_free(&q->body);
  free(q);
  *con_cls = NULL;
  atomic_fetch_sub(&S.inflight, 1);
  struct conn *k = conn_of(c);
  if (k) {
    pthread_mutex_lock(&S.conns_mu);
    clock_gettime(CLOCK_MONOTONIC, &k->phase_start);
    k->requests++;
    pthread_mutex_unlock(&S.conns_mu);
  }
}

static enum wh_endpoint endpoint_of(const char *url) {
  if (!strcmp(url, "/validate")) return EP_VALIDATE;
  if (!strcmp(url, "/mutate")) return EP_MUTATE;
  if (!strcmp(url, "/healthz")) return EP_HEALTHZ;
  if (!strcmp(url, "/readyz")) return EP_READYZ;
  if (!strcmp(url, "/metrics")) return EP_METRICS;
  return EP_OTHER;
}

static bool json_content_type(const char *ct) {
  if (!ct) return false;
  while (*ct == ' ') ct++;
  size_t n = strlen("application/json");
  return strncasecmp(ct, "application/json", n) == 0 &&
         (ct[n] == '\0' || ct[n] == ';' || ct[n] == ' ');
}

static enum MHD_Result finish(struct MHD_Connection *c, struct req *q, enum wh_verdict v,
                              unsigned code, const char *ctype, char *body) {
  wh_metrics_request(q->ep, v, code, elapsed(&q->start));
  q->counted = true;
  return respond(c, code, ctype, body);
}

static enum MHD_Result finish_error(struct MHD_Connection *c, struct req *q, unsigned code,
                                    const char *msg) {
  wh_metrics_request(q->ep, V_NONE, code, elapsed(&q->start));
  q->counted = true;
  return respond_error(c, code, msg, q->close_after);
}

/* ---- message framing ---- */

/* How the request says where its body ends. Two framings at once, or one given twice, is how a
 * request is smuggled past a proxy that reads it the other way: such a request is refused and the
 * connection closed, so nothing after it on the connection is read as a request. */
struct framing {
  unsigned content_length, transfer_encoding;
  bool other_coding;
};

static enum MHD_Result count_framing(void *cls, enum MHD_ValueKind kind, const char *key,
                                     const char *value) {
  (void)kind;
  struct framing *f = cls;
  if (!key) return MHD_YES;
  if (!strcasecmp(key, MHD_HTTP_HEADER_CONTENT_LENGTH)) {
    f->content_length++;
  } else if (!strcasecmp(key, MHD_HTTP_HEADER_TRANSFER_ENCODING)) {
    f->transfer_encoding++;
    if (!value || strcasecmp(value, "chunked") != 0) f->other_coding = true;
  }
  return MHD_YES;
}

static const char *framing_problem(struct MHD_Connection *c, unsigned *code) {
  struct framing f = {0};
  MHD_get_connection_values(c, MHD_HEADER_KIND, count_framing, &f);
  *code = 400;
  if (f.content_length && f.transfer_encoding)
    return "bad request: both Content-Length and Transfer-Encoding (the body's end would be "
           "ambiguous)";
  if (f.content_length > 1) return "bad request: more than one Content-Length";
  if (f.transfer_encoding > 1) return "bad request: more than one Transfer-Encoding";
  *code = 501;
  if (f.other_coding) return "not implemented: the only Transfer-Encoding accepted is chunked";
  return NULL;
}

static enum MHD_Result serve_plain(struct MHD_Connection *c, struct req *q) {
  if (q->ep == EP_HEALTHZ) return finish(c, q, V_NONE, 200, "text/plain", strdup("ok\n"));
  if (q->ep == EP_READYZ) {
    bool ready = !atomic_load(&S.shutting_down) && (S.cfg->insecure || wh_creds_loaded());
    return finish(c, q, V_NONE, ready ? 200 : 503, "text/plain",
                  strdup(ready ? "ready\n" : "not ready\n"));
  }
  struct fo_buf b;
  fo_buf_init(&b, 1 << 20);
  if (wh_metrics_render(&b) < 0) {
    fo_buf_free(&b);
    return finish_error(c, q, 500, "cannot render metrics");
  }
  return finish(c, q, V_NONE, 200, "text/plain; version=0.0.4", fo_buf_steal(&b));
}

static enum MHD_Result serve_admission(struct MHD_Connection *c, struct req *q) {
  struct worker *w = worker();
  if (!w) return finish_error(c, q, 500, "out of memory");
  const struct fo_admission_request *rq = &w->review;
  struct fo_parse_error pe = {0};
  struct fo_limits lim = *fo_limits_default();
  lim.doc_bytes = (size_t)S.cfg->max_body;
  int r = fo_admission_decode_again(q->body.data ? q->body.data : "", q->body.len, &lim, &w->review,
                                    &pe);
  if (r < 0) {
    char msg[1024];
    if (r == -ENOMEM) snprintf(msg, sizeof msg, "out of memory");
    else if (pe.line)
      snprintf(msg, sizeof msg, "malformed JSON at line %u column %u: %s", pe.line, pe.column,
               pe.message);
    else snprintf(msg, sizeof msg, "%s", pe.message ? pe.message : "malformed request");
    fo_parse_error_clear(&pe);
    fo_log("info", "bad request", "\"endpoint\":\"%s\",\"code\":%d,\"error\":\"%s\"",
           q->ep == EP_VALIDATE ? "validate" : "mutate", r == -ENOMEM ? 500 : 400, fo_log_str(msg));
    return finish_error(c, q, r == -ENOMEM ? 500 : 400, msg);
  }
  struct fo_admission_response resp;
  r = q->ep == EP_VALIDATE ? fo_admission_validate(rq, w->conf, &resp)
                           : fo_admission_mutate(rq, default_account(rq), &resp);
  char *out = r == 0 ? fo_admission_response_encode(&resp) : NULL;
  enum wh_verdict v = !out ? V_NONE : resp.allowed ? V_ALLOWED : V_DENIED;
  /* every decision is counted in /metrics; denials and errors are logged, admissions only at
   * debug level (a log line per admitted request costs more than judging it) */
  if (v != V_ALLOWED || fo_log_debug_enabled)
    fo_log(v == V_ALLOWED ? "debug" : "info", "admission",
           "\"endpoint\":\"%s\",\"uid\":\"%s\",\"kind\":\"%s\",\"object\":\"%s/"
           "%s\",\"operation\":\"%s\","
           "\"dryRun\":%s,\"verdict\":\"%s\",\"warnings\":%zu,\"patchOps\":%zu,\"latencyMs\":%.3f",
           q->ep == EP_VALIDATE ? "validate" : "mutate", fo_log_str(rq->uid), fo_log_str(rq->kind),
           fo_log_str(rq->namespace_), fo_log_str(rq->name), fo_log_str(rq->operation),
           rq->dry_run ? "true" : "false",
           v == V_ALLOWED  ? "allowed"
           : v == V_DENIED ? "denied"
                           : "error",
           out ? resp.warnings.n : 0, out && resp.patch ? json_object_array_length(resp.patch) : 0,
           elapsed(&q->start) * 1000);
  if (r == 0) fo_admission_response_free(&resp);
  /* the review stays with the thread: the next request reuses its memory */
  if (!out) return finish_error(c, q, 500, "out of memory");
  return finish(c, q, v, 200, "application/json", out);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **con_cls) {
  (void)cls, (void)version;
  struct req *q = *con_cls;
  if (!q) {
    q = calloc(1, sizeof *q);
    if (!q) return MHD_NO;
    clock_gettime(CLOCK_MONOTONIC, &q->start);
    q->ep = endpoint_of(url);
    fo_buf_init(&q->body, (size_t)S.cfg->max_body);
    *con_cls = q;
    atomic_fetch_add(&S.inflight, 1);
    bool post = strcmp(method, "POST") == 0,
         get = strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0;
    unsigned framing_code;
    const char *framing = framing_problem(c, &framing_code);
    if (framing) {
      q->fail_code = framing_code;
      q->fail_msg = framing;
      q->close_after = true;
    } else if (q->ep == EP_OTHER) {
      q->fail_code = 404;
      q->fail_msg =
          "not found: the webhook serves POST /validate, POST /mutate, GET /healthz, /readyz, "
          "/metrics";
    } else if ((q->ep == EP_VALIDATE || q->ep == EP_MUTATE) && !post) {
      q->fail_code = 405;
      q->fail_msg = "method not allowed: use POST";
    } else if (q->ep != EP_VALIDATE && q->ep != EP_MUTATE && !get) {
      q->fail_code = 405;
      q->fail_msg = "method not allowed: use GET";
    } else if (post && !json_content_type(MHD_lookup_connection_value(
                           c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE))) {
      q->fail_code = 415;
      q->fail_msg = "unsupported media type: the body must be application/json";
    } else if (post) {
      const char *cl =
          MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
      unsigned long long n = cl ? strtoull(cl, NULL, 10) : 0;
      if (n > (unsigned long long)S.cfg->max_body) {
        q->fail_code = 413;
        q->fail_msg = "request body too large";
      } else if (n) { /* one allocation for the body; a claim is believed up to 64 KiB only */
        fo_buf_reserve(&q->body, n < 65536 ? (size_t)n : 65536);
      }
    }
    if (q->fail_code) return finish_error(c, q, q->fail_code, q->fail_msg);
    return MHD_YES;
  }
  if (q->counted) { /* already answered; drop what is still arriving */
    *upload_data_size = 0;
    return MHD_YES;
  }
  if (*upload_data_size) {
    if (fo_buf_append(&q->body, upload_data, *upload_data_size) < 0) {
      *upload_data_size = 0;
      return finish_error(c, q, 413, "request body too large");
    }
    *upload_data_size = 0;
    return MHD_YES;
  }
  if (q->ep == EP_VALIDATE || q->ep == EP_MUTATE) return serve_admission(c, q);
  return serve_plain(c, q);
}

/* ---- start-up and shutdown ---- */

static int parse_listen(const char *s, struct sockaddr_storage *ss, socklen_t *len) {
  const char *colon = strrchr(s, ':');
  if (!colon) return -EINVAL;
  char host[256];
  size_t hn = (size_t)(colon - s);
  if (hn >= sizeof host) return -EINVAL;
  memcpy(host, s, hn);
  host[hn] = '\0';
  char *end;
  long port = strtol(colon + 1, &end, 10);
  if (*end || port < 0 || port > 65535) return -EINVAL;
  memset(ss, 0, sizeof *ss);
  if (host[0] == '[' && hn > 2 && host[hn - 1] == ']') {
    host[hn - 1] = '\0';
    struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)ss;
    if (inet_pton(AF_INET6, host + 1, &a6->sin6_addr) != 1) return -EINVAL;
    a6->sin6_family = AF_INET6;
    a6->sin6_port = htons((uint16_t)port);
    *len = sizeof *a6;
    return 0;
  }
  struct sockaddr_in *a4 = (struct sockaddr_in *)ss;
  if (inet_pton(AF_INET, hn ? host : "0.0.0.0", &a4->sin_addr) != 1) return -EINVAL;
  a4->sin_family = AF_INET;
  a4->sin_port = htons((uint16_t)port);
  *len = sizeof *a4;
  return 0;
}

static void on_signal(int sig) {
  char c = (char)sig;
  ssize_t w = write(S.sig_pipe[1], &c, 1);
  (void)w;
}

static void mhd_log(void *cls, const char *fmt, va_list ap) {
  (void)cls;
  if (!fo_log_debug_enabled) return;
  char msg[512];
  vsnprintf(msg, sizeof msg, fmt, ap);
  size_t n = strlen(msg);
  while (n && (msg[n - 1] == '\n' || msg[n - 1] == '\r')) msg[--n] = '\0';
  fo_log("debug", "libmicrohttpd", "\"detail\":\"%s\"", fo_log_str(msg));
}

static struct MHD_Daemon *start_daemon(const char *listen, bool tls, struct sockaddr_storage *ss,
                                       socklen_t sl) {
  (void)sl;
  unsigned flags =
      MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ITC | MHD_USE_ERROR_LOG;
  if (ss->ss_family == AF_INET6) flags |= MHD_USE_IPv6;
  if (tls) flags |= MHD_USE_TLS;
  const struct wh_config *cfg = S.cfg;
  struct MHD_OptionItem o[20];
  int n = 0;
  o[n++] = (struct MHD_OptionItem){MHD_OPTION_SOCK_ADDR, 0, ss};
  o[n++] = (struct MHD_OptionItem){MHD_OPTION_THREAD_POOL_SIZE, (intptr_t)cfg->threads, NULL};
  o[n++] =
      (struct MHD_OptionItem){MHD_OPTION_CONNECTION_TIMEOUT, (intptr_t)cfg->conn_timeout, NULL};
  o[n++] = (struct MHD_OptionItem){MHD_OPTION_CONNECTION_LIMIT, (intptr_t)cfg->conn_limit, NULL};
  o[n++] =
      (struct MHD_OptionItem){MHD_OPTION_CONNECTION_MEMORY_LIMIT, (intptr_t)cfg->conn_memory, NULL};
  if (cfg->per_ip_limit)
    o[n++] = (struct MHD_OptionItem){MHD_OPTION_PER_IP_CONNECTION_LIMIT,
                                     (intptr_t)cfg->per_ip_limit, NULL};
  o[n++] = (struct MHD_OptionItem){MHD_OPTION_NOTIFY_COMPLETED, (intptr_t)on_completed, NULL};
  o[n++] = (struct MHD_OptionItem){MHD_OPTION_NOTIFY_CONNECTION, (intptr_t)on_connection, NULL};
  o[n++] = (struct MHD_OptionItem){MHD_OPTION_EXTERNAL_LOGGER, (intptr_t)mhd_log, NULL};
  o[n++] = (struct MHD_OptionItem){MHD_OPTION_LISTEN_BACKLOG_SIZE, 1024, NULL};
  if (tls) {
    o[n++] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_CERT_CALLBACK, 0, (void *)wh_creds_retrieve};
    o[n++] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_PRIORITIES, 0, (void *)TLS_PRIORITIES};
  }
  o[n++] = (struct MHD_OptionItem){MHD_OPTION_END, 0, NULL};
  struct MHD_Daemon *d =
      MHD_start_daemon(flags, 0, NULL, NULL, on_request, NULL, MHD_OPTION_ARRAY, o, MHD_OPTION_END);
  if (!d)
    fo_log("error", "cannot listen", "\"listen\":\"%s\",\"error\":\"%s\"", listen, strerror(errno));
  return d;
}

int server_main(int argc, char **argv) {
  struct wh_config cfg;
  if (wh_config_parse(argc, argv, &cfg) < 0) {
    wh_config_free(&cfg);
    return 2;
  }
  S.cfg = &cfg;
  bool self_managed = !strcmp(cfg.cert_mode, "self-managed");
  struct wh_certmgr_config cm = {0};
  char *secret_ns = NULL;
  fo_log_debug_enabled = strcmp(cfg.log_level, "debug") == 0;
  int rc = 1;
  struct MHD_Daemon *d = NULL, *dm = NULL;
  pthread_t sweep;
  bool sweep_started = false;
  if (cfg.config) {
    struct fo_parse_error pe = {0};
    if (fo_conf_load_file(cfg.config, &S.default_conf, &pe) < 0) {
      fo_log("error", "cannot load the default Flink configuration",
             "\"file\":\"%s\",\"line\":%u,\"error\":\"%s\"", cfg.config, pe.line,
             pe.message ? pe.message : "");
      fo_parse_error_clear(&pe);
      goto out;
    }
  }
  struct sockaddr_storage ss = {0}, ssm = {0};
  socklen_t sl = 0, slm = 0;
  if (parse_listen(cfg.listen, &ss, &sl) < 0) {
    fprintf(stderr, "flink-webhook: --listen must be ADDR:PORT, not '%s'\n", cfg.listen);
    rc = 2;
    goto out;
  }
  if (cfg.metrics_listen && parse_listen(cfg.metrics_listen, &ssm, &slm) < 0) {
    fprintf(stderr, "flink-webhook: --metrics-listen must be ADDR:PORT, not '%s'\n",
            cfg.metrics_listen);
    rc = 2;
    goto out;
  }
  if (self_managed) {
    gnutls_global_init();
    const char *slash = strchr(cfg.cert_secret, '/');
    if (slash) secret_ns = strndup(cfg.cert_secret, (size_t)(slash - cfg.cert_secret));
    cm = (struct wh_certmgr_config){.kubeconfig = cfg.kubeconfig,
                                    .secret_namespace = secret_ns,
                                    .secret_name = slash ? slash + 1 : cfg.cert_secret,
                                    .names = cfg.cert_names,
                                    .webhook_configuration = cfg.webhook_configuration,
                                    .validity_s = cfg.cert_validity,
                                    .renew_before_s = cfg.cert_renew_before,
                                    .ca_validity_s = cfg.ca_validity,
                                    .check_interval_s = cfg.cert_check_interval,
                                    .startup_timeout_s = cfg.cert_startup_timeout};
    if (wh_certmgr_start(&cm) < 0) goto out;
  } else if (!cfg.insecure) {
    gnutls_global_init();
    if (wh_creds_init(cfg.tls_cert, cfg.tls_key, cfg.cert_poll_ms,
                      2 * (cfg.conn_timeout + cfg.request_timeout) + 10) < 0)
      goto out;
    if (wh_creds_watch_start() < 0) goto out;
  } else {
    fo_log("warning", "serving plain HTTP (--insecure): for local debugging only", NULL);
  }
  if (pipe(S.sig_pipe) < 0) goto out;
  signal(SIGPIPE, SIG_IGN);
  struct sigaction sa = {.sa_handler = on_signal};
  sigemptyset(&sa.sa_mask);
  sigaction(SIGTERM, &sa, NULL);
  sigaction(SIGINT, &sa, NULL);
  d = start_daemon(cfg.listen, !cfg.insecure, &ss, sl);
  if (!d) goto out;
  if (cfg.metrics_listen && !(dm = start_daemon(cfg.metrics_listen, false, &ssm, slm))) goto out;
  if (pthread_create(&sweep, NULL, sweeper, NULL) == 0) sweep_started = true;
  const union MHD_DaemonInfo *di = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
  fo_log("info", "serving",
         "\"listen\":\"%s\",\"port\":%u,\"tls\":%s,\"threads\":%ld,\"maxBody\":%ld", cfg.listen,
         di ? di->port : 0, cfg.insecure ? "false" : "true", cfg.threads, cfg.max_body);
  char sig = 0;
  while (read(S.sig_pipe[0], &sig, 1) < 0 && errno == EINTR) {}
  /* Not ready at once; then keep serving for --shutdown-delay: in a cluster the pod's endpoint is
   * removed a moment after the SIGTERM, and until then the API server still sends it requests
   * (a second signal ends the delay). Then drain: refuse new connections, let in-flight requests
   * finish. */
  atomic_store(&S.shutting_down, true);
  fo_log("info", "shutting down", "\"signal\":%d,\"inflight\":%d,\"delay\":%ld", sig,
         atomic_load(&S.inflight), cfg.shutdown_delay);
  if (cfg.shutdown_delay > 0) {
    struct pollfd pfd = {.fd = S.sig_pipe[0], .events = POLLIN};
    if (poll(&pfd, 1, (int)(cfg.shutdown_delay * 1000)) > 0 && read(S.sig_pipe[0], &sig, 1) == 1)
      fo_log("info", "shutdown delay cut short", "\"signal\":%d", sig);
  }
  MHD_socket lfd = MHD_quiesce_daemon(d);
  if (lfd != MHD_INVALID_SOCKET) close(lfd);
  struct timespec t0;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  /* Done when nothing is in flight or unanswered for 5 checks in a row (50 ms): a connection
   * accepted just before the quiesce is registered (NOTIFY_STARTED) a moment after its accept,
   * and must not be closed unanswered in between. */
  for (int quiet = 0; quiet < 5 && elapsed(&t0) < (double)cfg.shutdown_timeout;) {
    quiet = atomic_load(&S.inflight) > 0 || unanswered_connections() > 0 ? 0 : quiet + 1;
    struct timespec ts = {0, 10 * 1000 * 1000};
    nanosleep(&ts, NULL);
  }
  rc = atomic_load(&S.inflight) > 0 ? 1 : 0;
  if (rc)
    fo_log("error", "shutdown timeout with requests in flight", "\"inflight\":%d",
           atomic_load(&S.inflight));
out:
  if (d) MHD_stop_daemon(d);
  if (dm) MHD_stop_daemon(dm);
  atomic_store(&S.shutting_down, true);
  atomic_store(&S.stop_sweeper, true);
  if (sweep_started) pthread_join(sweep, NULL);
  if (self_managed) wh_certmgr_stop();
  if (!cfg.insecure) wh_creds_shutdown();
  free(secret_ns);
  json_object_put(S.default_conf);
  pthread_once(&worker_once, worker_key_init);
  worker_free(pthread_getspecific(worker_key)); /* this thread's state, if it made one */
  pthread_setspecific(worker_key, NULL);
  if (rc == 0) fo_log("info", "stopped", NULL);
  wh_config_free(&cfg);
  return rc;
}

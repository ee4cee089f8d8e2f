#include "flinkop/http.h"

#include <curl/curl.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct fo_http {
  CURL *curl;
  fo_http_transport_fn transport;
  void *transport_ud;
};

struct fo_http *fo_http_new(void) {
  struct fo_http *h = calloc(1, sizeof *h);
  if (!h) return NULL;
  h->curl = curl_easy_init();
  if (!h->curl) {
    free(h);
    return NULL;
  }
  return h;
}

struct fo_http *fo_http_free(struct fo_http *h) {
  if (!h) return NULL;
  curl_easy_cleanup(h->curl);
  free(h);
  return NULL;
}

void fo_http_set_transport(struct fo_http *h, fo_http_transport_fn fn, void *ud) {
  h->transport = fn;
  h->transport_ud = ud;
}

bool fo_http_has_transport(const struct fo_http *h) { return h->transport != NULL; }

void fo_http_answer_free(struct fo_http_answer *a) {
  if (!a) return;
  fo_buf_free(&a->body);
  a->code = 0;
}

/* Where the body goes: the answer (bounded), or the caller's stream once the status is 2xx. */
struct sink {
  const struct fo_http_request *rq;
  struct fo_http_answer *ans;
  CURL *curl;
  bool decided, streaming;
  int stream_rc; /* what on_chunk refused with */
};

static bool stopped(const struct fo_http_request *rq) { return rq->stop && atomic_load(rq->stop); }

static size_t on_data(char *p, size_t s, size_t n, void *ud) {
  struct sink *k = ud;
  size_t len = s * n;
  if (stopped(k->rq)) return 0;
  if (!k->decided) { /* a refused stream answers with a plain body (a Status): keep it */
    long code = 0;
    curl_easy_getinfo(k->curl, CURLINFO_RESPONSE_CODE, &code);
    k->decided = true;
    k->streaming = k->rq->on_chunk && code >= 200 && code <= 299;
  }
  if (k->streaming) {
    int r = k->rq->on_chunk(k->rq->chunk_ud, p, len);
    if (r < 0) {
      k->stream_rc = r;
      return 0;
    }
    return len;
  }
  return fo_buf_append(&k->ans->body, p, len) == 0 ? len : 0;
}

static int on_progress(void *ud, curl_off_t a, curl_off_t b, curl_off_t c, curl_off_t d) {
  (void)a, (void)b, (void)c, (void)d;
  return stopped(((struct sink *)ud)->rq) ? 1 : 0;
}

static size_t on_header(char *p, size_t s, size_t n, void *ud) {
  struct fo_http_answer *a = ud;
  size_t len = s * n;
  if (len > 12 && !strncasecmp(p, "Retry-After:", 12)) {
    long v = strtol(p + 12, NULL, 10);
    a->retry_after = v > 0 && v < 86400 ? v : 0;
  }
  return len;
}

static int map_curl(CURLcode cr) {
  switch (cr) {
  case CURLE_COULDNT_CONNECT: return -ECONNREFUSED;
  case CURLE_COULDNT_RESOLVE_HOST: return -EHOSTUNREACH;
  case CURLE_OPERATION_TIMEDOUT: return -ETIMEDOUT;
  case CURLE_PARTIAL_FILE:
  case CURLE_RECV_ERROR:
  case CURLE_SEND_ERROR:
  case CURLE_GOT_NOTHING: return -ECONNRESET;
  case CURLE_OUT_OF_MEMORY: return -ENOMEM;
  default: return -EIO;
  }
}

/* The hook's answer, through the same sink rules as the network's. */
static int perform_hook(struct fo_http *h, const struct fo_http_request *rq,
                        struct fo_http_answer *a) {
  const char *data = NULL;
  size_t len = 0;
  char up[4096];
  const char *body = rq->body;
  if (rq->upload_path) {
    snprintf(up, sizeof up, "@%s=%s:%s", rq->upload_field ? rq->upload_field : "file",
             rq->upload_name ? rq->upload_name : "", rq->upload_path);
    body = up;
  }
  long code = h->transport(h->transport_ud, rq->method, rq->path, body, &data, &len);
  if (code <= 0) {
    snprintf(a->error, sizeof a->error, "transport error");
    return -ECONNREFUSED;
  }
  a->code = code;
  if (!len) return 0;
  if (rq->on_chunk && code >= 200 && code <= 299) {
    int r = rq->on_chunk(rq->chunk_ud, data, len);
    return r < 0 ? r : 0;
  }
  if (fo_buf_append(&a->body, data, len) < 0) {
    snprintf(a->error, sizeof a->error, "answer too large");
    return -E2BIG;
  }
  return 0;
}

static void set_tls(CURL *c, const struct fo_http_tls *t) {
  if (!t) return;
  if (t->insecure) {
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 0L);
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 0L);
  } else if (t->ca_pem) {
    struct curl_blob b = {(void *)t->ca_pem, strlen(t->ca_pem), CURL_BLOB_NOCOPY};
    curl_easy_setopt(c, CURLOPT_CAINFO_BLOB, &b);
  } else if (t->ca_file) {
    curl_easy_setopt(c, CURLOPT_CAINFO, t->ca_file);
  }
  if (t->cert_pem) {
    struct curl_blob b = {(void *)t->cert_pem, strlen(t->cert_pem), CURL_BLOB_NOCOPY};
    curl_easy_setopt(c, CURLOPT_SSLCERT_BLOB, &b);
    curl_easy_setopt(c, CURLOPT_SSLCERTTYPE, "PEM");
  } else if (t->cert_file) {
    curl_easy_setopt(c, CURLOPT_SSLCERT, t->cert_file);
  }
  if (t->key_pem) {
    struct curl_blob b = {(void *)t->key_pem, strlen(t->key_pem), CURL_BLOB_NOCOPY};
    curl_easy_setopt(c, CURLOPT_SSLKEY_BLOB, &b);
    curl_easy_setopt(c, CURLOPT_SSLKEYTYPE, "PEM");
  } else if (t->key_file) {
    curl_easy_setopt(c, CURLOPT_SSLKEY, t->key_file);
  }
}

int fo_http_perform(struct fo_http *h, const struct fo_http_request *rq, struct fo_http_answer *a) {
  memset(a, 0, sizeof *a);
  fo_buf_init(&a->body, rq->max_answer ? rq->max_answer : 1);
  if (h->transport) return perform_hook(h, rq, a);
  struct fo_buf url;
  fo_buf_init(&url, 65536);
  if (fo_buf_printf(&url, "%s%s", rq->base, rq->path) < 0) return -ENOMEM;
  CURL *c = h->curl;
  curl_easy_reset(c);
  curl_easy_setopt(c, CURLOPT_URL, url.data);
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS,
                   rq->connect_timeout_ms > 0 ? rq->connect_timeout_ms : 10000L);
  if (rq->timeout_ms > 0) curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, rq->timeout_ms);
  if (rq->low_speed_s > 0) {
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, rq->low_speed_s);
  }
  if (rq->keepalive) {
    curl_easy_setopt(c, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(c, CURLOPT_TCP_KEEPIDLE, 30L);
    curl_easy_setopt(c, CURLOPT_TCP_KEEPINTVL, 10L);
  }
  struct sink sink = {.rq = rq, .ans = a, .curl = c};
  curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, rq->method);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &sink);
  curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(c, CURLOPT_HEADERDATA, a);
  if (rq->stop) {
    curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
    curl_easy_setopt(c, CURLOPT_XFERINFODATA, &sink);
  }
  set_tls(c, rq->tls);
  struct curl_slist *hd = curl_slist_append(NULL, "User-Agent: flink-operator");
  for (size_t i = 0; rq->headers && rq->headers[i]; i++) hd = curl_slist_append(hd, rq->headers[i]);
  char ct[160];
  curl_mime *mime = NULL;
  if (rq->upload_path) {
    curl_mimepart *part = NULL;
    CURLcode mc = CURLE_OUT_OF_MEMORY;
    mime = curl_mime_init(c);
    if (mime && (part = curl_mime_addpart(mime)) &&
        curl_mime_name(part, rq->upload_field ? rq->upload_field : "file") == CURLE_OK &&
        (!rq->upload_name || curl_mime_filename(part, rq->upload_name) == CURLE_OK) &&
        (!rq->upload_type || curl_mime_type(part, rq->upload_type) == CURLE_OK))
      mc = curl_mime_filedata(part, rq->upload_path); /* (it opens the file) */
    if (mc != CURLE_OK) {
      curl_mime_free(mime);
      curl_slist_free_all(hd);
      fo_buf_free(&url);
      snprintf(a->error, sizeof a->error, "cannot upload %.200s: %s", rq->upload_path,
               mc == CURLE_OUT_OF_MEMORY ? "out of memory" : "it cannot be read");
      return mc == CURLE_OUT_OF_MEMORY ? -ENOMEM : -EIO;
    }
    curl_easy_setopt(c, CURLOPT_MIMEPOST, mime);
  } else if (rq->body) {
    snprintf(ct, sizeof ct, "Content-Type: %s",
             rq->content_type ? rq->content_type : "application/json");
    hd = curl_slist_append(hd, ct);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, rq->body);
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(rq->body));
  } else if (!strcmp(rq->method, "POST")) {
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, ""); /* Content-Length: 0, not a chunked upload */
  }
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, hd);
  CURLcode cr = curl_easy_perform(c);
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &a->code);
  curl_slist_free_all(hd);
  curl_mime_free(mime);
  fo_buf_free(&url);
  if (cr == CURLE_OK) return 0;
  if (cr == CURLE_WRITE_ERROR && sink.stream_rc) return sink.stream_rc;
  if ((cr == CURLE_WRITE_ERROR || cr == CURLE_ABORTED_BY_CALLBACK) && stopped(rq)) {
    snprintf(a->error, sizeof a->error, "stopped");
    return -ECANCELED;
  }
  if (cr == CURLE_WRITE_ERROR) {
    snprintf(a->error, sizeof a->error, "answer too large");
    return -E2BIG;
  }
  snprintf(a->error, sizeof a->error, "%s", curl_easy_strerror(cr));
  return map_curl(cr);
}

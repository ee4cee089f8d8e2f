/* /healthz (alive), /readyz (caches synced), /metrics, /debug/cache ({key: resourceVersion} of
 * the FlinkDeployment cache, for tests and debugging). Plain HTTP, one internal thread. */
#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <stdlib.h>
#include <string.h>

#include "canary.h"
#include "controller.h"
#include "flinkop/clock.h"
#include "flinkop/log.h"

static struct MHD_Daemon *D;
static struct ctl *C;

static enum MHD_Result reply(struct MHD_Connection *c, unsigned code, const char *ctype,
                             char *body) {
  struct MHD_Response *r =
      MHD_create_response_from_buffer(body ? strlen(body) : 0, body ? body : (char *)"",
                                      body ? MHD_RESPMEM_MUST_FREE : MHD_RESPMEM_PERSISTENT);
  if (!r) return MHD_NO;
  MHD_add_response_header(r, "Content-Type", ctype);
  enum MHD_Result ret = MHD_queue_response(c, code, r);
  MHD_destroy_response(r);
  return ret;
}

static enum MHD_Result handler(void *cls, struct MHD_Connection *c, const char *url,
                               const char *method, const char *version, const char *data,
                               size_t *size, void **ptr) {
  (void)cls, (void)version, (void)data;
  if (!*ptr) {
    *ptr = (void *)1;
    return MHD_YES;
  }
  *size = 0;
  if (strcmp(method, "GET")) return reply(c, 405, "text/plain", strdup("method not allowed\n"));
  if (!strcmp(url, "/healthz")) {
    /* alive, and (leading) taking the canaries the watch brings within their timeout */
    char why[512];
    if (leader_valid() && !canary_healthy(fo_clock_mono(), C->canary_timeout_s, why, sizeof why))
      return reply(c, 500, "text/plain", strdup(why));
    return reply(c, 200, "text/plain", strdup("ok\n"));
  }
  if (!strcmp(url, "/readyz")) {
    bool ready = !atomic_load(&C->stopping) && ctl_caches_synced(C, NULL);
    return reply(c, ready ? 200 : 503, "text/plain", strdup(ready ? "ready\n" : "not ready\n"));
  }
  if (!strcmp(url, "/metrics")) {
    struct fo_buf b;
    fo_buf_init(&b, 4 << 20);
    if (ctl_metrics_render(C, &b) < 0) {
      fo_buf_free(&b);
      return reply(c, 500, "text/plain", strdup("cannot render metrics\n"));
    }
    return reply(c, 200, "text/plain; version=0.0.4", fo_buf_steal(&b));
  }
  if (!strcmp(url, "/debug/cache")) {
    json_object *all = json_object_new_object();
    int oom = all ? 0 : -ENOMEM;
    for (size_t i = 0; oom == 0 && i < C->n_fd; i++) {
      json_object *s = informer_snapshot(C->fd_informers[i]);
      if (!s) oom = -ENOMEM;
      else {
        json_object_object_foreach(s, k, v) fo_json_set(all, k, json_object_get(v), &oom);
      }
      json_object_put(s);
    }
    char *out = oom == 0 ? fo_json_dumps(all) : NULL;
    json_object_put(all);
    if (!out) return reply(c, 500, "text/plain", strdup("out of memory\n"));
    return reply(c, 200, "application/json", out);
  }
  return reply(c, 404, "text/plain", strdup("not found\n"));
}

int httpd_start(struct ctl *c, const char *listen) {
  C = c;
  const char *colon = strrchr(listen, ':');
  if (!colon) return -1;
  char *end;
  long port = strtol(colon + 1, &end, 10);
  if (end == colon + 1 || *end || port < 0 || port > 65535) return -1;
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
  char host[64];
  size_t hn = (size_t)(colon - listen);
  if (hn >= sizeof host) return -1;
  memcpy(host, listen, hn);
  host[hn] = '\0';
  if (inet_pton(AF_INET, hn ? host : "0.0.0.0", &a.sin_addr) != 1) return -1;
  D = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL, 0, NULL, NULL, handler,
                       NULL, MHD_OPTION_SOCK_ADDR, &a, MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)10,
                       MHD_OPTION_CONNECTION_LIMIT, (unsigned)64, MHD_OPTION_END);
  return D ? 0 : -1;
}

void httpd_stop(void) {
  if (D) MHD_stop_daemon(D);
  D = NULL;
}

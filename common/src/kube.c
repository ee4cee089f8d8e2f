#include "flinkop/kube.h"

#include "flinkop/base64.h"

#include <errno.h>
#include <libgen.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "flinkop/http.h"
#include "flinkop/watchparse.h"
#include "flinkop/yaml.h"

const struct fo_kube_resource fo_res_flinkdeployments = {"flink.apache.org", "v1beta1",
                                                         "flinkdeployments", true};
const struct fo_kube_resource fo_res_flinksessionjobs = {"flink.apache.org", "v1beta1",
                                                         "flinksessionjobs", true};
const struct fo_kube_resource fo_res_flinkstatesnapshots = {"flink.apache.org", "v1beta1",
                                                            "flinkstatesnapshots", true};
const struct fo_kube_resource fo_res_deployments = {"apps", "v1", "deployments", true};
const struct fo_kube_resource fo_res_services = {"", "v1", "services", true};
const struct fo_kube_resource fo_res_configmaps = {"", "v1", "configmaps", true};
const struct fo_kube_resource fo_res_events = {"", "v1", "events", true};
const struct fo_kube_resource fo_res_leases = {"coordination.k8s.io", "v1", "leases", true};
const struct fo_kube_resource fo_res_pods = {"", "v1", "pods", true};
const struct fo_kube_resource fo_res_secrets = {"", "v1", "secrets", true};
const struct fo_kube_resource fo_res_ingresses = {"networking.k8s.io", "v1", "ingresses", true};
const struct fo_kube_resource fo_res_validating_webhooks = {
    "admissionregistration.k8s.io", "v1", "validatingwebhookconfigurations", false};
const struct fo_kube_resource fo_res_mutating_webhooks = {"admissionregistration.k8s.io", "v1",
                                                          "mutatingwebhookconfigurations", false};

static fo_kube_observer_fn g_observer;
void fo_kube_set_observer(fo_kube_observer_fn fn) { g_observer = fn; }

/* ---- configuration ---- */

static char *read_small_file(const char *path, size_t max) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  struct fo_buf b;
  fo_buf_init(&b, max);
  char chunk[4096];
  size_t n;
  int r = fo_buf_append(&b, "", 0);
  while (r == 0 && (n = fread(chunk, 1, sizeof chunk, f)) > 0) r = fo_buf_append(&b, chunk, n);
  fclose(f);
  if (r < 0) {
    fo_buf_free(&b);
    return NULL;
  }
  return fo_buf_steal(&b);
}

static char *trim_dup(const char *s) {
  while (*s == ' ' || *s == '\n' || *s == '\r' || *s == '\t') s++;
  size_t n = strlen(s);
  while (n && (s[n - 1] == ' ' || s[n - 1] == '\n' || s[n - 1] == '\r' || s[n - 1] == '\t')) n--;
  return strndup(s, n);
}

static json_object *named(json_object *list, const char *name, const char *field) {
  size_t n =
      list && json_object_is_type(list, json_type_array) ? json_object_array_length(list) : 0;
  for (size_t i = 0; i < n; i++) {
    json_object *e = json_object_array_get_idx(list, i);
    const char *nm = fo_json_get_string(e, "name");
    if (nm && name && !strcmp(nm, name)) return fo_json_get_object(e, field);
  }
  return NULL;
}

static char *path_rel(const char *base_dir, const char *p) {
  if (!p) return NULL;
  if (p[0] == '/') return strdup(p);
  size_t n = strlen(base_dir) + strlen(p) + 2;
  char *r = malloc(n);
  if (r) snprintf(r, n, "%s/%s", base_dir, p);
  return r;
}

/* *ret = `what` + `detail` (may be NULL); returns -EINVAL. */
static int why(char **ret, const char *what, const char *detail) {
  struct fo_buf b;
  fo_buf_init(&b, 8192);
  fo_buf_puts(&b, what);
  if (detail) fo_buf_puts(&b, detail);
  *ret = fo_buf_steal(&b);
  return -EINVAL;
}

void fo_kube_config_free(struct fo_kube_config *c) {
  if (!c) return;
  free(c->server);
  free(c->ca_file);
  free(c->ca_pem);
  free(c->token);
  free(c->token_file);
  free(c->client_cert_file);
  free(c->client_key_file);
  free(c->client_cert_pem);
  free(c->client_key_pem);
  free(c->namespace_);
  memset(c, 0, sizeof *c);
}

int fo_kube_config_load(const char *path, struct fo_kube_config *cfg, char **ret_why) {
  memset(cfg, 0, sizeof *cfg);
  *ret_why = NULL;
  if (!path) path = getenv("KUBECONFIG");
  if (!path || !*path) return fo_kube_config_in_cluster(NULL, cfg, ret_why);
  char *text = read_small_file(path, 1 << 20);
  if (!text) return (why(ret_why, "cannot read kubeconfig ", path), -ENOENT);
  struct fo_yaml_doc *docs;
  size_t nd;
  struct fo_parse_error pe = {0};
  int r = fo_yaml_parse(text, strlen(text), NULL, &docs, &nd, &pe);
  free(text);
  if (r < 0 || nd != 1) {
    r = why(ret_why, "kubeconfig is not valid YAML: ", pe.message ? pe.message : "no document");
    fo_parse_error_clear(&pe);
    if (nd) fo_yaml_docs_free(docs, nd);
    return r;
  }
  json_object *kc = docs[0].root;
  char *pathcopy = strdup(path);
  const char *dir = pathcopy ? dirname(pathcopy) : ".";
  const char *cur = fo_json_get_string(kc, "current-context");
  json_object *ctx = named(fo_json_get(kc, "contexts"), cur, "context");
  json_object *cluster =
      named(fo_json_get(kc, "clusters"), fo_json_get_string(ctx, "cluster"), "cluster");
  json_object *user = named(fo_json_get(kc, "users"), fo_json_get_string(ctx, "user"), "user");
  r = 0;
  if (!ctx || !cluster)
    r = why(ret_why,
            "kubeconfig: current-context or its cluster not found: ", cur ? cur : "(none)");
  const char *server = fo_json_get_string(cluster, "server");
  if (r == 0 && !server) r = why(ret_why, "kubeconfig: the cluster has no server", NULL);
  if (r == 0) {
    size_t sl = strlen(server);
    while (sl && server[sl - 1] == '/') sl--;
    cfg->server = strndup(server, sl);
    cfg->ca_file = path_rel(dir, fo_json_get_string(cluster, "certificate-authority"));
    const char *cad = fo_json_get_string(cluster, "certificate-authority-data");
    if (cad && !(cfg->ca_pem = fo_base64_decode(cad, 1 << 20, NULL)))
      r = why(ret_why, "kubeconfig: invalid certificate-authority-data", NULL);
    json_object *ins = fo_json_get(cluster, "insecure-skip-tls-verify");
    cfg->insecure =
        ins && json_object_is_type(ins, json_type_boolean) && json_object_get_boolean(ins);
    const char *tok = fo_json_get_string(user, "token");
    if (tok) cfg->token = strdup(tok);
    cfg->token_file = path_rel(dir, fo_json_get_string(user, "tokenFile"));
    cfg->client_cert_file = path_rel(dir, fo_json_get_string(user, "client-certificate"));
    cfg->client_key_file = path_rel(dir, fo_json_get_string(user, "client-key"));
    const char *ccd = fo_json_get_string(user, "client-certificate-data");
    const char *ckd = fo_json_get_string(user, "client-key-data");
    if (r == 0 && ccd && !(cfg->client_cert_pem = fo_base64_decode(ccd, 1 << 20, NULL)))
      r = why(ret_why, "kubeconfig: invalid client-certificate-data", NULL);
    if (r == 0 && ckd && !(cfg->client_key_pem = fo_base64_decode(ckd, 1 << 20, NULL)))
      r = why(ret_why, "kubeconfig: invalid client-key-data", NULL);
    const char *ns = fo_json_get_string(ctx, "namespace");
    cfg->namespace_ = strdup(ns ? ns : "default");
  }
  free(pathcopy);
  fo_yaml_docs_free(docs, nd);
  if (r < 0) fo_kube_config_free(cfg);
  return r;
}

int fo_kube_config_in_cluster(const char *sa_dir, struct fo_kube_config *cfg, char **ret_why) {
  memset(cfg, 0, sizeof *cfg);
  *ret_why = NULL;
  const char *host = getenv("KUBERNETES_SERVICE_HOST"), *port = getenv("KUBERNETES_SERVICE_PORT");
  if (!host || !*host || !port || !*port)
    return why(ret_why, "no kubeconfig given and not in a cluster (KUBERNETES_SERVICE_HOST unset)",
               NULL);
  if (!sa_dir) sa_dir = "/var/run/secrets/kubernetes.io/serviceaccount";
  size_t n = strlen(host) + strlen(port) + 16;
  cfg->server = malloc(n);
  if (!cfg->server) return -ENOMEM;
  bool v6 = strchr(host, ':') != NULL && host[0] != '[';
  snprintf(cfg->server, n, v6 ? "https://[%s]:%s" : "https://%s:%s", host, port);
  char p[4096];
  snprintf(p, sizeof p, "%s/token", sa_dir);
  cfg->token_file = strdup(p);
  snprintf(p, sizeof p, "%s/ca.crt", sa_dir);
  cfg->ca_file = strdup(p);
  snprintf(p, sizeof p, "%s/namespace", sa_dir);
  char *ns = read_small_file(p, 4096);
  cfg->namespace_ = ns ? trim_dup(ns) : strdup("default");
  free(ns);
  return 0;
}

/* ---- client ---- */

struct fo_kube {
  const struct fo_kube_config *cfg;
  struct fo_http *http;
  struct fo_http_tls tls;
  struct fo_kube_error err;
  long timeout;
  char *token; /* current token (from file or config) */
  struct stat token_st;
  fo_kube_write_hook_fn write_hook;
  void *write_hook_ud;
};

struct fo_kube *fo_kube_new(const struct fo_kube_config *cfg) {
  struct fo_kube *k = calloc(1, sizeof *k);
  if (!k) return NULL;
  k->cfg = cfg;
  k->timeout = 30;
  k->http = fo_http_new();
  if (!k->http) {
    free(k);
    return NULL;
  }
  k->tls = (struct fo_http_tls){.insecure = cfg->insecure,
                                .ca_file = cfg->ca_file,
                                .ca_pem = cfg->ca_pem,
                                .cert_file = cfg->client_cert_file,
                                .cert_pem = cfg->client_cert_pem,
                                .key_file = cfg->client_key_file,
                                .key_pem = cfg->client_key_pem};
  return k;
}

struct fo_kube *fo_kube_free(struct fo_kube *k) {
  if (!k) return NULL;
  fo_http_free(k->http);
  free(k->token);
  free(k);
  return NULL;
}

const struct fo_kube_error *fo_kube_last_error(const struct fo_kube *k) { return &k->err; }
void fo_kube_set_timeout(struct fo_kube *k, long seconds) { k->timeout = seconds; }
void fo_kube_set_transport(struct fo_kube *k, fo_http_transport_fn fn, void *ud) {
  fo_http_set_transport(k->http, fn, ud);
}

void fo_kube_set_write_hook(struct fo_kube *k, fo_kube_write_hook_fn fn, void *ud) {
  k->write_hook = fn;
  k->write_hook_ud = ud;
}

/* Re-reads the token file when it changed (inode, size or mtime). */
static const char *current_token(struct fo_kube *k) {
  if (!k->cfg->token_file) return k->cfg->token;
  struct stat st;
  if (stat(k->cfg->token_file, &st) == 0 &&
      (!k->token || st.st_ino != k->token_st.st_ino || st.st_size != k->token_st.st_size ||
       st.st_mtim.tv_sec != k->token_st.st_mtim.tv_sec ||
       st.st_mtim.tv_nsec != k->token_st.st_mtim.tv_nsec)) {
    char *t = read_small_file(k->cfg->token_file, 64 * 1024);
    if (t) {
      free(k->token);
      k->token = trim_dup(t);
      free(t);
      k->token_st = st;
    }
  }
  return k->token;
}

int fo_kube_path(struct fo_buf *out, const struct fo_kube_resource *r, const char *ns,
                 const char *name, const char *sub, const char *query) {
  int rc = *r->group ? fo_buf_printf(out, "/apis/%s/%s", r->group, r->version)
                     : fo_buf_printf(out, "/api/%s", r->version);
  if (rc == 0 && r->namespaced && ns) rc = fo_buf_printf(out, "/namespaces/%s", ns);
  if (rc == 0) rc = fo_buf_printf(out, "/%s", r->plural);
  if (rc == 0 && name) rc = fo_buf_printf(out, "/%s", name);
  if (rc == 0 && sub) rc = fo_buf_printf(out, "/%s", sub);
  if (rc == 0 && query && *query) rc = fo_buf_printf(out, "?%s", query);
  return rc;
}

static int map_status(struct fo_kube *k, json_object *body) {
  long c = k->err.http_code;
  const char *reason = fo_json_get_string(body, "reason");
  const char *msg = fo_json_get_string(body, "message");
  snprintf(k->err.reason, sizeof k->err.reason, "%s", reason ? reason : "");
  snprintf(k->err.message, sizeof k->err.message, "%s", msg ? msg : "");
  if (c == 422) { /* append the causes */
    json_object *causes = fo_json_get_array(fo_json_get_object(body, "details"), "causes");
    size_t n = causes ? json_object_array_length(causes) : 0;
    for (size_t i = 0; i < n; i++) {
      json_object *ca = json_object_array_get_idx(causes, i);
      size_t used = strlen(k->err.message);
      snprintf(k->err.message + used, sizeof k->err.message - used, "; %s: %s",
               fo_json_get_string(ca, "field") ? fo_json_get_string(ca, "field") : "",
               fo_json_get_string(ca, "message") ? fo_json_get_string(ca, "message") : "");
    }
  }
  if (c == 404) return -ENOENT;
  if (c == 409) return reason && !strcmp(reason, "AlreadyExists") ? -EEXIST : -ESTALE;
  if (c == 410) return FO_KUBE_GONE;
  if (c == 422 || c == 400) return -EINVAL;
  if (c == 429) return -EAGAIN;
  if (c == 403) return -EPERM;
  if (c == 401) return -EACCES;
  return -EIO;
}

static bool is_write(const char *method) { return strcmp(method, "GET") != 0; }

/* One request through the HTTP layer: the answer's status and body in *ans (free it), its
 * Retry-After and any transport failure's text in k->err. `on_chunk` streams a 2xx body. */
static int perform(struct fo_kube *k, const char *method, const char *path, const char *ctype,
                   const char *body, size_t max_answer, long timeout, long low_speed_time,
                   int (*on_chunk)(void *, const char *, size_t), void *chunk_ud, atomic_bool *stop,
                   struct fo_http_answer *ans) {
  memset(&k->err, 0, sizeof k->err);
  memset(ans, 0, sizeof *ans);
  snprintf(k->err.method, sizeof k->err.method, "%s", method);
  snprintf(k->err.path, sizeof k->err.path, "%.*s", (int)strcspn(path, "?"), path);
  if (is_write(method) && k->write_hook) {
    int r = k->write_hook(k->write_hook_ud, method, path);
    if (r < 0) {
      snprintf(k->err.message, sizeof k->err.message, "write refused: %s %s", method, path);
      return r;
    }
  }
  struct fo_buf auth;
  fo_buf_init(&auth, 70000);
  const char *tok = current_token(k);
  const char *headers[4] = {"Accept: application/json", NULL, NULL, NULL};
  if (tok && fo_buf_printf(&auth, "Authorization: Bearer %s", tok) == 0) headers[1] = auth.data;
  struct fo_http_request rq = {.method = method,
                               .base = k->cfg->server,
                               .path = path,
                               .body = body,
                               .content_type = ctype,
                               .headers = headers,
                               .timeout_ms = timeout * 1000,
                               .connect_timeout_ms = 10000,
                               .low_speed_s = low_speed_time,
                               .keepalive = true,
                               .tls = &k->tls,
                               .max_answer = max_answer,
                               .on_chunk = on_chunk,
                               .chunk_ud = chunk_ud,
                               .stop = stop};
  int r = fo_http_perform(k->http, &rq, ans);
  fo_buf_free(&auth);
  k->err.http_code = ans->code;
  k->err.retry_after = ans->retry_after;
  if (g_observer) g_observer(method, r == 0 || r == -E2BIG ? ans->code : 0);
  if (r < 0) snprintf(k->err.message, sizeof k->err.message, "%s", ans->error);
  return r;
}

int fo_kube_request(struct fo_kube *k, const char *method, const char *path,
                    const char *content_type, const char *body, json_object **ret) {
  if (ret) *ret = NULL;
  struct fo_http_answer ans;
  int r = perform(k, method, path, content_type, body, 64u << 20, k->timeout, 0, NULL, NULL, NULL,
                  &ans);
  json_object *o = NULL;
  if (r == 0 && ans.body.len) {
    struct fo_parse_error pe = {0};
    struct fo_limits lim = *fo_limits_default();
    lim.doc_bytes = 64u << 20;
    lim.nodes = 10u << 20;
    lim.list_items = 1u << 20;
    if (fo_json_parse(ans.body.data, ans.body.len, &lim, &o, &pe) < 0) {
      snprintf(k->err.message, sizeof k->err.message, "unreadable answer: %s",
               pe.message ? pe.message : "");
      fo_parse_error_clear(&pe);
      r = -EIO;
    }
  }
  fo_http_answer_free(&ans);
  if (r == 0 && (k->err.http_code < 200 || k->err.http_code > 299)) {
    r = map_status(k, o);
    json_object_put(o);
    return r;
  }
  if (r == 0 && ret) *ret = o;
  else json_object_put(o);
  return r;
}

static int with_body(struct fo_kube *k, const char *method, struct fo_buf *path, const char *ctype,
                     json_object *obj, json_object **ret) {
  char *body = obj ? fo_json_dumps(obj) : NULL;
  int r = obj && !body ? -ENOMEM : fo_kube_request(k, method, path->data, ctype, body, ret);
  free(body);
  fo_buf_free(path);
  return r;
}

int fo_kube_get(struct fo_kube *k, const struct fo_kube_resource *r, const char *ns,
                const char *name, json_object **ret) {
  struct fo_buf p;
  fo_buf_init(&p, 8192);
  if (fo_kube_path(&p, r, ns, name, NULL, NULL) < 0) return -ENOMEM;
  return with_body(k, "GET", &p, NULL, NULL, ret);
}

int fo_kube_create(struct fo_kube *k, const struct fo_kube_resource *r, const char *ns,
                   json_object *obj, json_object **ret) {
  struct fo_buf p;
  fo_buf_init(&p, 8192);
  if (fo_kube_path(&p, r, ns, NULL, NULL, NULL) < 0) return -ENOMEM;
  return with_body(k, "POST", &p, "application/json", obj, ret);
}

int fo_kube_update(struct fo_kube *k, const struct fo_kube_resource *r, const char *ns,
                   const char *name, const char *sub, json_object *obj, json_object **ret) {
  struct fo_buf p;
  fo_buf_init(&p, 8192);
  if (fo_kube_path(&p, r, ns, name, sub, NULL) < 0) return -ENOMEM;
  return with_body(k, "PUT", &p, "application/json", obj, ret);
}

int fo_kube_patch(struct fo_kube *k, const struct fo_kube_resource *r, const char *ns,
                  const char *name, const char *sub, enum fo_patch_type type, json_object *patch,
                  json_object **ret) {
  struct fo_buf p;
  fo_buf_init(&p, 8192);
  if (fo_kube_path(&p, r, ns, name, sub, NULL) < 0) return -ENOMEM;
  return with_body(
      k, "PATCH", &p,
      type == FO_PATCH_MERGE ? "application/merge-patch+json" : "application/json-patch+json",
      patch, ret);
}

int fo_kube_delete(struct fo_kube *k, const struct fo_kube_resource *r, const char *ns,
                   const char *name, const char *propagation) {
  struct fo_buf p;
  fo_buf_init(&p, 8192);
  if (fo_kube_path(&p, r, ns, name, NULL, NULL) < 0) return -ENOMEM;
  json_object *opts = NULL;
  if (propagation) {
    int oom = (opts = json_object_new_object()) ? 0 : -ENOMEM;
    fo_json_set(opts, "kind", json_object_new_string("DeleteOptions"), &oom);
    fo_json_set(opts, "apiVersion", json_object_new_string("v1"), &oom);
    fo_json_set(opts, "propagationPolicy", json_object_new_string(propagation), &oom);
    if (oom < 0) { /* a delete without its propagation policy could orphan what it owns */
      json_object_put(opts);
      fo_buf_free(&p);
      return oom;
    }
  }
  int rc = with_body(k, "DELETE", &p, "application/json", opts, NULL);
  json_object_put(opts);
  return rc;
}

static int url_escape_into(struct fo_buf *b, const char *s) {
  int r = 0;
  for (; r == 0 && *s; s++) {
    unsigned char c = (unsigned char)*s;
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
        c == '.' || c == '_' || c == '~')
      r = fo_buf_putc(b, (char)c);
    else r = fo_buf_printf(b, "%%%02X", c);
  }
  return r;
}

/* Appends `prefix` (like "&name=") and the URL-escaped value; 0 or -ENOMEM/-E2BIG. */
static int query_param(struct fo_buf *q, const char *prefix, const char *value) {
  int r = fo_buf_puts(q, prefix);
  return r == 0 ? url_escape_into(q, value) : r;
}

int fo_kube_list(struct fo_kube *k, const struct fo_kube_resource *r, const char *ns,
                 const char *label_selector, long page_size, json_object **ret_items,
                 char **ret_rv) {
  *ret_items = NULL;
  *ret_rv = NULL;
  json_object *items = json_object_new_array();
  char *cont = NULL;
  int rc = 0;
  if (!items) return -ENOMEM;
  for (int page = 0; page < 100000; page++) {
    struct fo_buf q, p;
    fo_buf_init(&q, 65536);
    fo_buf_init(&p, 65536);
    int qr = fo_buf_printf(&q, "limit=%ld", page_size > 0 ? page_size : 500);
    if (qr == 0 && label_selector) qr = query_param(&q, "&labelSelector=", label_selector);
    if (qr == 0 && cont) qr = query_param(&q, "&continue=", cont);
    /* a query that could not be built whole (no memory) is not sent */
    bool whole = qr == 0 && fo_kube_path(&p, r, ns, NULL, NULL, q.data) == 0 && p.data;
    fo_buf_free(&q);
    json_object *list = NULL;
    rc = whole ? fo_kube_request(k, "GET", p.data, NULL, NULL, &list) : -ENOMEM;
    fo_buf_free(&p);
    if (rc < 0) break;
    json_object *its = fo_json_get_array(list, "items");
    size_t n = its ? json_object_array_length(its) : 0;
    for (size_t i = 0; rc == 0 && i < n; i++) /* a list missing items would look complete */
      rc = fo_json_push(items, json_object_get(json_object_array_get_idx(its, i)), NULL);
    json_object *meta = fo_json_get_object(list, "metadata");
    const char *rv = fo_json_get_string(meta, "resourceVersion");
    const char *next = fo_json_get_string(meta, "continue");
    free(*ret_rv);
    *ret_rv = rv ? strdup(rv) : NULL;
    free(cont);
    cont = next && *next ? strdup(next) : NULL;
    if ((rv && !*ret_rv) || (next && *next && !cont)) rc = -ENOMEM; /* else: a short list */
    json_object_put(list);
    if (rc < 0 || !cont) break;
  }
  free(cont);
  if (rc < 0) {
    json_object_put(items);
    free(*ret_rv);
    *ret_rv = NULL;
    return rc;
  }
  *ret_items = items;
  return 0;
}

struct watch_ctx {
  fo_kube_watch_fn fn;
  void *ud;
  char **last_rv;
  bool gone;
};

static int watch_event(void *ud, const char *type, json_object *obj) {
  struct watch_ctx *w = ud;
  if (!strcmp(type, "ERROR")) {
    int64_t code = 0;
    fo_json_as_int64(fo_json_get(obj, "code"), &code);
    if (code == 410) {
      w->gone = true;
      return FO_KUBE_GONE;
    }
    return -EIO;
  }
  const char *rv = fo_json_get_string(fo_json_get_object(obj, "metadata"), "resourceVersion");
  if (rv) {
    char *c = strdup(rv);
    if (!c) return -ENOMEM;
    free(*w->last_rv);
    *w->last_rv = c;
  }
  if (!strcmp(type, "BOOKMARK")) return 0;
  return w->fn(w->ud, type, obj);
}

static int feed_watch(void *ud, const char *data, size_t len) {
  return fo_watch_parser_feed(ud, data, len);
}

int fo_kube_watch(struct fo_kube *k, const struct fo_kube_resource *r, const char *ns,
                  const char *label_selector, char **last_rv, long timeout_seconds, size_t max_line,
                  fo_kube_watch_fn fn, void *ud, atomic_bool *stop) {
  struct fo_buf q, p;
  fo_buf_init(&q, 65536);
  fo_buf_init(&p, 65536);
  /* every part or nothing: a watch without its resourceVersion would miss events */
  int qr =
      fo_buf_printf(&q, "watch=1&allowWatchBookmarks=true&timeoutSeconds=%ld", timeout_seconds);
  if (qr == 0 && *last_rv) qr = query_param(&q, "&resourceVersion=", *last_rv);
  if (qr == 0 && label_selector) qr = query_param(&q, "&labelSelector=", label_selector);
  if (qr < 0 || fo_kube_path(&p, r, ns, NULL, NULL, q.data) < 0 || !p.data) {
    fo_buf_free(&q);
    fo_buf_free(&p);
    return -ENOMEM;
  }
  fo_buf_free(&q);
  struct watch_ctx w = {fn, ud, last_rv, false};
  struct fo_watch_parser wp;
  fo_watch_parser_init(&wp, max_line, watch_event, &w);
  struct fo_http_answer ans;
  int rc = perform(k, "GET", p.data, NULL, NULL, 1u << 20, 0, timeout_seconds + 30, feed_watch, &wp,
                   stop, &ans);
  fo_buf_free(&p);
  if (rc == 0 && (k->err.http_code < 200 || k->err.http_code > 299)) {
    json_object *st = NULL;
    struct fo_parse_error pe = {0};
    if (ans.body.len) fo_json_parse(ans.body.data, ans.body.len, NULL, &st, &pe);
    rc = map_status(k, st);
    json_object_put(st);
    fo_parse_error_clear(&pe);
  }
  fo_http_answer_free(&ans);
  if (rc < 0 && wp.error) snprintf(k->err.message, sizeof k->err.message, "%s", wp.error);
  if (w.gone) rc = FO_KUBE_GONE;
  fo_watch_parser_free(&wp);
  return rc;
}

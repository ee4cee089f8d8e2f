#include "certmgr.h"

#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "certgen.h"
#include "flinkop/base64.h"
#include "flinkop/buf.h"
#include "flinkop/kube.h"
#include "flinkop/log.h"
#include "tlscreds.h"

#define MAX_PEM (64 * 1024) /* one Secret key, decoded */
#define NAMES_ANNOTATION "flink.apache.org/webhook-names"
#define END_CERT "-----END CERTIFICATE-----"

struct material {
  char *ca_crt, *ca_key, *tls_crt, *tls_key; /* PEM, owned */
};

static struct {
  const struct wh_certmgr_config *cfg;
  struct fo_kube_config kcfg;
  struct fo_kube *kube;
  char *ns;
  char names[2048]; /* comma-joined, for the annotation */
  pthread_t thread;
  bool running;
  pthread_mutex_t mu;
  pthread_cond_t cv;
  bool stop;
  atomic_uint_fast64_t renewals, errors;
  int64_t served_not_after;
  bool bundle_missing_logged;
} g = {.mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER};

static void material_free(struct material *m) {
  free(m->ca_crt);
  free(m->ca_key);
  free(m->tls_crt);
  free(m->tls_key);
  memset(m, 0, sizeof *m);
}

static char *data_field(json_object *secret, const char *key) {
  const char *v = fo_json_get_string(fo_json_get_object(secret, "data"), key);
  return v ? fo_base64_decode(v, MAX_PEM, NULL) : NULL;
}

static int64_t not_after(const char *pem) {
  int64_t t = 0;
  const char *why;
  return pem && fo_certgen_not_after(pem, &t, &why) == 0 ? t : 0;
}

/* The first certificate of a PEM bundle (a new string), or NULL. */
static char *first_cert(const char *pem) {
  const char *end = pem ? strstr(pem, END_CERT) : NULL;
  if (!end) return NULL;
  size_t n = (size_t)(end - pem) + strlen(END_CERT);
  char *s = malloc(n + 2);
  if (!s) return NULL;
  memcpy(s, pem, n);
  s[n] = '\n';
  s[n + 1] = '\0';
  return s;
}

enum plan { KEEP, NEW_SERVING, NEW_CA };

/* What the Secret's material needs now; *why says why it is not KEEP. */
static enum plan plan_for(const struct material *m, const char *names_ann, int64_t now,
                          const char **why) {
  const struct wh_certmgr_config *c = g.cfg;
  const char *w;
  if (!m->ca_crt || !m->ca_key) return (*why = "no CA in the Secret", NEW_CA);
  if (fo_certgen_verify(m->ca_crt, m->ca_key, m->ca_crt, &w) < 0)
    return (*why = "the CA in the Secret is unusable", NEW_CA);
  if (not_after(m->ca_crt) - now < c->validity_s + c->renew_before_s)
    return (*why = "the CA expires soon", NEW_CA);
  if (!m->tls_crt || !m->tls_key)
    return (*why = "no serving certificate in the Secret", NEW_SERVING);
  if (fo_certgen_verify(m->tls_crt, m->tls_key, m->ca_crt, &w) < 0) return (*why = w, NEW_SERVING);
  if (not_after(m->tls_crt) - now < c->renew_before_s)
    return (*why = "the serving certificate expires soon", NEW_SERVING);
  if (!names_ann || strcmp(names_ann, g.names))
    return (*why = "the serving names changed", NEW_SERVING);
  return KEEP;
}

static int issue_serving(struct material *m) {
  const struct wh_certmgr_config *c = g.cfg;
  const char *dns[64] = {0}, *ips[64] = {0};
  size_t nd = 0, ni = 0;
  unsigned char addr[16];
  for (char *const *p = c->names; p && *p && nd < 64 && ni < 64; p++) {
    if (inet_pton(AF_INET, *p, addr) == 1 || inet_pton(AF_INET6, *p, addr) == 1) ips[ni++] = *p;
    else dns[nd++] = *p;
  }
  if (nd + ni == 0) return -EINVAL;
  struct fo_cert_request rq = {.common_name = nd ? dns[0] : ips[0],
                               .dns = dns,
                               .n_dns = nd,
                               .ips = ips,
                               .n_ips = ni,
                               .seconds = c->validity_s};
  struct fo_buf crt, key;
  fo_buf_init(&crt, MAX_PEM);
  fo_buf_init(&key, MAX_PEM);
  const char *why;
  int r = fo_certgen_serving(&rq, m->ca_crt, m->ca_key, &crt, &key, &why);
  if (r < 0) {
    fo_log("error", "cannot issue the serving certificate", "\"error\":\"%s\"", why);
    fo_buf_free(&crt);
    fo_buf_free(&key);
    return r;
  }
  free(m->tls_crt);
  free(m->tls_key);
  m->tls_crt = fo_buf_steal(&crt);
  m->tls_key = fo_buf_steal(&key);
  return 0;
}

static int issue_ca(struct material *m, int64_t now) {
  struct fo_cert_request rq = {.common_name = "flink-operator-webhook-ca",
                               .seconds = g.cfg->ca_validity_s};
  struct fo_buf crt, key;
  fo_buf_init(&crt, 2 * MAX_PEM);
  fo_buf_init(&key, MAX_PEM);
  const char *why;
  int r = fo_certgen_ca(&rq, &crt, &key, &why);
  /* The previous CA stays in the bundle while it is valid: clients that still hold the old
   * bundle keep verifying until they see the new one. */
  char *old = first_cert(m->ca_crt);
  if (r == 0 && old && not_after(old) > now) r = fo_buf_puts(&crt, old);
  free(old);
  if (r < 0) {
    fo_log("error", "cannot create the webhook CA", "\"error\":\"%s\"", why);
    fo_buf_free(&crt);
    fo_buf_free(&key);
    return r;
  }
  free(m->ca_crt);
  free(m->ca_key);
  m->ca_crt = fo_buf_steal(&crt);
  m->ca_key = fo_buf_steal(&key);
  return issue_serving(m);
}

static int put_data(json_object *secret, const struct material *m) {
  json_object *data = json_object_new_object();
  if (!data) return -ENOMEM;
  if (fo_json_set(secret, "data", data, NULL) < 0) return -ENOMEM;
  const char *keys[] = {"ca.crt", "ca.key", "tls.crt", "tls.key"};
  const char *vals[] = {m->ca_crt, m->ca_key, m->tls_crt, m->tls_key};
  for (int i = 0; i < 4; i++) {
    char *b = fo_base64_encode(vals[i], strlen(vals[i]));
    if (!b) return -ENOMEM;
    int r = fo_json_set(data, keys[i], json_object_new_string(b), NULL);
    free(b);
    if (r < 0) return r; /* a Secret missing a key must never be written */
  }
  json_object *md = fo_json_ensure_object(secret, "metadata");
  json_object *ann = md ? fo_json_ensure_object(md, "annotations") : NULL;
  if (!ann) return -ENOMEM;
  return fo_json_set(ann, NAMES_ANNOTATION, json_object_new_string(g.names), NULL);
}

static json_object *new_secret(const struct material *m) {
  json_object *s = json_object_new_object();
  if (!s) return NULL;
  int oom = 0;
  fo_json_set(s, "apiVersion", json_object_new_string("v1"), &oom);
  fo_json_set(s, "kind", json_object_new_string("Secret"), &oom);
  fo_json_set(s, "type", json_object_new_string("kubernetes.io/tls"), &oom);
  json_object *md = fo_json_ensure_object(s, "metadata");
  json_object *labels = md ? fo_json_ensure_object(md, "labels") : NULL;
  if (!labels || put_data(s, m) < 0) return json_object_put(s), NULL;
  fo_json_set(md, "name", json_object_new_string(g.cfg->secret_name), &oom);
  fo_json_set(md, "namespace", json_object_new_string(g.ns), &oom);
  fo_json_set(labels, "app.kubernetes.io/managed-by", json_object_new_string("flink-webhook"),
              &oom);
  if (oom < 0) return json_object_put(s), NULL;
  return s;
}

static const char *kerr(void) { return fo_log_str(fo_kube_last_error(g.kube)->message); }

/* Step 1 and 2: brings the Secret up to date. *m receives its material, *rv its resourceVersion.
 * Returns 0, -EAGAIN when another replica wrote first (re-run), or a negative errno. */
static int ensure_secret(struct material *m, char **rv) {
  json_object *sec = NULL;
  int64_t now = (int64_t)time(NULL);
  const char *why = NULL;
  int r = fo_kube_get(g.kube, &fo_res_secrets, g.ns, g.cfg->secret_name, &sec);
  if (r == -ENOENT) {
    if ((r = issue_ca(m, now)) < 0) return r;
    json_object *obj = new_secret(m), *made = NULL;
    if (!obj) return -ENOMEM;
    r = fo_kube_create(g.kube, &fo_res_secrets, g.ns, obj, &made);
    json_object_put(obj);
    if (r == -EEXIST) return -EAGAIN;
    if (r < 0) {
      fo_log("error", "cannot create the certificate Secret",
             "\"secret\":\"%s/%s\",\"error\":\"%s\"", g.ns, g.cfg->secret_name, kerr());
      return r;
    }
    fo_log("info", "created the webhook CA and serving certificate", "\"secret\":\"%s/%s\"", g.ns,
           g.cfg->secret_name);
    atomic_fetch_add(&g.renewals, 1);
    const char *v = fo_json_get_string(fo_json_get_object(made, "metadata"), "resourceVersion");
    *rv = v ? strdup(v) : NULL;
    json_object_put(made);
    return 0;
  }
  if (r < 0) {
    fo_log("error", "cannot read the certificate Secret", "\"secret\":\"%s/%s\",\"error\":\"%s\"",
           g.ns, g.cfg->secret_name, kerr());
    return r;
  }
  m->ca_crt = data_field(sec, "ca.crt");
  m->ca_key = data_field(sec, "ca.key");
  m->tls_crt = data_field(sec, "tls.crt");
  m->tls_key = data_field(sec, "tls.key");
  json_object *md = fo_json_get_object(sec, "metadata");
  enum plan p = plan_for(
      m, fo_json_get_string(fo_json_get_object(md, "annotations"), NAMES_ANNOTATION), now, &why);
  if (p != KEEP) {
    r = p == NEW_CA ? issue_ca(m, now) : issue_serving(m);
    if (r == 0) r = put_data(sec, m);
    json_object *upd = NULL;
    if (r == 0)
      r = fo_kube_update(g.kube, &fo_res_secrets, g.ns, g.cfg->secret_name, NULL, sec, &upd);
    if (r == -ESTALE) {
      json_object_put(sec);
      return -EAGAIN;
    }
    if (r < 0) {
      fo_log("error", "cannot renew the certificate Secret",
             "\"secret\":\"%s/%s\",\"error\":\"%s\"", g.ns, g.cfg->secret_name, kerr());
      json_object_put(sec);
      return r;
    }
    fo_log("info",
           p == NEW_CA ? "renewed the webhook CA and serving certificate"
                       : "renewed the serving certificate",
           "\"secret\":\"%s/%s\",\"reason\":\"%s\",\"notAfter\":%lld", g.ns, g.cfg->secret_name,
           why, (long long)not_after(m->tls_crt));
    atomic_fetch_add(&g.renewals, 1);
    json_object_put(sec);
    sec = upd;
    md = fo_json_get_object(sec, "metadata");
  }
  const char *v = fo_json_get_string(md, "resourceVersion");
  *rv = v ? strdup(v) : NULL;
  json_object_put(sec);
  return 0;
}

/* Step 3 for one configuration: caBundle of every webhook in it = `b64`. */
static int sync_bundle(const struct fo_kube_resource *res, const char *b64) {
  for (int attempt = 0; attempt < 3; attempt++) {
    json_object *cfg = NULL;
    int r = fo_kube_get(g.kube, res, NULL, g.cfg->webhook_configuration, &cfg);
    if (r < 0) return r;
    json_object *hooks = fo_json_get_array(cfg, "webhooks");
    size_t n = hooks ? json_object_array_length(hooks) : 0;
    bool changed = false;
    for (size_t i = 0; r == 0 && i < n; i++) {
      json_object *hook = json_object_array_get_idx(hooks, i);
      if (!json_object_is_type(hook, json_type_object)) continue;
      json_object *cc = fo_json_ensure_object(hook, "clientConfig");
      const char *cur = cc ? fo_json_get_string(cc, "caBundle") : NULL;
      bool differs = !cur || strcmp(cur, b64) != 0; /* (setting frees `cur`) */
      /* a configuration whose bundle could not be set everywhere is not written */
      if (!cc) r = -ENOMEM;
      else if (differs) r = fo_json_set(cc, "caBundle", json_object_new_string(b64), NULL);
      if (r == 0 && differs) changed = true;
    }
    if (r < 0) {
      json_object_put(cfg);
      return r;
    }
    if (changed) {
      r = fo_kube_update(g.kube, res, NULL, g.cfg->webhook_configuration, NULL, cfg, NULL);
      if (r == 0)
        fo_log("info", "wrote the CA bundle", "\"configuration\":\"%s/%s\",\"webhooks\":%zu",
               res->plural, g.cfg->webhook_configuration, n);
    }
    json_object_put(cfg);
    if (r != -ESTALE) return r;
  }
  return -ESTALE;
}

static int same_secret_version(const char *rv) {
  json_object *sec = NULL;
  int r = fo_kube_get(g.kube, &fo_res_secrets, g.ns, g.cfg->secret_name, &sec);
  if (r < 0) return r;
  const char *now = fo_json_get_string(fo_json_get_object(sec, "metadata"), "resourceVersion");
  r = now && rv && !strcmp(now, rv) ? 0 : -EAGAIN;
  json_object_put(sec);
  return r;
}

/* One round. Returns 0 or a negative errno (logged). */
static int round_once(void) {
  struct material m = {0};
  char *rv = NULL;
  int r = -EAGAIN;
  for (int attempt = 0; attempt < 4 && r == -EAGAIN; attempt++) {
    material_free(&m);
    free(rv);
    rv = NULL;
    r = ensure_secret(&m, &rv);
    if (r == 0 && g.cfg->webhook_configuration) {
      char *b64 = fo_base64_encode(m.ca_crt, strlen(m.ca_crt));
      r = b64 ? same_secret_version(rv) : -ENOMEM;
      int rv1 = r == 0 ? sync_bundle(&fo_res_validating_webhooks, b64) : 0;
      int rv2 = r == 0 ? sync_bundle(&fo_res_mutating_webhooks, b64) : 0;
      free(b64);
      if (r == 0 && (rv1 == -ENOENT || rv2 == -ENOENT)) {
        if (!g.bundle_missing_logged)
          fo_log("warning",
                 "webhook configuration not found; its CA bundle is written once it exists",
                 "\"name\":\"%s\"", g.cfg->webhook_configuration);
        g.bundle_missing_logged = true;
      } else if (r == 0 && (rv1 < 0 || rv2 < 0)) {
        fo_log("error", "cannot write the CA bundle", "\"name\":\"%s\",\"error\":\"%s\"",
               g.cfg->webhook_configuration, kerr());
        r = rv1 < 0 ? rv1 : rv2;
      } else if (r == 0) {
        g.bundle_missing_logged = false;
      }
    }
  }
  /* Serve the pair once its CA is published; serve it anyway when there is nothing valid to serve.
   */
  int64_t now = (int64_t)time(NULL);
  bool nothing_valid = g.served_not_after <= now + g.cfg->check_interval_s;
  if (m.tls_crt && m.tls_key && (r == 0 || nothing_valid)) {
    if (wh_creds_install_pem(m.tls_crt, m.tls_key) >= 0) g.served_not_after = not_after(m.tls_crt);
  }
  if (r < 0) atomic_fetch_add(&g.errors, 1);
  material_free(&m);
  free(rv);
  return r;
}

static long next_wait(void) {
  int64_t now = (int64_t)time(NULL);
  int64_t due = g.served_not_after - g.cfg->renew_before_s - now;
  long w = g.cfg->check_interval_s;
  if (due >= 0 && due < w) w = (long)due + 1;
  return w < 1 ? 1 : w;
}

static void *loop(void *arg) {
  (void)arg;
  long wait_s = next_wait();
  pthread_mutex_lock(&g.mu);
  while (!g.stop) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += wait_s;
    pthread_cond_timedwait(&g.cv, &g.mu, &ts);
    if (g.stop) break;
    pthread_mutex_unlock(&g.mu);
    int r = round_once();
    wh_creds_tick();
    wait_s = r < 0 ? 2 : next_wait();
    pthread_mutex_lock(&g.mu);
  }
  pthread_mutex_unlock(&g.mu);
  return NULL;
}

int wh_certmgr_start(const struct wh_certmgr_config *cfg) {
  char *why = NULL;
  g.cfg = cfg;
  if (fo_kube_config_load(cfg->kubeconfig, &g.kcfg, &why) < 0) {
    fo_log("error", "self-managed certificates need API access", "\"error\":\"%s\"",
           why ? why : "");
    free(why);
    return -EINVAL;
  }
  g.ns = strdup(cfg->secret_namespace ? cfg->secret_namespace
                : g.kcfg.namespace_   ? g.kcfg.namespace_
                                      : "default");
  g.kube = fo_kube_new(&g.kcfg);
  if (!g.ns || !g.kube) return -ENOMEM;
  fo_kube_set_timeout(g.kube, 10);
  size_t k = 0;
  for (char *const *p = cfg->names; p && *p; p++) {
    int n = snprintf(g.names + k, sizeof g.names - k, "%s%s", k ? "," : "", *p);
    if (n < 0 || (size_t)n >= sizeof g.names - k) return -E2BIG;
    k += (size_t)n;
  }
  if (!k) {
    fo_log("error", "self-managed certificates need at least one name (--cert-names)", NULL);
    return -EINVAL;
  }
  wh_creds_init_memory(cfg->check_interval_s + 120);
  time_t deadline = time(NULL) + cfg->startup_timeout_s;
  while (round_once() < 0 || !wh_creds_loaded()) {
    if (time(NULL) >= deadline) {
      if (wh_creds_loaded()) break; /* serving; the loop keeps trying to publish the bundle */
      fo_log("error", "no serving certificate within the start-up timeout", "\"seconds\":%ld",
             cfg->startup_timeout_s);
      return -ETIMEDOUT;
    }
    struct timespec ts = {2, 0};
    nanosleep(&ts, NULL);
  }
  if (pthread_create(&g.thread, NULL, loop, NULL) != 0) return -errno;
  g.running = true;
  return 0;
}

void wh_certmgr_stop(void) {
  if (g.running) {
    pthread_mutex_lock(&g.mu);
    g.stop = true;
    pthread_cond_signal(&g.cv);
    pthread_mutex_unlock(&g.mu);
    pthread_join(g.thread, NULL);
    g.running = false;
  }
  g.kube = fo_kube_free(g.kube);
  fo_kube_config_free(&g.kcfg);
  free(g.ns);
  g.ns = NULL;
}

uint64_t wh_certmgr_renewals(void) { return atomic_load(&g.renewals); }
uint64_t wh_certmgr_errors(void) { return atomic_load(&g.errors); }

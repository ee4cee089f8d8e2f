#include "tlscreds.h"

#include <errno.h>
#include <gnutls/x509.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "flinkop/log.h"

#define MAX_CHAIN 8

struct pair {
  gnutls_pcert_st pcerts[MAX_CHAIN];
  unsigned n;
  gnutls_privkey_t key;
  int64_t not_after;
  char serial[64];
  time_t retired_at;
  struct pair *next_retired;
};

static struct {
  pthread_mutex_t mu;
  struct pair *current;
  struct pair *retired;
  char *cert_path, *key_path;
  long poll_ms, keep_retired_s;
  struct stat cert_st, key_st;
  pthread_t thread;
  bool running;
  pthread_cond_t stop_cv;
  bool stop;
  uint64_t reloads;
} g = {.mu = PTHREAD_MUTEX_INITIALIZER, .stop_cv = PTHREAD_COND_INITIALIZER};

static void pair_free(struct pair *p) {
  if (!p) return;
  for (unsigned i = 0; i < p->n; i++) gnutls_pcert_deinit(&p->pcerts[i]);
  if (p->key) gnutls_privkey_deinit(p->key);
  free(p);
}

static int read_file(const char *path, gnutls_datum_t *out) {
  out->data = NULL;
  out->size = 0;
  return gnutls_load_file(path, out) < 0 ? -EIO : 0;
}

static void hex(const unsigned char *b, size_t n, char *out, size_t outsz) {
  size_t k = 0;
  for (size_t i = 0; i < n && k + 3 < outsz; i++)
    k += (size_t)snprintf(out + k, outsz - k, "%02x", b[i]);
  out[k] = '\0';
}

/* Checks a pair given as PEM. On failure logs `why` (naming `label`) and returns NULL. */
static struct pair *pair_from_pem(gnutls_datum_t *cd, gnutls_datum_t *kd, const char *label) {
  struct pair *p = calloc(1, sizeof *p);
  gnutls_x509_crt_t crt = NULL;
  gnutls_x509_privkey_t xkey = NULL;
  const char *why = NULL;
  int r;
  if (!p) return NULL;
  p->n = MAX_CHAIN;
  r = gnutls_pcert_list_import_x509_raw(p->pcerts, &p->n, cd, GNUTLS_X509_FMT_PEM, 0);
  if (r < 0 || p->n == 0) {
    p->n = 0;
    why = "the certificate file holds no valid PEM certificate";
    goto fail;
  }
  if (gnutls_privkey_init(&p->key) < 0) {
    why = "out of memory";
    goto fail;
  }
  if (gnutls_privkey_import_x509_raw(p->key, kd, GNUTLS_X509_FMT_PEM, NULL, 0) < 0) {
    gnutls_privkey_deinit(p->key);
    p->key = NULL;
    why = "the key file holds no valid PEM private key";
    goto fail;
  }
  if (gnutls_x509_crt_init(&crt) < 0 || gnutls_x509_crt_import(crt, cd, GNUTLS_X509_FMT_PEM) < 0) {
    why = "cannot parse the certificate";
    goto fail;
  }
  unsigned char id1[64], id2[64];
  size_t n1 = sizeof id1, n2 = sizeof id2;
  if (gnutls_privkey_export_x509(p->key, &xkey) < 0 ||
      gnutls_x509_crt_get_key_id(crt, 0, id1, &n1) < 0 ||
      gnutls_x509_privkey_get_key_id(xkey, 0, id2, &n2) < 0) {
    why = "cannot compare the key with the certificate";
    goto fail;
  }
  if (n1 != n2 || memcmp(id1, id2, n1) != 0) {
    why = "the private key does not match the certificate";
    goto fail;
  }
  time_t now = time(NULL);
  time_t na = gnutls_x509_crt_get_expiration_time(crt);
  time_t nb = gnutls_x509_crt_get_activation_time(crt);
  if (na == (time_t)-1 || na <= now) {
    why = "the certificate has expired";
    goto fail;
  }
  if (nb != (time_t)-1 && nb > now + 300) {
    why = "the certificate is not valid yet";
    goto fail;
  }
  p->not_after = (int64_t)na;
  unsigned char serial[40];
  size_t sn = sizeof serial;
  if (gnutls_x509_crt_get_serial(crt, serial, &sn) == 0)
    hex(serial, sn, p->serial, sizeof p->serial);
  gnutls_x509_crt_deinit(crt);
  gnutls_x509_privkey_deinit(xkey);
  return p;
fail:
  fo_log("error", "tls certificate refused", "\"source\":\"%s\",\"reason\":\"%s\"",
         fo_log_str(label), fo_log_str(why));
  if (crt) gnutls_x509_crt_deinit(crt);
  if (xkey) gnutls_x509_privkey_deinit(xkey);
  pair_free(p);
  return NULL;
}

/* Loads and checks a pair from files. On failure logs why and returns NULL. */
static struct pair *pair_load(const char *cert_path, const char *key_path) {
  gnutls_datum_t cd = {0}, kd = {0};
  struct pair *p = NULL;
  char label[512];
  snprintf(label, sizeof label, "%s + %s", cert_path, key_path);
  if (read_file(cert_path, &cd) < 0 || read_file(key_path, &kd) < 0)
    fo_log("error", "tls certificate refused",
           "\"source\":\"%s\",\"reason\":\"cannot read the files\"", fo_log_str(label));
  else p = pair_from_pem(&cd, &kd, label);
  gnutls_free(cd.data);
  gnutls_free(kd.data);
  return p;
}

static bool same_file(const struct stat *a, const struct stat *b) {
  return a->st_ino == b->st_ino && a->st_dev == b->st_dev && a->st_size == b->st_size &&
         a->st_mtim.tv_sec == b->st_mtim.tv_sec && a->st_mtim.tv_nsec == b->st_mtim.tv_nsec;
}

int wh_creds_init(const char *cert_path, const char *key_path, long poll_ms, long keep_retired_s) {
  g.cert_path = strdup(cert_path);
  g.key_path = strdup(key_path);
  g.poll_ms = poll_ms;
  g.keep_retired_s = keep_retired_s;
  if (!g.cert_path || !g.key_path) return -ENOMEM;
  stat(cert_path, &g.cert_st);
  stat(key_path, &g.key_st);
  struct pair *p = pair_load(cert_path, key_path);
  if (!p) return -EINVAL;
  g.current = p;
  fo_log("info", "tls certificate loaded", "\"serial\":\"%s\",\"notAfter\":%lld", p->serial,
         (long long)p->not_after);
  return 0;
}

static void free_old_retired(bool all) {
  time_t now = time(NULL);
  pthread_mutex_lock(&g.mu);
  struct pair **pp = &g.retired;
  while (*pp) {
    struct pair *p = *pp;
    if (all || now - p->retired_at > g.keep_retired_s) {
      *pp = p->next_retired;
      pair_free(p);
    } else {
      pp = &p->next_retired;
    }
  }
  pthread_mutex_unlock(&g.mu);
}

/* Makes `p` current; the previous pair retires. */
static void install(struct pair *p, const char *how) {
  pthread_mutex_lock(&g.mu);
  struct pair *old = g.current;
  g.current = p;
  if (old) {
    g.reloads++;
    old->retired_at = time(NULL);
    old->next_retired = g.retired;
    g.retired = old;
  }
  pthread_mutex_unlock(&g.mu);
  fo_log("info", how, "\"serial\":\"%s\",\"notAfter\":%lld", p->serial, (long long)p->not_after);
}

int wh_creds_install_pem(const char *cert_pem, const char *key_pem) {
  gnutls_datum_t cd = {(unsigned char *)cert_pem, (unsigned)strlen(cert_pem)};
  gnutls_datum_t kd = {(unsigned char *)key_pem, (unsigned)strlen(key_pem)};
  struct pair *p = pair_from_pem(&cd, &kd, "secret");
  if (!p) return -EINVAL;
  pthread_mutex_lock(&g.mu);
  bool same = g.current && !strcmp(g.current->serial, p->serial);
  pthread_mutex_unlock(&g.mu);
  if (same) {
    pair_free(p);
    return 0;
  }
  install(p, g.current ? "tls certificate reloaded" : "tls certificate loaded");
  return 1;
}

void wh_creds_init_memory(long keep_retired_s) { g.keep_retired_s = keep_retired_s; }

void wh_creds_tick(void) { free_old_retired(false); }

static void check_once(void) {
  struct stat cs, ks;
  if (stat(g.cert_path, &cs) < 0 || stat(g.key_path, &ks) < 0) return; /* mid-swap: next round */
  if (same_file(&cs, &g.cert_st) && same_file(&ks, &g.key_st)) return;
  g.cert_st = cs;
  g.key_st = ks;
  struct pair *p = pair_load(g.cert_path, g.key_path);
  if (!p) return; /* logged; the old pair stays */
  install(p, "tls certificate reloaded");
}

static void *watch(void *arg) {
  (void)arg;
  pthread_mutex_lock(&g.mu);
  while (!g.stop) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += g.poll_ms / 1000;
    ts.tv_nsec += (g.poll_ms % 1000) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
      ts.tv_sec++;
      ts.tv_nsec -= 1000000000L;
    }
    pthread_cond_timedwait(&g.stop_cv, &g.mu, &ts);
    if (g.stop) break;
    pthread_mutex_unlock(&g.mu);
    check_once();
    free_old_retired(false);
    pthread_mutex_lock(&g.mu);
  }
  pthread_mutex_unlock(&g.mu);
  return NULL;
}

int wh_creds_watch_start(void) {
  if (pthread_create(&g.thread, NULL, watch, NULL) != 0) return -errno;
  g.running = true;
  return 0;
}

void wh_creds_shutdown(void) {
  if (g.running) {
    pthread_mutex_lock(&g.mu);
    g.stop = true;
    pthread_cond_signal(&g.stop_cv);
    pthread_mutex_unlock(&g.mu);
    pthread_join(g.thread, NULL);
    g.running = false;
  }
  free_old_retired(true);
  pair_free(g.current);
  g.current = NULL;
  free(g.cert_path);
  free(g.key_path);
  g.cert_path = g.key_path = NULL;
}

int wh_creds_retrieve(gnutls_session_t session, const gnutls_datum_t *req_ca_dn, int nreqs,
                      const gnutls_pk_algorithm_t *pk_algos, int pk_algos_length,
                      gnutls_pcert_st **pcert, unsigned int *pcert_length, gnutls_privkey_t *pkey) {
  (void)session, (void)req_ca_dn, (void)nreqs, (void)pk_algos, (void)pk_algos_length;
  pthread_mutex_lock(&g.mu);
  struct pair *p = g.current;
  pthread_mutex_unlock(&g.mu);
  if (!p) return -1;
  *pcert = p->pcerts;
  *pcert_length = p->n;
  *pkey = p->key;
  return 0;
}

int64_t wh_creds_not_after(void) {
  pthread_mutex_lock(&g.mu);
  int64_t v = g.current ? g.current->not_after : 0;
  pthread_mutex_unlock(&g.mu);
  return v;
}

uint64_t wh_creds_reloads(void) {
  pthread_mutex_lock(&g.mu);
  uint64_t v = g.reloads;
  pthread_mutex_unlock(&g.mu);
  return v;
}

bool wh_creds_loaded(void) { return wh_creds_not_after() != 0; }

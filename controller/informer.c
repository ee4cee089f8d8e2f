#include "informer.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "flinkop/log.h"

#define LAST_APPLIED "kubectl.kubernetes.io/last-applied-configuration"
#define PARSE_DEPTH 256 /* json-c's default, 32, is less than the API client allows */

struct informer {
  const struct fo_kube_config *cfg;
  const struct fo_kube_resource *res;
  char *ns, *selector;
  informer_change_fn fn;
  void *ud;
  pthread_t thread;
  bool started;
  atomic_bool stop;
  atomic_bool synced;
  atomic_ulong restarts;
  pthread_mutex_t mu;
  /* key -> the object as compact JSON text, and key -> its resourceVersion (both owned by this
   * module): text is a fraction of a json-c tree's memory, and each get parses a fresh copy */
  json_object *items, *rvs;
};

static char *key_of(json_object *obj) {
  json_object *m = fo_json_get_object(obj, "metadata");
  const char *ns = fo_json_get_string(m, "namespace"), *name = fo_json_get_string(m, "name");
  if (!name) return NULL;
  size_t n = (ns ? strlen(ns) : 0) + strlen(name) + 2;
  char *k = malloc(n);
  if (k) snprintf(k, n, "%s/%s", ns ? ns : "", name);
  return k;
}

static const char *rv_of(json_object *obj) {
  return fo_json_get_string(fo_json_get_object(obj, "metadata"), "resourceVersion");
}

struct informer *informer_new(const struct fo_kube_config *cfg, const struct fo_kube_resource *res,
                              const char *ns, const char *label_selector, informer_change_fn fn,
                              void *ud) {
  struct informer *inf = calloc(1, sizeof *inf);
  if (!inf) return NULL;
  inf->cfg = cfg;
  inf->res = res;
  inf->ns = ns ? strdup(ns) : NULL;
  inf->selector = label_selector ? strdup(label_selector) : NULL;
  inf->fn = fn;
  inf->ud = ud;
  pthread_mutex_init(&inf->mu, NULL);
  inf->items = json_object_new_object();
  inf->rvs = json_object_new_object();
  if (!inf->items || !inf->rvs) {
    json_object_put(inf->items);
    json_object_put(inf->rvs);
    pthread_mutex_destroy(&inf->mu);
    free(inf);
    return NULL;
  }
  return inf;
}

static void sleep_jitter(struct informer *inf, double base) {
  double d = base * (0.5 + (double)(rand() % 1000) / 1000.0);
  struct timespec ts = {(time_t)d, (long)((d - (double)(time_t)d) * 1e9)};
  while (!atomic_load(&inf->stop) && nanosleep(&ts, &ts) < 0 && errno == EINTR) {}
}

/* Applies one object; returns 1 when it is new or changed, 0 when not, -ENOMEM when the cache could
 * not take it (the caller re-lists: a stale cache must not be trusted). Drops from `obj` what
 * nothing here reads and what is often the larger part of an object: metadata.managedFields (an
 * update without them keeps the server's) and kubectl's last-applied-configuration annotation (a
 * second copy of the spec; the controller writes its objects' metadata only by merge patches of
 * what it changes, never by sending a cached copy back). */
static int upsert(struct informer *inf, const char *key, json_object *obj) {
  json_object *md = fo_json_get_object(obj, "metadata");
  if (md) json_object_object_del(md, "managedFields");
  json_object *ann = fo_json_get_object(md, "annotations");
  if (ann) json_object_object_del(ann, LAST_APPLIED);
  const char *b = rv_of(obj);
  pthread_mutex_lock(&inf->mu);
  const char *a = fo_json_get_string(inf->rvs, key);
  bool changed = !a || !b || strcmp(a, b) != 0;
  pthread_mutex_unlock(&inf->mu);
  if (!changed) return 0;
  /* (serialized outside the lock: only this thread writes the cache) */
  size_t len = 0;
  const char *text = json_object_to_json_string_length(obj, JSON_C_TO_STRING_PLAIN, &len);
  json_object *t = text ? json_object_new_string_len(text, (int)len) : NULL;
  json_object *v = json_object_new_string(b ? b : "");
  int r = t && v ? 0 : -ENOMEM;
  pthread_mutex_lock(&inf->mu);
  if (r == 0) r = fo_json_set(inf->items, key, t, NULL);
  else json_object_put(t);
  if (r == 0) r = fo_json_set(inf->rvs, key, v, NULL);
  else json_object_put(v);
  if (r < 0) { /* neither, rather than a text and another version's number */
    json_object_object_del(inf->items, key);
    json_object_object_del(inf->rvs, key);
  }
  pthread_mutex_unlock(&inf->mu);
  return r < 0 ? r : 1;
}

/* A new tree of cached text `s` (NULL when it cannot be had). The text is what this module
 * serialized of a tree the API client parsed within its limits: deep enough for any of them. */
static json_object *parse_text(const char *s) {
  struct json_tokener *tok = s ? json_tokener_new_ex(PARSE_DEPTH) : NULL;
  json_object *o = tok ? json_tokener_parse_ex(tok, s, -1) : NULL;
  if (tok && json_tokener_get_error(tok) != json_tokener_success) {
    json_object_put(o);
    o = NULL;
  }
  if (tok) json_tokener_free(tok); /* (json-c's free takes no NULL) */
  return o;
}

static int on_event(void *ud, const char *type, json_object *obj) {
  struct informer *inf = ud;
  char *key = key_of(obj);
  if (!key) return 0;
  if (!strcmp(type, "DELETED")) {
    pthread_mutex_lock(&inf->mu);
    json_object_object_del(inf->items, key);
    json_object_object_del(inf->rvs, key);
    pthread_mutex_unlock(&inf->mu);
    inf->fn(inf->ud, key, obj, true);
  } else if (!strcmp(type, "ADDED") || !strcmp(type, "MODIFIED")) {
    int r = upsert(inf, key, obj);
    if (r < 0) {
      free(key);
      return r;
    }
    if (r) inf->fn(inf->ud, key, obj, false);
  }
  free(key);
  return atomic_load(&inf->stop) ? -ECANCELED : 0;
}

/* Replaces the cache with a fresh list; hands over what changed or disappeared. 0, or -ENOMEM
 * before anything is reported gone (an object missing from `seen` would look deleted). */
static int replace(struct informer *inf, json_object *items) {
  json_object *seen = json_object_new_object(), *gone = json_object_new_array();
  int r = seen && gone ? 0 : -ENOMEM;
  size_t n = json_object_array_length(items);
  for (size_t i = 0; r == 0 && i < n; i++) {
    json_object *o = json_object_array_get_idx(items, i);
    char *key = key_of(o);
    if (!key) continue;
    if (json_object_object_add(seen, key, NULL) != 0) r = -ENOMEM;
    int u = r == 0 ? upsert(inf, key, o) : 0;
    if (u < 0) r = u;
    if (u > 0) inf->fn(inf->ud, key, o, false);
    free(key);
  }
  if (r == 0) { /* objects deleted while we were not watching: all of them, or none */
    json_object *texts = json_object_new_array();
    if (!texts) r = -ENOMEM;
    pthread_mutex_lock(&inf->mu);
    json_object_object_foreach(inf->items, k, v) {
      if (r == 0 && !json_object_object_get_ex(seen, k, NULL)) {
        r = fo_json_push(gone, json_object_new_string(k), NULL);
        if (r == 0) r = fo_json_push(texts, json_object_get(v), NULL);
      }
    }
    size_t ng = r == 0 ? json_object_array_length(gone) : 0;
    for (size_t i = 0; i < ng; i++) {
      const char *key = json_object_get_string(json_object_array_get_idx(gone, i));
      json_object_object_del(inf->items, key);
      json_object_object_del(inf->rvs, key);
    }
    pthread_mutex_unlock(&inf->mu);
    for (size_t i = 0; i < ng; i++) {
      /* the last object known, as a DELETED event hands it (none when it cannot be parsed now) */
      json_object *o = parse_text(json_object_get_string(json_object_array_get_idx(texts, i)));
      inf->fn(inf->ud, json_object_get_string(json_object_array_get_idx(gone, i)), o, true);
      json_object_put(o);
    }
    json_object_put(texts);
  }
  json_object_put(gone);
  json_object_put(seen);
  return r;
}

static void *run(void *arg) {
  struct informer *inf = arg;
  struct fo_kube *k = fo_kube_new(inf->cfg);
  double backoff = 0.2;
  while (k && !atomic_load(&inf->stop)) {
    json_object *items = NULL;
    char *rv = NULL;
    int r = fo_kube_list(k, inf->res, inf->ns, inf->selector, 500, &items, &rv);
    if (r < 0) {
      fo_log("warning", "list failed", "\"resource\":\"%s\",\"error\":%d,\"detail\":\"%s\"",
             inf->res->plural, r, fo_log_str(fo_kube_last_error(k)->message));
      sleep_jitter(inf, backoff);
      backoff = backoff < 10 ? backoff * 2 : 10;
      continue;
    }
    r = replace(inf, items);
    json_object_put(items);
    free(r < 0 ? rv : NULL);
    if (r < 0) { /* no memory for the cache: list again later */
      fo_log("warning", "list not applied", "\"resource\":\"%s\",\"error\":%d", inf->res->plural,
             r);
      sleep_jitter(inf, backoff);
      backoff = backoff < 10 ? backoff * 2 : 10;
      continue;
    }
    atomic_store(&inf->synced, true);
    backoff = 0.2;
    int errors = 0;
    while (!atomic_load(&inf->stop)) {
      long timeout = 60 + rand() % 60;
      r = fo_kube_watch(k, inf->res, inf->ns, inf->selector, &rv, timeout, 16u << 20, on_event, inf,
                        &inf->stop);
      if (atomic_load(&inf->stop)) break;
      atomic_fetch_add(&inf->restarts, 1);
      if (r == 0) { /* the server closed the stream: continue from the last version */
        errors = 0;
        continue;
      }
      if (r == FO_KUBE_GONE) {
        fo_log("info", "watch expired, re-listing", "\"resource\":\"%s\"", inf->res->plural);
        break;
      }
      fo_log("warning", "watch failed", "\"resource\":\"%s\",\"error\":%d,\"detail\":\"%s\"",
             inf->res->plural, r, fo_log_str(fo_kube_last_error(k)->message));
      sleep_jitter(inf, backoff);
      backoff = backoff < 10 ? backoff * 2 : 10;
      /* A stream we could not read is re-listed; transport errors, 5xx and a 403 while a
       * restarted API server warms up only re-watch from the last version we saw. */
      bool bad_stream = r == -EINVAL || r == -E2BIG || r == -EBADMSG;
      if (r == -ENOMEM || (bad_stream && ++errors >= 3))
        break; /* an event the cache missed: re-list */
    }
    free(rv);
  }
  fo_kube_free(k);
  return NULL;
}

int informer_start(struct informer *inf) {
  if (pthread_create(&inf->thread, NULL, run, inf) != 0) return -errno;
  inf->started = true;
  return 0;
}

void informer_stop(struct informer *inf) {
  if (!inf || !inf->started) return;
  atomic_store(&inf->stop, true);
  pthread_join(inf->thread, NULL);
  inf->started = false;
}

void informer_free(struct informer *inf) {
  if (!inf) return;
  informer_stop(inf);
  json_object_put(inf->items);
  json_object_put(inf->rvs);
  free(inf->ns);
  free(inf->selector);
  pthread_mutex_destroy(&inf->mu);
  free(inf);
}

bool informer_synced(struct informer *inf) { return atomic_load(&inf->synced); }
unsigned long informer_restarts(struct informer *inf) { return atomic_load(&inf->restarts); }

json_object *informer_get(struct informer *inf, const char *key) {
  pthread_mutex_lock(&inf->mu); /* (a copy of the text: json-c's counts are not shared safely) */
  const char *t = json_object_get_string(fo_json_get(inf->items, key));
  char *text = t ? strdup(t) : NULL;
  pthread_mutex_unlock(&inf->mu);
  json_object *copy = parse_text(text);
  free(text);
  return copy;
}

void informer_keys(struct informer *inf, json_object *keys) {
  pthread_mutex_lock(&inf->mu);
  json_object_object_foreach(inf->items, k, v) {
    (void)v;
    fo_json_push(keys, json_object_new_string(k),
                 NULL); /* a key left out waits for the next resync */
  }
  pthread_mutex_unlock(&inf->mu);
}

json_object *informer_snapshot(struct informer *inf) {
  json_object *s = json_object_new_object();
  pthread_mutex_lock(&inf->mu);
  json_object_object_foreach(inf->rvs, k, v) { fo_json_set(s, k, json_object_get(v), NULL); }
  pthread_mutex_unlock(&inf->mu);
  return s;
}

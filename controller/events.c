#include "events.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "flinkop/clock.h"
#include "flinkop/log.h"
#include "flinkop/model.h"

static uint64_t fnv1a(const char *s, uint64_t h) {
  for (; *s; s++) {
    h ^= (unsigned char)*s;
    h *= 1099511628211ULL;
  }
  return h;
}

static const char *const warning_reasons[] = {"ValidationError",
                                              "Error",
                                              "UpgradeFailed",
                                              "RestoreFailed",
                                              "SavepointError",
                                              "CleanupFailed",
                                              "RecoverDeployment",
                                              "RestartUnhealthyJob",
                                              "RestartFailedJob",
                                              "RestartFailed",
                                              "RollbackFailed",
                                              "Missing",
                                              "DeploymentNotReady",
                                              "RestApiUnreachable",
                                              "JobStatusChanged",
                                              "FailedCreate",
                                              "CrashLoopBackOff",
                                              "ImagePullBackOff",
                                              "ErrImagePull",
                                              "RunContainerError",
                                              "CreateContainerConfigError",
                                              "OOMKilled",
                                              "Other"};
#define NW (sizeof warning_reasons / sizeof warning_reasons[0])
static atomic_ullong warnings[NW];

const char *event_warning_reason(size_t i) { return i < NW ? warning_reasons[i] : NULL; }
unsigned long long event_warnings(size_t i) { return i < NW ? atomic_load(&warnings[i]) : 0; }

static void count_warning(const char *reason) {
  size_t w = NW - 1; /* "Other" */
  for (size_t i = 0; i + 1 < NW; i++)
    if (!strcmp(warning_reasons[i], reason)) w = i;
  atomic_fetch_add(&warnings[w], 1);
}

/* The Events this process wrote, by name hash, with their count: a repeat is one PATCH (as
 * client-go's correlator does), not a refused POST, a GET and a PATCH. Bounded: a slot per hash
 * modulo EVENT_CACHE_SLOTS, a collision forgets the older one (which then costs the long way). */
#define EVENT_CACHE_SLOTS 4096
static struct {
  uint64_t h;
  int64_t count;
} event_cache[EVENT_CACHE_SLOTS];
static pthread_mutex_t event_cache_lock = PTHREAD_MUTEX_INITIALIZER;

static int64_t cache_count(uint64_t h) {
  pthread_mutex_lock(&event_cache_lock);
  int64_t c =
      event_cache[h % EVENT_CACHE_SLOTS].h == h ? event_cache[h % EVENT_CACHE_SLOTS].count : 0;
  pthread_mutex_unlock(&event_cache_lock);
  return c;
}

static void cache_set(uint64_t h, int64_t count) {
  pthread_mutex_lock(&event_cache_lock);
  event_cache[h % EVENT_CACHE_SLOTS].h = h;
  event_cache[h % EVENT_CACHE_SLOTS].count = count;
  pthread_mutex_unlock(&event_cache_lock);
}

void event_forget(void) {
  pthread_mutex_lock(&event_cache_lock);
  memset(event_cache, 0, sizeof event_cache);
  pthread_mutex_unlock(&event_cache_lock);
}

/* count and lastTimestamp of the Event `ev_name`: 0 or a negative errno (-ENOENT: gone). */
static int bump(struct fo_kube *k, const char *ns, const char *ev_name, int64_t count,
                const char *now) {
  json_object *patch = json_object_new_object();
  int oom = patch ? 0 : -ENOMEM;
  fo_json_set(patch, "count", json_object_new_int64(count), &oom);
  fo_json_set(patch, "lastTimestamp", json_object_new_string(now), &oom);
  int r = oom < 0
              ? oom
              : fo_kube_patch(k, &fo_res_events, ns, ev_name, NULL, FO_PATCH_MERGE, patch, NULL);
  json_object_put(patch);
  return r;
}

void event_record(struct fo_kube *k, json_object *obj, const char *type, const char *reason,
                  const char *message) {
  if (!strcmp(type, "Warning")) count_warning(reason);
  json_object *m = fo_json_get_object(obj, "metadata");
  const char *ns = fo_json_get_string(m, "namespace"), *name = fo_json_get_string(m, "name");
  const char *uid = fo_json_get_string(m, "uid");
  if (!ns || !name) return;
  uint64_t h = fnv1a(uid ? uid : "", 14695981039346656037ULL);
  h = fnv1a(type, h);
  h = fnv1a(reason, h);
  h = fnv1a(message, h);
  char ev_name[320], now[32];
  snprintf(ev_name, sizeof ev_name, "%.240s.%016llx", name, (unsigned long long)h);
  fo_clock_rfc3339(now, sizeof now, 0);
  int64_t seen = cache_count(h);
  if (seen > 0 && bump(k, ns, ev_name, seen + 1, now) == 0) {
    cache_set(h, seen + 1);
    return;
  }            /* not known, or gone (Events expire): created again */
  int oom = 0; /* an Event missing a part is not sent */
  json_object *ev = json_object_new_object();
  if (!ev) oom = -ENOMEM;
  json_object *em = json_object_new_object();
  fo_json_set(em, "name", json_object_new_string(ev_name), &oom);
  fo_json_set(em, "namespace", json_object_new_string(ns), &oom);
  fo_json_set(ev, "metadata", em, &oom);
  json_object *io = json_object_new_object();
  fo_json_set(io, "apiVersion", json_object_new_string(FO_API_VERSION), &oom);
  const char *kind = fo_json_get_string(obj, "kind");
  fo_json_set(io, "kind", json_object_new_string(kind ? kind : "FlinkDeployment"), &oom);
  fo_json_set(io, "name", json_object_new_string(name), &oom);
  fo_json_set(io, "namespace", json_object_new_string(ns), &oom);
  if (uid) fo_json_set(io, "uid", json_object_new_string(uid), &oom);
  fo_json_set(ev, "involvedObject", io, &oom);
  fo_json_set(ev, "type", json_object_new_string(type), &oom);
  fo_json_set(ev, "reason", json_object_new_string(reason), &oom);
  fo_json_set(ev, "message", json_object_new_string(message), &oom);
  json_object *src = json_object_new_object();
  fo_json_set(src, "component", json_object_new_string("flink-operator"), &oom);
  fo_json_set(ev, "source", src, &oom);
  fo_json_set(ev, "firstTimestamp", json_object_new_string(now), &oom);
  fo_json_set(ev, "lastTimestamp", json_object_new_string(now), &oom);
  fo_json_set(ev, "count", json_object_new_int(1), &oom);
  int r = oom < 0 ? oom : fo_kube_create(k, &fo_res_events, ns, ev, NULL);
  json_object_put(ev);
  if (r == 0) {
    cache_set(h, 1);
  } else if (r == -EEXIST) {
    json_object *cur = NULL;
    if (fo_kube_get(k, &fo_res_events, ns, ev_name, &cur) == 0) {
      int64_t count = 1;
      fo_json_as_int64(fo_json_get(cur, "count"), &count);
      if (bump(k, ns, ev_name, count + 1, now) == 0) cache_set(h, count + 1);
      json_object_put(cur);
    }
  } else if (r < 0) {
    fo_log("warning", "cannot record event", "\"object\":\"%s/%s\",\"reason\":\"%s\",\"error\":%d",
           fo_log_str(ns), fo_log_str(name), fo_log_str(reason), r);
  }
}

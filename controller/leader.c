/* Leader election with a coordination.k8s.io/v1 Lease, the way client-go does it: the lease is
 * taken when its holder has not renewed it for leaseDurationSeconds (measured on our own clock
 * from when we last saw it change, so clocks need not agree); the holder renews every
 * retry_period and stops acting as soon as it has failed to renew for renew_deadline
 * (renew_deadline < lease_duration, so the old leader has stopped before anyone else may start). */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "controller.h"
#include "flinkop/clock.h"
#include "flinkop/log.h"

static struct {
  struct ctl *c;
  pthread_t thread;
  bool started;
  atomic_bool leader;
  atomic_bool stop;          /* set by leader_stop(), once no worker acts any more */
  _Atomic double renewed_at; /* monotonic seconds of the last successful acquire/renew */
  void (*on_elected)(struct ctl *c);
  char observed[512]; /* holder + renewTime we last saw */
  double observed_at;
} L;

bool leader_is_leader(void) { return !L.c || !L.c->cfg.leader_elect || atomic_load(&L.leader); }

bool leader_valid(void) {
  if (!L.c || !L.c->cfg.leader_elect) return true;
  return atomic_load(&L.leader) &&
         fo_clock_mono() - atomic_load(&L.renewed_at) < (double)L.c->cfg.renew_deadline;
}

void leader_on_elected(void (*fn)(struct ctl *c)) { L.on_elected = fn; }

/* The lease's spec, whole or NULL (no memory): a lease written without its holder would invite a
 * second leader. */
static json_object *lease_spec(const char *identity, long duration, const char *acquire,
                               json_object *old_spec) {
  json_object *s = json_object_new_object();
  int oom = s ? 0 : -ENOMEM;
  char now[64];
  fo_clock_rfc3339(now, sizeof now, 6);
  fo_json_set(s, "holderIdentity", json_object_new_string(identity), &oom);
  fo_json_set(s, "leaseDurationSeconds", json_object_new_int((int)duration), &oom);
  fo_json_set(s, "acquireTime", json_object_new_string(acquire ? acquire : now), &oom);
  fo_json_set(s, "renewTime", json_object_new_string(now), &oom);
  int64_t transitions = 0;
  fo_json_as_int64(fo_json_get(old_spec, "leaseTransitions"), &transitions);
  const char *old_holder = fo_json_get_string(old_spec, "holderIdentity");
  if (old_holder && strcmp(old_holder, identity) != 0) transitions++;
  fo_json_set(s, "leaseTransitions", json_object_new_int64(transitions), &oom);
  if (oom < 0) {
    json_object_put(s);
    return NULL;
  }
  return s;
}

/* One attempt to acquire or renew. Returns true when we hold the lease now. */
static bool try_acquire_or_renew(struct fo_kube *k) {
  struct ctl *c = L.c;
  const char *ns = c->cfg.lease_namespace, *name = c->cfg.lease_name, *me = c->cfg.identity;
  json_object *lease = NULL;
  int r = fo_kube_get(k, &fo_res_leases, ns, name, &lease);
  if (r == -ENOENT) {
    json_object *o = json_object_new_object(), *m = json_object_new_object();
    int oom = o && m ? 0 : -ENOMEM;
    fo_json_set(o, "apiVersion", json_object_new_string("coordination.k8s.io/v1"), &oom);
    fo_json_set(o, "kind", json_object_new_string("Lease"), &oom);
    fo_json_set(m, "name", json_object_new_string(name), &oom);
    fo_json_set(m, "namespace", json_object_new_string(ns), &oom);
    fo_json_set(o, "metadata", m, &oom);
    fo_json_set(o, "spec", lease_spec(me, c->cfg.lease_duration, NULL, NULL), &oom);
    r = oom < 0 ? oom : fo_kube_create(k, &fo_res_leases, ns, o, NULL);
    json_object_put(o);
    return r == 0;
  }
  if (r < 0) return false;
  json_object *spec = fo_json_get_object(lease, "spec");
  const char *holder = fo_json_get_string(spec, "holderIdentity");
  const char *renew = fo_json_get_string(spec, "renewTime");
  char obs[512];
  snprintf(obs, sizeof obs, "%s|%s", holder ? holder : "", renew ? renew : "");
  double now = fo_clock_mono();
  if (strcmp(obs, L.observed) != 0) {
    snprintf(L.observed, sizeof L.observed, "%s", obs);
    L.observed_at = now;
  }
  bool mine = holder && !strcmp(holder, me);
  int64_t dur = c->cfg.lease_duration;
  fo_json_as_int64(fo_json_get(spec, "leaseDurationSeconds"), &dur);
  if (!mine && holder && *holder && now - L.observed_at < (double)dur) {
    json_object_put(lease);
    return false; /* held by someone else, not expired */
  }
  json_object *ns_spec = lease_spec(me, c->cfg.lease_duration,
                                    mine ? fo_json_get_string(spec, "acquireTime") : NULL, spec);
  r = fo_json_set(lease, "spec", ns_spec, NULL);
  if (r == 0)
    r = fo_kube_update(k, &fo_res_leases, ns, name, NULL, lease,
                       NULL); /* resourceVersion: conflict = lost race */
  json_object_put(lease);
  return r == 0;
}

static void *run(void *arg) {
  (void)arg;
  struct ctl *c = L.c;
  struct fo_kube *k = fo_kube_new(&c->kube);
  fo_kube_set_timeout(k, c->cfg.retry_period > 1 ? c->cfg.retry_period : 1);
  /* Not c->stopping: the lease is kept (renewed) until the workers have finished their passes, so
   * no successor starts while one of ours still writes. */
  while (!atomic_load(&L.stop)) {
    double t0 = fo_clock_mono();
    bool ok = try_acquire_or_renew(k);
    if (ok) {
      atomic_store(&L.renewed_at, t0);
      if (!atomic_load(&L.leader)) {
        atomic_store(&L.leader, true);
        fo_log("info", "became leader", "\"identity\":\"%s\",\"lease\":\"%s/%s\"", c->cfg.identity,
               c->cfg.lease_namespace, c->cfg.lease_name);
        if (L.on_elected) L.on_elected(L.c);
      }
    } else if (atomic_load(&L.leader) &&
               fo_clock_mono() - atomic_load(&L.renewed_at) >= (double)c->cfg.renew_deadline) {
      /* Stop acting at once: exit, as client-go's controllers do; the Deployment restarts us. */
      fo_log("error", "lost leadership", "\"identity\":\"%s\"", c->cfg.identity);
      atomic_store(&L.leader, false);
      _exit(3);
    }
    double spent = fo_clock_mono() - t0;
    double wait = (double)c->cfg.retry_period - spent;
    for (double w = wait; w > 0 && !atomic_load(&L.stop); w -= 0.1) usleep(100000);
  }
  /* Release the lease on a clean shutdown so a successor need not wait for it to expire. */
  if (atomic_load(&L.leader)) {
    json_object *lease = NULL;
    if (fo_kube_get(k, &fo_res_leases, c->cfg.lease_namespace, c->cfg.lease_name, &lease) == 0) {
      json_object *spec = fo_json_get_object(lease, "spec");
      const char *holder = fo_json_get_string(spec, "holderIdentity");
      if (holder && !strcmp(holder, c->cfg.identity)) {
        int oom = 0; /* without memory the lease simply expires */
        fo_json_set(spec, "holderIdentity", json_object_new_string(""), &oom);
        fo_json_set(spec, "leaseDurationSeconds", json_object_new_int(1), &oom);
        if (oom == 0)
          fo_kube_update(k, &fo_res_leases, c->cfg.lease_namespace, c->cfg.lease_name, NULL, lease,
                         NULL);
      }
      json_object_put(lease);
    }
    atomic_store(&L.leader, false);
  }
  fo_kube_free(k);
  return NULL;
}

int leader_start(struct ctl *c) {
  L.c = c;
  if (!c->cfg.leader_elect) {
    atomic_store(&L.leader, true);
    if (L.on_elected) L.on_elected(L.c);
    return 0;
  }
  if (pthread_create(&L.thread, NULL, run, NULL) != 0) return -errno;
  L.started = true;
  return 0;
}

void leader_stop(void) {
  atomic_store(&L.stop, true);
  if (L.started) pthread_join(L.thread, NULL);
  L.started = false;
}

#include "lifecycle.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "checkpoint.h"
#include "events.h"
#include "flinkop/buf.h"
#include "flinkop/clock.h"
#include "flinkop/cron.h"
#include "flinkop/flinkconf.h"
#include "flinkop/flinkrest.h"
#include "savepoint.h"

const char *lc_observe_job(struct pass *p, struct fo_flink *f, char *state, size_t n,
                           int *ret_rest) {
  const char *jid = p->st.job_status.job_id;
  struct fo_flink_jobs jobs;
  int r = jid ? fo_flink_jobs_overview(f, &jobs) : 0;
  if (ret_rest) *ret_rest = r;
  if (!jid || r < 0) return NULL;
  const char *res = NULL;
  for (size_t i = 0; i < jobs.n; i++)
    if (!strcmp(jobs.jobs[i].jid, jid)) {
      snprintf(state, n, "%s", fo_flink_job_effective_state(&jobs.jobs[i]));
      pass_set(p, &p->st.job_status.job_name, jobs.jobs[i].name);
      char t[32];
      snprintf(t, sizeof t, "%lld", (long long)jobs.jobs[i].start_time);
      pass_set(p, &p->st.job_status.start_time, t);
      res = state;
    }
  fo_flink_jobs_free(&jobs);
  return res;
}

/* A JobManager pod whose container cannot run: "[container] message" and the reason (as the
 * reference reports CrashLoopBackOff, ImagePullBackOff, ErrImagePull, ...). NULL when none. */
static char *jm_pod_failure(struct pass *p, char *reason, size_t n) {
  static const char *const bad[] = {"CrashLoopBackOff",
                                    "ImagePullBackOff",
                                    "ErrImagePull",
                                    "RunContainerError",
                                    "CreateContainerConfigError",
                                    "OOMKilled",
                                    NULL};
  json_object *pods = lc_labelled(p, &fo_res_pods, "component=jobmanager");
  char *res = NULL;
  size_t np = pods ? json_object_array_length(pods) : 0;
  for (size_t i = 0; i < np && !res; i++) {
    json_object *cs = fo_json_get_array(
        fo_json_get_object(json_object_array_get_idx(pods, i), "status"), "containerStatuses");
    size_t nc = cs ? json_object_array_length(cs) : 0;
    for (size_t j = 0; j < nc && !res; j++) {
      json_object *ct = json_object_array_get_idx(cs, j);
      json_object *w = fo_json_path(ct, "state", "waiting", (const char *)NULL);
      const char *why = fo_json_get_string(w, "reason");
      if (!why || !fo_enum_contains(bad, why)) continue;
      const char *msg = fo_json_get_string(w, "message");
      const char *last = fo_json_get_string(
          fo_json_path(ct, "lastState", "terminated", (const char *)NULL), "message");
      const char *cn = fo_json_get_string(ct, "name");
      struct fo_buf b;
      fo_buf_init(&b, 4096);
      fo_buf_printf(&b, "[%s] %s%s%s", cn ? cn : "container", msg ? msg : why, last ? ": " : "",
                    last ? last : "");
      res = fo_buf_steal(&b);
      snprintf(reason, n, "%s", why);
    }
  }
  json_object_put(pods);
  return res;
}

/* A JobManager Deployment whose pods cannot be made (its ReplicaFailure condition: a quota, an
 * admission webhook, a pod security policy): "[reason] message", as the reference reports it.
 * NULL when none. */
static char *jm_replica_failure(json_object *dep, char *reason, size_t n) {
  json_object *conds = fo_json_get_array(fo_json_get_object(dep, "status"), "conditions");
  size_t nc = conds ? json_object_array_length(conds) : 0;
  for (size_t i = 0; i < nc; i++) {
    json_object *c = json_object_array_get_idx(conds, i);
    const char *type = fo_json_get_string(c, "type"), *st = fo_json_get_string(c, "status");
    if (!lc_is(type, "ReplicaFailure") || !lc_is(st, "True")) continue;
    const char *why = fo_json_get_string(c, "reason");
    const char *msg = fo_json_get_string(c, "message");
    snprintf(reason, n, "%s", why && *why ? why : "FailedCreate");
    struct fo_buf b;
    fo_buf_init(&b, 4096);
    fo_buf_printf(&b, "[%s] %s", reason, msg ? msg : "the JobManager pod cannot be created");
    return fo_buf_steal(&b);
  }
  return NULL;
}

/* What the JobManager's pod is waiting for, for a message: its phase and each condition that is
 * not met ("Pending; PodScheduled: Unschedulable: 0/1 nodes are available: 1 Insufficient cpu."),
 * or "no JobManager pod". Owned by the caller, NULL without memory. */
static char *jm_pod_summary(struct pass *p) {
  json_object *pods = lc_labelled(p, &fo_res_pods, "component=jobmanager");
  struct fo_buf b;
  fo_buf_init(&b, 2048);
  size_t np = pods ? json_object_array_length(pods) : 0;
  if (!np) fo_buf_puts(&b, "no JobManager pod");
  for (size_t i = 0; i < np && i < 2; i++) {
    json_object *st = fo_json_get_object(json_object_array_get_idx(pods, i), "status");
    const char *phase = fo_json_get_string(st, "phase");
    fo_buf_printf(&b, "%s%s", i ? "; " : "", phase ? phase : "Unknown");
    json_object *conds = fo_json_get_array(st, "conditions");
    size_t nc = conds ? json_object_array_length(conds) : 0;
    for (size_t j = 0; j < nc; j++) {
      json_object *c = json_object_array_get_idx(conds, j);
      if (lc_is(fo_json_get_string(c, "status"), "True")) continue;
      const char *t = fo_json_get_string(c, "type"), *r = fo_json_get_string(c, "reason");
      const char *m = fo_json_get_string(c, "message");
      fo_buf_printf(&b, "; %s: %s%s%s", t ? t : "?", r ? r : "False", m ? ": " : "", m ? m : "");
    }
  }
  json_object_put(pods);
  return fo_buf_steal(&b);
}

/* A JobManager not ready within kubernetes.operator.deployment.readiness.timeout (5 min, as the
 * reference's default) of the change being reconciled: a message saying what it waits for, NULL
 * while there is time (or without memory). */
static char *jm_not_ready(struct pass *p) {
  int64_t timeout =
      fo_conf_duration(p->conf, "kubernetes.operator.deployment.readiness.timeout", 5 * 60 * 1000);
  const struct fo_opt_int *since = &p->st.reconciliation_status.reconciliation_timestamp;
  if (!since->set || fo_clock_ms() - since->v <= timeout) return NULL;
  char *pod = jm_pod_summary(p);
  struct fo_buf b;
  fo_buf_init(&b, 4096);
  fo_buf_printf(&b, "JobManager deployment not ready within %lld s: %s",
                (long long)(timeout / 1000), pod ? pod : "");
  free(pod);
  return fo_buf_steal(&b);
}

/* The JobManager is ready but its REST API does not answer. Right after a start it may take a
 * moment: after a minute from the change being reconciled it is said (status.error, a
 * RestApiUnreachable Warning once per new message), and a RUNNING job becomes RECONCILING, as
 * the reference does: nobody knows how it is. Cleared when the job is seen running again. */
static void rest_unreachable(struct pass *p, struct fo_flink *f) {
  const struct fo_opt_int *since = &p->st.reconciliation_status.reconciliation_timestamp;
  if (since->set && fo_clock_ms() - since->v < 60 * 1000) return;
  struct fo_buf b;
  fo_buf_init(&b, 2048);
  const char *why = fo_flink_last_error(f);
  if (fo_buf_printf(&b, "Flink's REST API does not answer: %s", why && *why ? why : "no answer") <
      0) {
    fo_buf_free(&b);
    pass_nomem(p);
    return;
  }
  if (!pass_error_is(p, b.data))
    event_record(p->k, p->obj, "Warning", "RestApiUnreachable", b.data);
  pass_set_error(p, LC_UPGRADE_ERROR, b.data);
  if (lc_is(p->st.job_status.state, "RUNNING")) pass_set_job_state(p, "RECONCILING");
  fo_buf_free(&b);
}

json_object *lc_cached_jm(const struct pass *p) {
  char key[512];
  if (!p->env->cached_deployment ||
      snprintf(key, sizeof key, "%s/%s", p->ns, p->name) >= (int)sizeof key)
    return NULL;
  return p->env->cached_deployment(p->env->cache_ud, key);
}

static json_object *jm_deployment(struct pass *p, int *ret) {
  *ret = 0;
  json_object *dep = lc_cached_jm(p);
  if (dep) return dep;
  int r = fo_kube_get(p->k, &fo_res_deployments, p->ns, p->name, &dep);
  if (r < 0 && r != -ENOENT) *ret = r;
  return dep;
}

bool lc_jm_was_available(struct pass *p) {
  int r;
  json_object *dep = jm_deployment(p, &r);
  if (r < 0) return true; /* not known: it may have run */
  json_object *conds = fo_json_get_array(fo_json_get_object(dep, "status"), "conditions");
  bool was = false;
  for (size_t i = 0; conds && i < json_object_array_length(conds) && !was; i++) {
    json_object *c = json_object_array_get_idx(conds, i);
    const char *type = fo_json_get_string(c, "type");
    was = (lc_is(type, "Available") && lc_is(fo_json_get_string(c, "status"), "True")) ||
          (lc_is(type, "Progressing") &&
           lc_is(fo_json_get_string(c, "reason"), "NewReplicaSetAvailable"));
  }
  json_object_put(dep);
  return was;
}

/* When the resource was made (metadata.creationTimestamp, epoch ms); 0 when not known. */
static int64_t created_ms(struct pass *p) {
  int64_t at = 0;
  fo_clock_parse_rfc3339(
      fo_json_get_string(fo_json_get_object(p->obj, "metadata"), "creationTimestamp"), &at);
  return at;
}

bool lc_periodic_due(struct pass *p, const char *key, struct fo_opt_int lp) {
  const char *v = fo_conf_get(p->conf, key);
  if (!v) return false;
  int64_t last = created_ms(p);
  if (lp.set && lp.v > last) last = lp.v;
  int64_t every = 0;
  if (fo_duration_parse(v, &every) == 0) return every > 0 && fo_clock_ms() > last + every;
  struct fo_cron c; /* a Quartz cron schedule: due once it fired since the last one */
  char why[128];
  if (fo_cron_parse(v, &c, why, sizeof why) < 0) return false; /* (the rulebook refuses it) */
  int64_t next = fo_cron_next(&c, last);
  return next >= 0 && next <= fo_clock_ms();
}

void lc_record_nonce(struct pass *p, const char *field, struct fo_opt_int nonce) {
  json_object *ljob = fo_json_get_object(p->last_json, "job");
  if (!ljob || !nonce.set) return;
  fo_json_set(ljob, field, json_object_new_int64(nonce.v), &p->oom);
  char *rec = fo_reconciled_spec_encode(p->last_json, p->first_deployment);
  if (!rec) pass_nomem(p);
  else pass_set(p, &p->st.reconciliation_status.last_reconciled_spec, rec);
  free(rec);
}

/* Manual and periodic savepoints: triggered on a new nonce, or when a periodic one is due; polled
 * while in flight. */
static int manual_savepoint(struct pass *p, struct fo_flink *f, struct lc_step *s, bool *wrote) {
  struct fo_savepoint_info *si = sp_info(p);
  struct fo_opt_int nonce = p->spec.job.savepoint_trigger_nonce;
  *wrote = false;
  if (si->trigger_id && lc_is(si->trigger_type, "PERIODIC")) {
    char *loc = NULL, *fail = NULL;
    int r = sp_poll(p, f, false, &loc, &fail);
    s->again = LC_POLL / 2;
    if (r == 1) {
      if (loc) sp_record(p, loc, "PERIODIC", (struct fo_opt_int){false, 0});
      if (fail) {
        char msg[640]; /* Flink's own words, as far as they fit */
        snprintf(msg, sizeof msg, "Periodic savepoint failed: %.*s", lc_first_line(fail, 500),
                 fail);
        event_record(p->k, p->obj, "Warning", "SavepointError", msg);
      }
      sp_clear(p); /* (a failed one waits for the next period, as the reference) */
      lc_go(p, s, LC_RUNNING, loc ? "periodic savepoint completed" : "periodic savepoint failed");
    }
    free(loc);
    free(fail);
    return 0;
  }
  if (si->trigger_id && lc_is(si->trigger_type, "MANUAL")) {
    char *loc = NULL, *fail = NULL;
    int r = sp_poll(p, f, false, &loc, &fail);
    s->again = LC_POLL / 2;
    if (r == 1) {
      if (loc) sp_record(p, loc, "MANUAL", nonce);
      if (fail) {
        char msg[640]; /* Flink's own words, as far as they fit */
        snprintf(msg, sizeof msg, "Savepoint failed for savepointTriggerNonce: %lld: %.*s",
                 (long long)nonce.v, lc_first_line(fail, 500), fail);
        event_record(p->k, p->obj, "Warning", "SavepointError", msg);
      }
      sp_clear(p);
      lc_record_nonce(p, "savepointTriggerNonce", nonce); /* handled either way */
      lc_go(p, s, LC_RUNNING, loc ? "savepoint completed" : "savepoint failed");
    }
    free(loc);
    free(fail);
    return 0;
  }
  const struct fo_opt_int *ln = &p->last.job.savepoint_trigger_nonce;
  if (nonce.set && lc_is(p->st.job_status.state, "RUNNING") && (!ln->set || ln->v != nonce.v)) {
    *wrote = true;
    s->again = LC_POLL / 2;
    int r = sp_begin(p, f, "MANUAL", false);
    if (r == 0) lc_go(p, s, LC_SAVEPOINT, "savepointTriggerNonce changed");
    return r;
  }
  if (!si->trigger_id && lc_is(p->st.job_status.state, "RUNNING") &&
      lc_periodic_due(p, "kubernetes.operator.periodic.savepoint.interval",
                      si->last_periodic_timestamp)) {
    *wrote = true;
    s->again = LC_POLL / 2;
    si->last_periodic_timestamp = (struct fo_opt_int){true, fo_clock_ms()};
    int r = sp_begin(p, f, "PERIODIC", false);
    if (r == 0) lc_go(p, s, LC_SAVEPOINT, "periodic savepoint due");
    return r;
  }
  return 0;
}

int lc_observe(struct pass *p, struct fo_flink *f, struct lc_step *s) {
  p->st.observed_generation = (struct fo_opt_int){true, p->gen}; /* changes that need no action */
  /* The informer's copy (it wakes us on every change of it); a GET only when the cache has none
   * yet (just created, or not synced): the steady state costs the API server nothing. */
  int r;
  json_object *dep = jm_deployment(p, &r);
  if (r < 0) return r;
  const char *jm = "MISSING";
  if (dep) {
    int64_t ready = 0;
    fo_json_as_int64(fo_json_get(fo_json_get_object(dep, "status"), "readyReplicas"), &ready);
    jm = ready > 0 ? "READY" : "DEPLOYING";
  }
  char reason[64];
  char *pod_failure =
      lc_is(jm, "DEPLOYING") ? jm_replica_failure(dep, reason, sizeof reason) : NULL;
  json_object_put(dep);
  if (!pod_failure && lc_is(jm, "DEPLOYING"))
    pod_failure = jm_pod_failure(p, reason, sizeof reason);
  if (pod_failure) {
    jm = "ERROR";
    if (!pass_error_is(p, pod_failure)) event_record(p->k, p->obj, "Warning", reason, pod_failure);
    pass_set_error(p, LC_UPGRADE_ERROR, pod_failure);
    free(pod_failure);
  }
  char *late = lc_is(jm, "DEPLOYING") ? jm_not_ready(p) : NULL;
  if (late) { /* said once per new message; the wait goes on (a slow pull may still end) */
    if (!pass_error_is(p, late)) event_record(p->k, p->obj, "Warning", "DeploymentNotReady", late);
    pass_set_error(p, LC_UPGRADE_ERROR, late);
    free(late);
  }
  bool jm_changed = !lc_is(p->st.jm_deployment_status, jm);
  pass_set(p, &p->st.jm_deployment_status, jm);
  if (jm_changed && lc_is(jm, "MISSING"))
    event_record(p->k, p->obj, "Warning", "Missing", "Missing JobManager deployment");
  s->again = LC_STEADY;
  if (lc_is(jm, "READY") && !p->spec.job.present) {
    /* a session cluster: ready once its REST API answers (it runs whatever jobs are sent to it) */
    struct fo_flink_jobs jobs = {0};
    if (fo_flink_jobs_overview(f, &jobs) < 0) {
      rest_unreachable(p, f);
      s->again = LC_POLL;
    } else {
      pass_set_error(p, LC_UPGRADE_ERROR, NULL);
      pass_set(p, &p->st.reconciliation_status.last_stable_spec,
               p->st.reconciliation_status.last_reconciled_spec);
    }
    fo_flink_jobs_free(&jobs);
  } else if (lc_is(jm, "READY")) {
    char st[16];
    int rest = 0;
    const char *js = lc_observe_job(p, f, st, sizeof st, &rest);
    if (rest < 0) rest_unreachable(p, f);
    if (js && !lc_is(p->st.job_status.state, js)) {
      char msg[96];
      snprintf(msg, sizeof msg, "Job status changed from %s to %s",
               p->st.job_status.state ? p->st.job_status.state : "none", js);
      event_record(p->k, p->obj, lc_is(js, "FAILED") ? "Warning" : "Normal", "JobStatusChanged",
                   msg);
      pass_set_job_state(p, js);
    }
    if (lc_is(js, "FAILED")) {
      char *ex = NULL;
      fo_flink_latest_exception(f, p->st.job_status.job_id, &ex);
      pass_set_error(p, LC_UPGRADE_ERROR, ex ? ex : "Job failed");
      free(ex);
    }
    if (lc_is(js, "RUNNING")) pass_set_error(p, LC_UPGRADE_ERROR, NULL);
    /* a job that runs, or ran to its end, made its spec stable, as the reference's
     * checkAndUpdateStableSpec says (rolled back, it runs the stable spec: the one recorded as
     * reconciled never became so) */
    if ((lc_is(js, "RUNNING") || lc_is(js, "FINISHED")) &&
        !lc_is(p->st.reconciliation_status.state, "ROLLED_BACK"))
      pass_set(p, &p->st.reconciliation_status.last_stable_spec,
               p->st.reconciliation_status.last_reconciled_spec);
    if (!js) s->again = LC_POLL;
  } else {
    s->again = LC_POLL;
  }
  bool wrote;
  r = manual_savepoint(p, f, s, &wrote);
  if (wrote || r < 0) return r;
  r = cp_step(p, f, s, &wrote);
  if (wrote || r < 0) return r;
  /* the history kept bounded while Flink can dispose of what goes */
  if (lc_is(p->st.job_status.state, "RUNNING") && !p->st.job_status.savepoint_info.trigger_id)
    sp_trim(p, f);
  pass_finish(p);
  return pass_write_status(p);
}

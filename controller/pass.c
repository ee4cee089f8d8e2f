#include "pass.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "flinkop/clock.h"
#include "flinkop/flinkconf.h"
#include "cluster.h"
#include "flinkop/jsonpatch.h"

int pass_load(struct pass *p, const struct pass_env *env, struct fo_kube *k, json_object *obj,
              const char *key) {
  memset(p, 0, sizeof *p);
  fo_arena_init(&p->arena, SIZE_MAX);
  fo_status_init(&p->st);
  p->env = env;
  p->k = k;
  p->obj = obj;
  p->key = key;
  if (!json_object_is_type(obj, json_type_object)) return -EINVAL;
  json_object *m = fo_json_get_object(obj, "metadata");
  p->ns = fo_json_get_string(m, "namespace");
  p->name = fo_json_get_string(m, "name");
  p->uid = fo_json_get_string(m, "uid");
  fo_json_as_int64(fo_json_get(m, "generation"), &p->gen);
  p->spec_json = fo_json_get_object(obj, "spec");
  if (fo_jv_from_json(&p->arena, obj, &p->doc) < 0) return -ENOMEM;
  if (fo_spec_read(fo_jv_get_object(p->doc, "spec"), &p->spec, NULL, "spec") < 0) return -ENOMEM;
  if (env->default_conf && json_object_deep_copy(env->default_conf, &p->default_conf, NULL) != 0)
    return -ENOMEM;
  p->conf = fo_conf_effective_new(
      p->default_conf,
      p->spec.flink_configuration ? fo_json_get_object(p->spec_json, "flinkConfiguration") : NULL);
  if (!p->conf) return -ENOMEM;
  if (fo_status_read(fo_json_get_object(obj, "status"), &p->st) < 0) return -ENOMEM;
  const char *rec = p->st.reconciliation_status.last_reconciled_spec;
  if (rec) {
    struct fo_parse_error pe = {0};
    int r = fo_reconciled_spec_decode(rec, &p->last_json, &p->first_deployment, &pe);
    fo_parse_error_clear(&pe);
    if (r == -ENOMEM) return r;
    if (r < 0) p->last_json = NULL; /* unreadable: as if never deployed */
    const struct fo_jv *last = NULL;
    if (p->last_json && fo_jv_from_json(&p->arena, p->last_json, &last) < 0) return -ENOMEM;
    if (fo_spec_read(last, &p->last, NULL, "") < 0) return -ENOMEM;
    p->recorded_state = p->last.job.state;
  }
  return 0;
}

void pass_unload(struct pass *p) {
  fo_arena_free(&p->arena);
  json_object_put(p->default_conf);
  json_object_put(p->conf);
  json_object_put(p->last_json);
  fo_status_free(&p->st);
  json_object_put(p->obj);
  memset(p, 0, sizeof *p);
}

void pass_nomem(struct pass *p) {
  if (!p->oom) p->oom = -ENOMEM;
}

void pass_set(struct pass *p, char **field, const char *v) {
  if (fo_status_set_str(field, v) < 0) pass_nomem(p);
}

/* status.error in the reference's shape, as reconcile_report writes it; takes `md` (the
 * additionalMetadata, NULL for {}). */
static void set_error(struct pass *p, const char *type, const char *msg, json_object *md) {
  json_object *e = json_object_new_object();
  fo_json_set(e, "type", json_object_new_string(type), &p->oom);
  fo_json_set(e, "message", json_object_new_string(msg), &p->oom);
  fo_json_set(e, "additionalMetadata", md ? md : json_object_new_object(), &p->oom);
  fo_json_set(e, "throwableList", json_object_new_array(), &p->oom);
  char *s = p->oom ? NULL : fo_json_dumps(e);
  if (!s) pass_nomem(p);
  else pass_set(p, &p->st.error, s);
  free(s);
  json_object_put(e);
}

void pass_set_error(struct pass *p, const char *type, const char *msg) {
  if (!msg) pass_set(p, &p->st.error, NULL);
  else set_error(p, type, msg, NULL);
}

double pass_set_error_retry(struct pass *p, const char *type, const char *msg,
                            const struct retry_policy *retry) {
  int attempt = 1;
  json_object *prev = p->st.error ? json_tokener_parse(p->st.error) : NULL;
  const char *pm = fo_json_get_string(prev, "message"), *pt = fo_json_get_string(prev, "type");
  int64_t n = 0;
  if (pm && pt && !strcmp(pm, msg) && !strcmp(pt, type) &&
      fo_json_as_int64(fo_json_path(prev, "additionalMetadata", "attempt", (const char *)NULL),
                       &n) &&
      n >= 1 && n < 1000000)
    attempt = (int)n + 1;
  json_object_put(prev);
  double delay = retry_delay(retry ? retry : &retry_default, attempt);
  char at[40];
  fo_clock_rfc3339_in(at, sizeof at, delay);
  json_object *md = json_object_new_object();
  fo_json_set(md, "attempt", json_object_new_int(attempt), &p->oom);
  fo_json_set(md, "nextAttempt", json_object_new_string(at), &p->oom);
  if (md) set_error(p, type, msg, md);
  else pass_nomem(p);
  return delay;
}

bool pass_error_is(const struct pass *p, const char *msg) {
  if (!msg || !p->st.error) return false;
  json_object *e = json_tokener_parse(p->st.error);
  const char *m = fo_json_get_string(e, "message");
  bool same = m && !strcmp(m, msg);
  json_object_put(e);
  return same;
}

void pass_set_job_state(struct pass *p, const char *state) {
  struct fo_job_status *j = &p->st.job_status;
  p->st.has_job_status = true;
  if (j->state && state && !strcmp(j->state, state)) return;
  pass_set(p, &j->state, state);
  char t[32];
  snprintf(t, sizeof t, "%lld", (long long)fo_clock_ms());
  pass_set(p, &j->update_time, t);
}

/* A session cluster's Running condition follows its JobManager, as the reference words it. */
static const struct {
  const char *jm, *reason, *message;
} session_conditions[] = {
    {"READY", "JobManagerReady", "JobManager is running and ready to receive REST API calls"},
    {"DEPLOYED_NOT_READY", "DeployedNotReady",
     "JobManager is running but not yet ready to receive REST API calls"},
    {"DEPLOYING", "JobManagerIsDeploying", "JobManager process is starting up"},
    {"MISSING", "JobManagerDeploymentMissing", "JobManager deployment not found"},
    {"ERROR", "Error", "JobManager deployment failed"},
};

static void set_conditions(struct pass *p) {
  const char *js = p->st.job_status.state, *session_msg = NULL;
  char reason[32];
  const char *status;
  if (!p->spec.job.present) {
    const char *jm = p->st.jm_deployment_status;
    size_t i = 0, n = sizeof session_conditions / sizeof *session_conditions;
    while (jm && i < n && strcmp(session_conditions[i].jm, jm)) i++;
    if (!jm || i == n) return;
    snprintf(reason, sizeof reason, "%s", session_conditions[i].reason);
    session_msg = session_conditions[i].message;
    status = i == 0 ? "True" : "False";
  } else {
    if (!js) return;
    size_t k = 0;
    bool up = true;
    for (const char *c = js; *c && k + 1 < sizeof reason; c++) {
      if (*c == '_') {
        up = true;
        continue;
      }
      reason[k++] = up ? *c : (char)(*c >= 'A' && *c <= 'Z' ? *c + 32 : *c);
      up = false;
    }
    reason[k] = '\0';
    status = strcmp(js, "RUNNING") ? "False" : "True";
  }
  json_object *old = p->st.conditions ? json_object_array_get_idx(p->st.conditions, 0) : NULL;
  const char *old_status = fo_json_get_string(old, "status"),
             *old_time = fo_json_get_string(old, "lastTransitionTime");
  char now[32], msg[640];
  fo_clock_rfc3339(now, sizeof now, 0);
  /* the reference's "Job status <STATE>", and what stands in the way when something does */
  json_object *err = p->st.error && *p->st.error ? json_tokener_parse(p->st.error) : NULL;
  const char *why = fo_json_get_string(err, "message");
  if (!why && p->st.error && *p->st.error && !json_object_is_type(err, json_type_object))
    why = p->st.error; /* (not JSON: as written) */
  if (session_msg && why && *why) snprintf(msg, sizeof msg, "%s: %.560s", session_msg, why);
  else if (session_msg) snprintf(msg, sizeof msg, "%s", session_msg);
  else if (why && *why) snprintf(msg, sizeof msg, "Job status %s: %.600s", js, why);
  else snprintf(msg, sizeof msg, "Job status %s", js);
  json_object_put(err);
  json_object *cond = json_object_new_object();
  fo_json_set(cond, "type", json_object_new_string("Running"), &p->oom);
  fo_json_set(cond, "status", json_object_new_string(status), &p->oom);
  fo_json_set(cond, "reason", json_object_new_string(reason), &p->oom);
  fo_json_set(cond, "message", json_object_new_string(msg), &p->oom);
  fo_json_set(cond, "lastTransitionTime",
              json_object_new_string(
                  old_status && old_time && !strcmp(old_status, status) ? old_time : now),
              &p->oom);
  json_object *arr = json_object_new_array();
  fo_json_push(arr, cond, &p->oom);
  json_object_put(p->st.conditions);
  p->st.conditions = arr;
}

/* status.taskManager, for the scale subresource: the TaskManagers' pods' selector and how many
 * the spec asks for (taskManager.replicas, else the parallelism over the slots); 0 and no
 * selector while suspended (the reference writes an empty selector, which the Kubernetes 1.20 API
 * server refuses as null). */
static void set_task_manager(struct pass *p) {
  bool suspended = p->st.lifecycle_state && !strcmp(p->st.lifecycle_state, "SUSPENDED");
  int64_t n = 0;
  char sel[320] = "";
  if (!suspended) {
    n = p->spec.job.present || p->spec.task_manager.replicas.set
            ? cluster_tm_count(&p->spec, p->conf)
            : 0; /* a session cluster's TaskManagers come with its jobs */
    snprintf(sel, sizeof sel, "component=taskmanager,app=%.253s", p->name);
  }
  struct fo_tm_status *tm = &p->st.task_manager;
  p->st.has_task_manager = true;
  tm->replicas = (struct fo_opt_int){true, n};
  pass_set(p, &tm->label_selector, *sel ? sel : NULL);
}

void pass_finish(struct pass *p) {
  p->st.observed_generation.set = true;
  set_conditions(p);
  pass_set(p, &p->st.lifecycle_state, fo_status_lifecycle_for(&p->st, p->recorded_state));
  set_task_manager(p);
}

/* Replaces the object's resourceVersion (after our own write). Only the version changes: ns,
 * name and uid borrow from the metadata. */
static void carry_version(struct pass *p, json_object *written) {
  const char *rv = fo_json_get_string(fo_json_get_object(written, "metadata"), "resourceVersion");
  if (rv)
    fo_json_set(fo_json_get_object(p->obj, "metadata"), "resourceVersion",
                json_object_new_string(rv), &p->oom);
}

int pass_write_status(struct pass *p) {
  if (p->oom) return p->oom; /* never write a status built after an allocation failed */
  /* what this pass changes (against the status it read), laid over the newest status known: what
   * the object held, then what we wrote, or what a conflict made us read again */
  json_object *want = fo_status_to_json(&p->st);
  json_object *ours = want ? fo_merge_patch_diff(p->st.raw, want) : NULL;
  json_object_put(want);
  if (!ours) return -ENOMEM;
  int r = 0;
  for (int attempt = 1;; attempt++) {
    json_object *cur = fo_json_get_object(p->obj, "status");
    json_object *body = fo_merge_patch_new(cur, ours);
    if (!body) {
      r = -ENOMEM;
      break;
    }
    if (cur && json_object_equal(body, cur)) { /* nothing to write */
      json_object_put(body);
      r = 0;
      break;
    }
    if ((r = fo_json_set(p->obj, "status", body, NULL)) < 0) break;
    json_object *ret = NULL;
    r = fo_kube_update(p->k, &fo_res_flinkdeployments, p->ns, p->name, "status", p->obj, &ret);
    if (r == 0) carry_version(p, ret);
    json_object_put(ret);
    if (r != -ESTALE || attempt == 5) break;
    /* conflict: someone wrote in between; read the newer status and lay our changes over it */
    json_object *fresh = NULL, *theirs = NULL;
    r = fo_kube_get(p->k, &fo_res_flinkdeployments, p->ns, p->name, &fresh);
    json_object *fs = fo_json_get_object(fresh, "status");
    if (r == 0 && fs && json_object_deep_copy(fs, &theirs, NULL) != 0) r = -ENOMEM;
    if (r == 0)
      r = theirs ? fo_json_set(p->obj, "status", theirs, NULL)
                 : (json_object_object_del(p->obj, "status"), 0);
    if (r == 0) carry_version(p, fresh);
    json_object_put(fresh);
    if (r == 0) r = p->oom;
    if (r < 0) break;
  }
  json_object_put(ours);
  return r;
}

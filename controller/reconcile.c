#include "reconcile.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "crobj.h"
#include "events.h"
#include "flinkop/buf.h"
#include "flinkop/clock.h"
#include "flinkop/findings.h"
#include "flinkop/log.h"
#include "flinkop/model.h"
#include "flinkop/rules.h"
#include "lifecycle.h"
#include "pass.h"
#include "snapshot.h"

#define FINALIZER "flinkdeployments.flink.apache.org/finalizer"
#define VALIDATION_ERROR "org.apache.flink.kubernetes.operator.exception.ValidationException"
#define RECONCILE_ERROR "org.apache.flink.kubernetes.operator.exception.ReconciliationException"

/* Deleted: clean up, then let the object go. */
static int on_delete(struct pass *p, double *ret_again) {
  if (!cro_has_finalizer(p->obj, FINALIZER)) return 0;
  int done = cleanup_step(p, ret_again);
  if (done != 1) return done;
  *ret_again = 0;
  json_object *fresh = NULL; /* cleanup wrote the status: remove the finalizer from the latest */
  int r = fo_kube_get(p->k, &fo_res_flinkdeployments, p->ns, p->name, &fresh);
  if (r == 0) r = cro_set_finalizer(p->k, &fo_res_flinkdeployments, fresh, FINALIZER, false);
  json_object_put(fresh);
  return r;
}

/* Validates the spec with the webhook's rulebook. An invalid one is reported (status.error, a
 * ValidationError Warning once per new message) and nothing is deployed from it: *ret_invalid. */
static int validate(struct pass *p, bool *ret_invalid) {
  struct fo_findings errs, warns;
  fo_findings_init(&errs);
  fo_findings_init(&warns);
  *ret_invalid = false;
  /* without memory the verdict is unknown: neither "invalid" nor "valid" may be acted on */
  int r = fo_rules_validate(p->doc, NULL, p->default_conf, &errs, &warns);
  if (r == 0 && errs.n) {
    *ret_invalid = true;
    char *msg = fo_findings_join(&errs, "; ");
    const char *prev = p->st.error ? strdup(p->st.error) : NULL;
    if (!msg || (p->st.error && !prev)) r = -ENOMEM;
    if (r == 0) pass_set_error(p, VALIDATION_ERROR, msg);
    if (r == 0 && p->oom) r = p->oom; /* the error cannot be written whole: try again later */
    if (r == 0 && (!prev || strcmp(prev, p->st.error))) /* once per new error, not per pass */
      event_record(p->k, p->obj, "Warning", "ValidationError", msg);
    free((char *)prev);
    free(msg);
    if (r == 0) {
      p->st.observed_generation = (struct fo_opt_int){true, p->gen};
      pass_set(p, &p->st.lifecycle_state, fo_status_lifecycle_for(&p->st, p->recorded_state));
      r = pass_write_status(p);
    }
  }
  fo_findings_free(&errs);
  fo_findings_free(&warns);
  return r;
}

/* A transition, or a savepoint, in flight acts on what the status says (it deletes a cluster,
 * starts one, records a savepoint), and the informer's copy can lag this process's own last write
 * (the next pass may come 0.2 s after it): a lagging copy would undo its own step, deleting the
 * cluster it had just started as if it were the old one. So while one is in flight the pass reads
 * the object from the API server; the steady state keeps reading the cache. */
static int fresh_in_transition(struct fo_kube *k, json_object **obj) {
  json_object *st = fo_json_get_object(*obj, "status");
  const char *rs = fo_json_get_string(fo_json_get_object(st, "reconciliationStatus"), "state");
  const char *trigger = fo_json_get_string(
      fo_json_path(st, "jobStatus", "savepointInfo", (const char *)NULL), "triggerId");
  if (!(rs && (!strcmp(rs, "UPGRADING") || !strcmp(rs, "ROLLING_BACK"))) && !(trigger && *trigger))
    return 0;
  json_object *m = fo_json_get_object(*obj, "metadata");
  json_object *fresh = NULL;
  int r = fo_kube_get(k, &fo_res_flinkdeployments, fo_json_get_string(m, "namespace"),
                      fo_json_get_string(m, "name"), &fresh);
  if (r < 0) return r;
  json_object_put(*obj);
  *obj = fresh;
  return 0;
}

/* status.error written by reconcile_report (not a validation or upgrade error: those are cleared
 * by what fixes them). */
static bool is_reconcile_error(const char *error) {
  json_object *e = error ? json_tokener_parse(error) : NULL;
  const char *type = fo_json_get_string(e, "type");
  bool ours = type && !strcmp(type, RECONCILE_ERROR);
  json_object_put(e);
  return ours;
}

const char *reconcile_failure_class(int err, const struct fo_kube_error *why) {
  long code = why ? why->http_code : 0;
  switch (err) {
  case -ENOMEM: return "OutOfMemory";
  case -ESTALE: return "Conflict";
  case -EEXIST: return "AlreadyExists";
  case -EINVAL: return code == 422 ? "Invalid" : code == 400 ? "BadRequest" : "Error";
  case -EPERM: return code == 403 ? "Forbidden" : "Error";
  case -EACCES: return code == 401 ? "Unauthorized" : "Error";
  case -EAGAIN: return code == 429 ? "TooManyRequests" : "Error";
  case -EIO: return code >= 500 || code == 0 ? "ServerError" : "Error";
  default: break;
  }
  if (code == 0 && why && why->method[0]) return "Unreachable"; /* sent, and no answer */
  return "Error";
}

int reconcile_report(const struct pass_env *env, struct fo_kube *k, json_object *obj,
                     const char *key, int err, const struct fo_kube_error *why,
                     const struct reconcile_retry *retry) {
  double retry_s = retry->in_s;
  const char *cls = reconcile_failure_class(err, why);
  bool sent = why && why->method[0];
  if (!obj || !strcmp(cls, "Conflict") || (err == -EPERM && why && why->http_code == 0)) {
    json_object_put(obj); /* gone, someone else's newer write, or not ours to write (no lease) */
    return 0;
  }
  /* what failed, in the API server's (or the transport's) own words */
  struct fo_buf what, msg;
  fo_buf_init(&what, 4096);
  fo_buf_init(&msg, 8192);
  int r = 0;
  if (sent && why->http_code)
    r = fo_buf_printf(&what, "%s %s: %s (HTTP %ld%s%s)", why->method, why->path,
                      why->message[0] ? why->message : "no message", why->http_code,
                      why->reason[0] ? " " : "", why->reason);
  else if (sent)
    r = fo_buf_printf(&what, "%s %s: no answer from the API server (%s)", why->method, why->path,
                      why->message[0] ? why->message : "no detail");
  else r = fo_buf_printf(&what, "reconcile failed: %s (error %d)", cls, err);
  char at[32];
  fo_clock_rfc3339_in(at, sizeof at, retry_s);
  if (r == 0)
    r = fo_buf_printf(&msg, "%s; %snext attempt in %.*f s (%s)", what.data,
                      retry->exhausted ? "retries exhausted, " : "", retry_s < 10 ? 1 : 0, retry_s,
                      at);
  struct pass p;
  bool loaded = r == 0;
  if (loaded) r = pass_load(&p, env, k, obj, key); /* takes obj */
  else json_object_put(obj);
  json_object *e = json_object_new_object(), *md = json_object_new_object();
  int oom = e && md ? r : -ENOMEM;
  fo_json_set(md, "class", json_object_new_string(cls), &oom);
  if (why && why->http_code)
    fo_json_set(md, "httpCode", json_object_new_int64(why->http_code), &oom);
  if (retry->attempt > 0) fo_json_set(md, "attempt", json_object_new_int(retry->attempt), &oom);
  fo_json_set(md, "nextAttempt", json_object_new_string(at), &oom);
  fo_json_set(e, "type", json_object_new_string(RECONCILE_ERROR), &oom);
  fo_json_set(e, "message", json_object_new_string(msg.data ? msg.data : ""), &oom);
  fo_json_set(e, "additionalMetadata", json_object_get(md), &oom);
  fo_json_set(e, "throwableList", json_object_new_array(), &oom);
  char *text = oom ? NULL : fo_json_dumps(e);
  json_object_put(e);
  json_object_put(md);
  if (r == 0 && !text) r = -ENOMEM;
  if (r == 0) {
    pass_set(&p, &p.st.error, text);
    pass_finish(&p);
    r = pass_write_status(&p);
    event_record(k, p.obj, "Warning", "Error", what.data);
  }
  free(text);
  if (loaded) pass_unload(&p);
  fo_log("warning", "failure reported",
         "\"object\":\"%s\",\"class\":\"%s\",\"error\":%d,\"detail\":\"%s\",\"retryIn\":%.1f,"
         "\"result\":%d",
         fo_log_str(key), cls, err, fo_log_str(what.data), retry_s, r);
  fo_buf_free(&what);
  fo_buf_free(&msg);
  return r;
}

/* The savepoint and checkpoint the status names last, as FlinkStateSnapshot records (cheap when
 * they exist: the snapshots' cache answers). Needs that cache; a failure is logged only. */
static void record_snapshots(struct pass *p) {
  if (!p->env->cached_snapshot || !p->st.has_job_status) return;
  const struct fo_savepoint_info *si = &p->st.job_status.savepoint_info;
  if (p->st.job_status.has_savepoint_info && si->has_last && si->last.time_stamp.set)
    snapshot_record(p->env, p->k, "FlinkDeployment", p->ns, p->name, false, si->last.trigger_type,
                    si->last.location, si->last.time_stamp.v);
  const struct fo_checkpoint_info *ci = &p->st.job_status.checkpoint_info;
  if (p->st.job_status.has_checkpoint_info && ci->has_last && ci->last.time_stamp.set)
    snapshot_record(p->env, p->k, "FlinkDeployment", p->ns, p->name, true, ci->last.trigger_type,
                    NULL, ci->last.time_stamp.v);
}

int reconcile(const struct pass_env *env, struct fo_kube *k, json_object *obj, const char *key,
              double *ret_again) {
  *ret_again = 0;
  if (!obj) {
    fo_log("info", "reconcile", "\"object\":\"%s\",\"result\":\"gone\"", fo_log_str(key));
    return 0;
  }
  int r = fresh_in_transition(k, &obj);
  if (r < 0) {
    json_object_put(obj);
    if (r != -ENOENT) /* (gone meanwhile: nothing to do) */
      fo_log("warning", "reconcile failed", "\"object\":\"%s\",\"error\":%d,\"detail\":\"%s\"",
             fo_log_str(key), r, fo_log_str(fo_kube_last_error(k)->message));
    return r == -ENOENT ? 0 : r;
  }
  struct pass p;
  r = pass_load(&p, env, k, obj, key);
  const char *rv = fo_json_get_string(fo_json_get_object(obj, "metadata"), "resourceVersion");
  fo_log("info", "reconcile", "\"object\":\"%s\",\"resourceVersion\":\"%s\",\"generation\":%lld",
         fo_log_str(key), fo_log_str(rv), (long long)p.gen);
  if (r < 0) {
  } else if (fo_json_get(fo_json_get_object(obj, "metadata"), "deletionTimestamp")) {
    r = on_delete(&p, ret_again);
  } else if (!cro_has_finalizer(obj, FINALIZER)) {
    r = cro_set_finalizer(k, &fo_res_flinkdeployments, obj, FINALIZER,
                          true); /* the update comes back through the watch */
  } else {
    bool invalid = false;
    r = validate(&p, &invalid);
    if (r == 0 && !invalid) r = lifecycle_reconcile(&p, ret_again);
    if (r == 0 && !invalid) record_snapshots(&p);
    if (r == 0 && !invalid && is_reconcile_error(p.st.error)) { /* the cause went away */
      pass_set_error(&p, RECONCILE_ERROR, NULL);
      pass_finish(&p); /* (the Running condition said it too) */
      r = pass_write_status(&p);
    }
  }
  if (r < 0 && r != -ENOENT)
    fo_log("warning", "reconcile failed", "\"object\":\"%s\",\"error\":%d,\"detail\":\"%s\"",
           fo_log_str(key), r, fo_log_str(fo_kube_last_error(k)->message));
  pass_unload(&p); /* puts obj */
  return r == -ENOENT ? 0 : r;
}

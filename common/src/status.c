#include "flinkop/status.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

void fo_status_init(struct fo_status *s) { memset(s, 0, sizeof *s); }

static void savepoint_free(struct fo_savepoint *p) {
  free(p->location);
  free(p->trigger_type);
  free(p->format_type);
  memset(p, 0, sizeof *p);
}

void fo_status_free(struct fo_status *s) {
  if (!s) return;
  struct fo_job_status *j = &s->job_status;
  free(j->job_name);
  free(j->job_id);
  free(j->state);
  free(j->start_time);
  free(j->update_time);
  free(j->upgrade_savepoint_path);
  struct fo_savepoint_info *si = &j->savepoint_info;
  savepoint_free(&si->last);
  free(si->trigger_id);
  free(si->trigger_type);
  free(si->format_type);
  for (size_t i = 0; i < si->n_history; i++) savepoint_free(&si->history[i]);
  free(si->history);
  struct fo_checkpoint_info *ci = &j->checkpoint_info;
  free(ci->last.trigger_type);
  free(ci->last.format_type);
  free(ci->trigger_id);
  free(ci->trigger_type);
  free(ci->format_type);
  free(s->jm_deployment_status);
  free(s->lifecycle_state);
  free(s->error);
  json_object_put(s->cluster_info);
  free(s->reconciliation_status.last_reconciled_spec);
  free(s->reconciliation_status.last_stable_spec);
  free(s->reconciliation_status.state);
  free(s->task_manager.label_selector);
  json_object_put(s->conditions);
  json_object_put(s->raw);
  memset(s, 0, sizeof *s);
}

int fo_status_set_str(char **field, const char *v) {
  char *c = NULL;
  if (v && !(c = strdup(v))) return -ENOMEM;
  free(*field);
  *field = c;
  return 0;
}

/* Reading: copy a string member if it is a string. */
static int get_str(json_object *o, const char *key, char **out) {
  const char *v = fo_json_get_string(o, key);
  if (!v) return 0;
  *out = strdup(v);
  return *out ? 0 : -ENOMEM;
}

static void get_int(json_object *o, const char *key, struct fo_opt_int *out) {
  int64_t v;
  if (fo_json_as_int64(fo_json_get(o, key), &v)) {
    out->set = true;
    out->v = v;
  }
}

static int read_savepoint(json_object *o, struct fo_savepoint *p) {
  get_int(o, "timeStamp", &p->time_stamp);
  get_int(o, "triggerNonce", &p->trigger_nonce);
  int r = get_str(o, "location", &p->location);
  if (r == 0) r = get_str(o, "triggerType", &p->trigger_type);
  if (r == 0) r = get_str(o, "formatType", &p->format_type);
  return r;
}

static int read_savepoint_info(json_object *o, struct fo_savepoint_info *si) {
  int r = 0;
  json_object *last = fo_json_get_object(o, "lastSavepoint");
  if (last) {
    si->has_last = true;
    r = read_savepoint(last, &si->last);
  }
  if (r == 0) r = get_str(o, "triggerId", &si->trigger_id);
  get_int(o, "triggerTimestamp", &si->trigger_timestamp);
  if (r == 0) r = get_str(o, "triggerType", &si->trigger_type);
  if (r == 0) r = get_str(o, "formatType", &si->format_type);
  get_int(o, "lastPeriodicSavepointTimestamp", &si->last_periodic_timestamp);
  json_object *h = fo_json_get_array(o, "savepointHistory");
  if (r == 0 && h) {
    si->has_history = true;
    size_t n = json_object_array_length(h);
    if (n) {
      si->history = calloc(n, sizeof *si->history);
      if (!si->history) return -ENOMEM;
    }
    for (size_t i = 0; r == 0 && i < n; i++) {
      json_object *e = json_object_array_get_idx(h, i);
      if (!e || !json_object_is_type(e, json_type_object)) continue;
      r = read_savepoint(e, &si->history[si->n_history++]);
    }
  }
  return r;
}

static int read_checkpoint_info(json_object *o, struct fo_checkpoint_info *ci) {
  int r = 0;
  json_object *last = fo_json_get_object(o, "lastCheckpoint");
  if (last) {
    ci->has_last = true;
    get_int(last, "timeStamp", &ci->last.time_stamp);
    get_int(last, "triggerNonce", &ci->last.trigger_nonce);
    r = get_str(last, "triggerType", &ci->last.trigger_type);
    if (r == 0) r = get_str(last, "formatType", &ci->last.format_type);
  }
  if (r == 0) r = get_str(o, "triggerId", &ci->trigger_id);
  get_int(o, "triggerTimestamp", &ci->trigger_timestamp);
  if (r == 0) r = get_str(o, "triggerType", &ci->trigger_type);
  if (r == 0) r = get_str(o, "formatType", &ci->format_type);
  get_int(o, "lastPeriodicCheckpointTimestamp", &ci->last_periodic_timestamp);
  return r;
}

int fo_status_read(json_object *st, struct fo_status *s) {
  fo_status_init(s);
  if (!st || !json_object_is_type(st, json_type_object)) return 0;
  int r = json_object_deep_copy(st, &s->raw, NULL) == 0 ? 0 : -ENOMEM;
  json_object *js = fo_json_get_object(st, "jobStatus");
  if (r == 0 && js) {
    struct fo_job_status *j = &s->job_status;
    s->has_job_status = true;
    r = get_str(js, "jobName", &j->job_name);
    if (r == 0) r = get_str(js, "jobId", &j->job_id);
    if (r == 0) r = get_str(js, "state", &j->state);
    if (r == 0) r = get_str(js, "startTime", &j->start_time);
    if (r == 0) r = get_str(js, "updateTime", &j->update_time);
    if (r == 0) r = get_str(js, "upgradeSavepointPath", &j->upgrade_savepoint_path);
    json_object *si = fo_json_get_object(js, "savepointInfo");
    if (r == 0 && si) {
      j->has_savepoint_info = true;
      r = read_savepoint_info(si, &j->savepoint_info);
    }
    json_object *ci = fo_json_get_object(js, "checkpointInfo");
    if (r == 0 && ci) {
      j->has_checkpoint_info = true;
      r = read_checkpoint_info(ci, &j->checkpoint_info);
    }
  }
  if (r == 0) r = get_str(st, "jobManagerDeploymentStatus", &s->jm_deployment_status);
  if (r == 0) r = get_str(st, "lifecycleState", &s->lifecycle_state);
  if (r == 0) r = get_str(st, "error", &s->error);
  get_int(st, "observedGeneration", &s->observed_generation);
  json_object *ci = fo_json_get_object(st, "clusterInfo");
  if (r == 0 && ci && json_object_deep_copy(ci, &s->cluster_info, NULL) != 0) r = -ENOMEM;
  json_object *rs = fo_json_get_object(st, "reconciliationStatus");
  if (r == 0 && rs) {
    struct fo_reconciliation_status *rc = &s->reconciliation_status;
    s->has_reconciliation_status = true;
    get_int(rs, "reconciliationTimestamp", &rc->reconciliation_timestamp);
    r = get_str(rs, "lastReconciledSpec", &rc->last_reconciled_spec);
    if (r == 0) r = get_str(rs, "lastStableSpec", &rc->last_stable_spec);
    if (r == 0) r = get_str(rs, "state", &rc->state);
  }
  json_object *tm = fo_json_get_object(st, "taskManager");
  if (r == 0 && tm) {
    s->has_task_manager = true;
    r = get_str(tm, "labelSelector", &s->task_manager.label_selector);
    get_int(tm, "replicas", &s->task_manager.replicas);
  }
  json_object *cond = fo_json_get_array(st, "conditions");
  if (r == 0 && cond && json_object_deep_copy(cond, &s->conditions, NULL) != 0) r = -ENOMEM;
  if (r < 0) {
    fo_status_free(s);
    fo_status_init(s);
  }
  return r;
}

/* Writing: a typed field overwrites the member; an unset field removes a member of the type it
 * would have had (the caller cleared it) and leaves anything else as it was read. */
static int put(json_object *o, const char *key, json_object *v) {
  if (!v) return -ENOMEM;
  if (json_object_object_add(o, key, v) != 0) {
    json_object_put(v);
    return -ENOMEM;
  }
  return 0;
}

static int put_str(json_object *o, const char *key, const char *v) {
  if (v) return put(o, key, json_object_new_string(v));
  json_object *cur = fo_json_get(o, key);
  if (cur && json_object_is_type(cur, json_type_string)) json_object_object_del(o, key);
  return 0;
}

static int put_int(json_object *o, const char *key, struct fo_opt_int v) {
  json_object *cur = fo_json_get(o, key);
  int64_t old;
  if (v.set) {
    if (fo_json_as_int64(cur, &old) && old == v.v) return 0; /* keep the original spelling */
    return put(o, key, json_object_new_int64(v.v));
  }
  if (fo_json_as_int64(cur, &old)) json_object_object_del(o, key);
  return 0;
}

static int put_obj_copy(json_object *o, const char *key, json_object *v, json_type t) {
  if (v) {
    json_object *c = NULL;
    if (json_object_deep_copy(v, &c, NULL) != 0) return -ENOMEM;
    return put(o, key, c);
  }
  json_object *cur = fo_json_get(o, key);
  if (cur && json_object_is_type(cur, t)) json_object_object_del(o, key);
  return 0;
}

/* Returns the member object to write into (created when `want`), or NULL when not wanted. */
static json_object *member(json_object *o, const char *key, bool want, int *r) {
  if (!want) {
    json_object *cur = fo_json_get(o, key);
    if (cur && json_object_is_type(cur, json_type_object)) json_object_object_del(o, key);
    return NULL;
  }
  json_object *m = fo_json_ensure_object(o, key);
  if (!m) *r = -ENOMEM;
  return m;
}

static int write_savepoint(json_object *o, const struct fo_savepoint *p) {
  int r = put_int(o, "timeStamp", p->time_stamp);
  if (r == 0) r = put_str(o, "location", p->location);
  if (r == 0) r = put_str(o, "triggerType", p->trigger_type);
  if (r == 0) r = put_str(o, "formatType", p->format_type);
  if (r == 0) r = put_int(o, "triggerNonce", p->trigger_nonce);
  return r;
}

static int write_savepoint_info(json_object *o, const struct fo_savepoint_info *si) {
  int r = 0;
  json_object *last = member(o, "lastSavepoint", si->has_last, &r);
  if (last) r = write_savepoint(last, &si->last);
  if (r == 0) r = put_str(o, "triggerId", si->trigger_id);
  if (r == 0) r = put_int(o, "triggerTimestamp", si->trigger_timestamp);
  if (r == 0) r = put_str(o, "triggerType", si->trigger_type);
  if (r == 0) r = put_str(o, "formatType", si->format_type);
  if (r == 0) r = put_int(o, "lastPeriodicSavepointTimestamp", si->last_periodic_timestamp);
  if (r == 0 && si->has_history) {
    json_object *old = fo_json_get_array(o, "savepointHistory");
    json_object *arr = json_object_new_array();
    if (!arr) return -ENOMEM;
    size_t n_old = old ? json_object_array_length(old) : 0;
    for (size_t i = 0; r == 0 && i < si->n_history; i++) {
      /* the entry read for the same savepoint (its location): entries may have gone from before
       * it (the history trimmed), never come, so it is at i or after */
      json_object *prev = NULL;
      const char *loc = si->history[i].location;
      for (size_t j = i; loc && j < n_old && !prev; j++) {
        json_object *c = json_object_array_get_idx(old, j);
        const char *cl = fo_json_get_string(c, "location");
        if (cl && !strcmp(cl, loc)) prev = c;
      }
      json_object *e = NULL;
      if (prev && json_object_is_type(prev, json_type_object)) {
        if (json_object_deep_copy(prev, &e, NULL) != 0) e = NULL;
      } else {
        e = json_object_new_object();
      }
      if (!e || json_object_array_add(arr, e) != 0) {
        json_object_put(e);
        r = -ENOMEM;
        break;
      }
      r = write_savepoint(e, &si->history[i]);
    }
    if (r == 0) r = put(o, "savepointHistory", arr);
    else json_object_put(arr);
  } else if (r == 0) {
    json_object *cur = fo_json_get(o, "savepointHistory");
    if (cur && json_object_is_type(cur, json_type_array))
      json_object_object_del(o, "savepointHistory");
  }
  return r;
}

static int write_checkpoint_info(json_object *o, const struct fo_checkpoint_info *ci) {
  int r = 0;
  json_object *last = member(o, "lastCheckpoint", ci->has_last, &r);
  if (last) {
    r = put_int(last, "timeStamp", ci->last.time_stamp);
    if (r == 0) r = put_str(last, "triggerType", ci->last.trigger_type);
    if (r == 0) r = put_str(last, "formatType", ci->last.format_type);
    if (r == 0) r = put_int(last, "triggerNonce", ci->last.trigger_nonce);
  }
  if (r == 0) r = put_str(o, "triggerId", ci->trigger_id);
  if (r == 0) r = put_int(o, "triggerTimestamp", ci->trigger_timestamp);
  if (r == 0) r = put_str(o, "triggerType", ci->trigger_type);
  if (r == 0) r = put_str(o, "formatType", ci->format_type);
  if (r == 0) r = put_int(o, "lastPeriodicCheckpointTimestamp", ci->last_periodic_timestamp);
  return r;
}

json_object *fo_status_to_json(const struct fo_status *s) {
  json_object *o = NULL;
  if (s->raw) {
    if (json_object_deep_copy(s->raw, &o, NULL) != 0) return NULL;
  } else if (!(o = json_object_new_object())) {
    return NULL;
  }
  int r = 0;
  json_object *js = member(o, "jobStatus", s->has_job_status, &r);
  if (js) {
    const struct fo_job_status *j = &s->job_status;
    r = put_str(js, "jobName", j->job_name);
    if (r == 0) r = put_str(js, "jobId", j->job_id);
    if (r == 0) r = put_str(js, "state", j->state);
    if (r == 0) r = put_str(js, "startTime", j->start_time);
    if (r == 0) r = put_str(js, "updateTime", j->update_time);
    if (r == 0) r = put_str(js, "upgradeSavepointPath", j->upgrade_savepoint_path);
    json_object *si = r == 0 ? member(js, "savepointInfo", j->has_savepoint_info, &r) : NULL;
    if (si) r = write_savepoint_info(si, &j->savepoint_info);
    json_object *ci = r == 0 ? member(js, "checkpointInfo", j->has_checkpoint_info, &r) : NULL;
    if (ci) r = write_checkpoint_info(ci, &j->checkpoint_info);
  }
  if (r == 0) r = put_str(o, "jobManagerDeploymentStatus", s->jm_deployment_status);
  if (r == 0) r = put_str(o, "lifecycleState", s->lifecycle_state);
  if (r == 0) r = put_str(o, "error", s->error);
  if (r == 0) r = put_int(o, "observedGeneration", s->observed_generation);
  if (r == 0) r = put_obj_copy(o, "clusterInfo", s->cluster_info, json_type_object);
  json_object *rs =
      r == 0 ? member(o, "reconciliationStatus", s->has_reconciliation_status, &r) : NULL;
  if (rs) {
    const struct fo_reconciliation_status *rc = &s->reconciliation_status;
    r = put_int(rs, "reconciliationTimestamp", rc->reconciliation_timestamp);
    if (r == 0) r = put_str(rs, "lastReconciledSpec", rc->last_reconciled_spec);
    if (r == 0) r = put_str(rs, "lastStableSpec", rc->last_stable_spec);
    if (r == 0) r = put_str(rs, "state", rc->state);
  }
  json_object *tm = r == 0 ? member(o, "taskManager", s->has_task_manager, &r) : NULL;
  if (tm) {
    r = put_str(tm, "labelSelector", s->task_manager.label_selector);
    if (r == 0) r = put_int(tm, "replicas", s->task_manager.replicas);
  }
  if (r == 0) r = put_obj_copy(o, "conditions", s->conditions, json_type_array);
  if (r < 0) {
    json_object_put(o);
    return NULL;
  }
  return o;
}

char *fo_reconciled_spec_encode(json_object *spec, bool first_deployment) {
  json_object *w = json_object_new_object();
  json_object *meta = json_object_new_object();
  json_object *sc = NULL;
  char *out = NULL;
  if (!w || !meta) goto done;
  if (spec) {
    if (json_object_deep_copy(spec, &sc, NULL) != 0) goto done;
  } else if (!(sc = json_object_new_object())) {
    goto done;
  }
  if (json_object_object_add(w, "spec", sc) != 0) goto done;
  sc = NULL;
  if (put(meta, "apiVersion", json_object_new_string(FO_API_VERSION)) < 0 ||
      put(meta, "firstDeployment", json_object_new_boolean(first_deployment)) < 0)
    goto done;
  if (json_object_object_add(w, "resource_metadata", meta) != 0) goto done;
  meta = NULL;
  out = fo_json_dumps(w);
done:
  json_object_put(sc);
  json_object_put(meta);
  json_object_put(w);
  return out;
}

/* A value read as a boolean the way json_object_get_boolean reads one. */
static bool truthy(const struct fo_jv *v) {
  if (!v) return false;
  switch (v->type) {
  case FO_JBOOL: return v->u.b;
  case FO_JINT: return v->u.i != 0;
  case FO_JDOUBLE: return v->u.num.d != 0;
  case FO_JSTRING: return v->n != 0;
  default: return false;
  }
}

/* Both stored forms; *ret_root is the whole document (it is the spec in the older form). */
static int reconciled_read(const char *text, const struct fo_json_filter *filter,
                           struct fo_arena *a, const struct fo_jv **ret_root,
                           const struct fo_jv **ret_spec, bool *ret_first_deployment,
                           struct fo_parse_error *err) {
  *ret_spec = NULL;
  const struct fo_jv *o;
  int r = fo_jv_parse(text, strlen(text), NULL, filter, a, &o, err);
  if (r < 0) return r;
  if (!o || o->type != FO_JOBJECT) {
    fo_parse_error_set(err, 0, 0, "lastReconciledSpec is not a JSON object");
    return err && !err->message ? -ENOMEM : -EINVAL;
  }
  const struct fo_jv *spec = fo_jv_get_object(o, "spec");
  const struct fo_jv *meta = fo_jv_get_object(o, "resource_metadata");
  *ret_root = o;
  *ret_first_deployment = spec && meta && truthy(fo_jv_get(meta, "firstDeployment"));
  /* Older form: the spec itself, perhaps carrying apiVersion. */
  *ret_spec = spec && meta ? spec : o;
  return 0;
}

int fo_reconciled_spec_read(const char *text, const struct fo_json_filter *filter,
                            struct fo_arena *a, const struct fo_jv **ret_spec,
                            bool *ret_first_deployment, struct fo_parse_error *err) {
  const struct fo_jv *root;
  return reconciled_read(text, filter, a, &root, ret_spec, ret_first_deployment, err);
}

int fo_reconciled_spec_decode(const char *text, json_object **ret_spec, bool *ret_first_deployment,
                              struct fo_parse_error *err) {
  *ret_spec = NULL;
  struct fo_arena a;
  fo_arena_init(&a, SIZE_MAX);
  const struct fo_jv *root, *spec;
  int r = reconciled_read(text, NULL, &a, &root, &spec, ret_first_deployment, err);
  if (r == 0 && (r = fo_jv_to_json(spec, ret_spec)) < 0)
    fo_parse_error_set(err, 0, 0, "out of memory");
  if (r == 0 && spec == root) json_object_object_del(*ret_spec, "apiVersion");
  fo_arena_free(&a);
  return r;
}

static bool contains(const char *hay, const char *needle) { return hay && strstr(hay, needle); }

const char *fo_status_lifecycle(const struct fo_status *s) {
  const struct fo_reconciliation_status *rc = &s->reconciliation_status;
  const char *recorded = NULL;
  struct fo_arena a;
  fo_arena_init(&a, SIZE_MAX);
  const struct fo_jv *spec;
  bool first;
  struct fo_parse_error pe = {0};
  if (rc->last_reconciled_spec &&
      fo_reconciled_spec_read(rc->last_reconciled_spec, NULL, &a, &spec, &first, &pe) == 0) {
    const char *st = fo_jv_get_string(fo_jv_get_object(spec, "job"), "state");
    if (st && strcmp(st, "suspended") == 0) recorded = "suspended";
  }
  fo_arena_free(&a);
  fo_parse_error_clear(&pe);
  return fo_status_lifecycle_for(s, recorded);
}

const char *fo_status_lifecycle_for(const struct fo_status *s, const char *recorded_job_state) {
  const char *cur = s->lifecycle_state;
  if (cur && (strcmp(cur, "DELETING") == 0 || strcmp(cur, "DELETED") == 0))
    return strcmp(cur, "DELETING") == 0 ? "DELETING" : "DELETED";
  const struct fo_reconciliation_status *rc = &s->reconciliation_status;
  if (!rc->last_reconciled_spec) return s->error && *s->error ? "FAILED" : "CREATED";
  const char *rstate = rc->state ? rc->state : "UPGRADING";
  if (strcmp(rstate, "UPGRADING") == 0) return "UPGRADING";
  if (strcmp(rstate, "ROLLING_BACK") == 0) return "ROLLING_BACK";
  if (recorded_job_state && strcmp(recorded_job_state, "suspended") == 0) return "SUSPENDED";
  if (s->job_status.state && strcmp(s->job_status.state, "FAILED") == 0) return "FAILED";
  const char *jm = s->jm_deployment_status;
  if (jm && (strcmp(jm, "MISSING") == 0 || strcmp(jm, "ERROR") == 0) &&
      (contains(s->error, "Manual restore required.") ||
       contains(s->error,
                "It is possible that the job has finished or terminally failed, or the "
                "configmaps have been deleted.") ||
       contains(s->error, "HA metadata is not available")))
    return "FAILED";
  if (strcmp(rstate, "ROLLED_BACK") == 0) return "ROLLED_BACK";
  if (rc->last_stable_spec && strcmp(rc->last_reconciled_spec, rc->last_stable_spec) == 0)
    return "STABLE";
  return "DEPLOYED";
}

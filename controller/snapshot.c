#include "snapshot.h"

#include <ctype.h>
#include <errno.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crobj.h"
#include "events.h"
#include "flinkop/buf.h"
#include "flinkop/clock.h"
#include "flinkop/flinkconf.h"
#include "flinkop/flinkrest.h"
#include "flinkop/log.h"
#include "flinkop/model.h"
#include "savepoint.h"

#define SNAPSHOT_ERROR "org.apache.flink.kubernetes.operator.exception.ReconciliationException"
#define POLL_S 2.0
#define STATS_POLL_S 1.0            /* a checkpoint done, Flink's statistics not yet showing it */
#define TIMEOUT_MS (10 * 60 * 1000) /* an IN_PROGRESS snapshot Flink has not finished: failed */
#define REST_PORT 8081

struct snap {
  const struct pass_env *env;
  struct fo_kube *k;
  json_object *obj; /* owned */
  const char *key, *ns, *name;
  json_object *spec; /* borrowed from obj */
  json_object *st;   /* the status to write (owned) */
  char *st_read;     /* its text as read */
  bool checkpoint;   /* spec.checkpoint, else a savepoint */
  /* the job it names */
  const char *target_kind, *target_name;
  json_object *target;  /* the FlinkDeployment or FlinkSessionJob (owned), NULL when missing */
  json_object *cluster; /* the FlinkDeployment whose JobManager runs the job (owned or NULL) */
  json_object *conf;    /* the job's effective configuration (owned) */
  struct fo_flink *f;
  int oom;
};

static void set_str(struct snap *p, const char *key, const char *v) {
  if (!v) json_object_object_del(p->st, key);
  else fo_json_set(p->st, key, json_object_new_string(v), &p->oom);
}

static void set_now(struct snap *p, const char *key) {
  char now[40];
  fo_clock_rfc3339(now, sizeof now, 6);
  set_str(p, key, now);
}

static const char *state_of(struct snap *p) { return fo_json_get_string(p->st, "state"); }

static int write_status(struct snap *p) {
  if (p->oom) return p->oom;
  return cro_write_status(p->k, &fo_res_flinkstatesnapshots, p->obj, p->st, &p->st_read);
}

/* status.error as the reference writes it (the exception as JSON text). */
static void set_error(struct snap *p, const char *msg) {
  if (!msg) {
    json_object_object_del(p->st, "error");
    return;
  }
  char *text = cro_error_text(SNAPSHOT_ERROR, msg);
  if (!text) p->oom = -ENOMEM;
  else set_str(p, "error", text);
  free(text);
}

/* The labels the reference keeps on a snapshot, merged in with one PATCH when they differ. */
static int sync_labels(struct snap *p) {
  json_object *have = fo_json_path(p->obj, "metadata", "labels", (const char *)NULL);
  const char *tt = fo_json_get_string(have, "snapshot.trigger-type");
  const char *want[][2] = {
      {"snapshot.type", p->checkpoint ? "CHECKPOINT" : "SAVEPOINT"},
      {"snapshot.state", state_of(p)},
      {"snapshot.trigger-type", tt ? tt : "MANUAL"},
      {"job-reference.kind", p->target ? p->target_kind : NULL},
      {"job-reference.name", p->target ? p->target_name : NULL},
  };
  json_object *labels = json_object_new_object();
  int oom = labels ? 0 : -ENOMEM;
  bool differ = false;
  for (size_t i = 0; i < sizeof want / sizeof *want; i++) {
    if (!want[i][1]) continue;
    const char *cur = fo_json_get_string(have, want[i][0]);
    if (cur && !strcmp(cur, want[i][1])) continue;
    differ = true;
    fo_json_set(labels, want[i][0], json_object_new_string(want[i][1]), &oom);
  }
  int r = oom;
  if (r == 0 && differ) {
    json_object *patch = json_object_new_object(), *m = json_object_new_object();
    fo_json_set(m, "labels", json_object_get(labels), &oom);
    fo_json_set(patch, "metadata", m, &oom);
    r = oom ? oom
            : fo_kube_patch(p->k, &fo_res_flinkstatesnapshots, p->ns, p->name, NULL, FO_PATCH_MERGE,
                            patch, NULL);
    json_object_put(patch);
  }
  json_object_put(labels);
  return r;
}

/* The job the snapshot names, its cluster, its configuration and a client of its JobManager. */
static int load_target(struct snap *p) {
  json_object *ref = fo_json_get_object(p->spec, "jobReference");
  p->target_kind = fo_json_get_string(ref, "kind");
  p->target_name = fo_json_get_string(ref, "name");
  if (!p->target_kind || !p->target_name) return 0;
  bool sj = !strcmp(p->target_kind, "FlinkSessionJob");
  if (!sj && strcmp(p->target_kind, "FlinkDeployment") != 0) return 0;
  struct fo_buf key;
  fo_buf_init(&key, 1024);
  int r = fo_buf_printf(&key, "%s/%s", p->ns, p->target_name) < 0 ? -ENOMEM : 0;
  if (r == 0 && !sj && p->env->cached_flinkdeployment)
    p->target = p->env->cached_flinkdeployment(p->env->cache_ud, key.data);
  if (r == 0 && !p->target) {
    r = fo_kube_get(p->k, sj ? &fo_res_flinksessionjobs : &fo_res_flinkdeployments, p->ns,
                    p->target_name, &p->target);
    if (r == -ENOENT) r = 0;
  }
  const char *cluster =
      sj ? fo_json_get_string(fo_json_get_object(p->target, "spec"), "deploymentName")
         : p->target_name;
  if (r == 0 && p->target && sj && cluster) {
    fo_buf_reset(&key);
    if (fo_buf_printf(&key, "%s/%s", p->ns, cluster) < 0) r = -ENOMEM;
    if (r == 0 && p->env->cached_flinkdeployment)
      p->cluster = p->env->cached_flinkdeployment(p->env->cache_ud, key.data);
    if (r == 0 && !p->cluster) {
      r = fo_kube_get(p->k, &fo_res_flinkdeployments, p->ns, cluster, &p->cluster);
      if (r == -ENOENT) r = 0;
    }
  } else if (r == 0 && p->target && !sj) {
    p->cluster = json_object_get(p->target);
  }
  fo_buf_free(&key);
  if (r < 0 || !p->cluster) return r;
  json_object *cconf = fo_json_path(p->cluster, "spec", "flinkConfiguration", (const char *)NULL);
  json_object *base = fo_conf_effective_new(p->env->default_conf, cconf);
  p->conf = base && sj
                ? fo_conf_effective_new(base, fo_json_path(p->target, "spec", "flinkConfiguration",
                                                           (const char *)NULL))
                : json_object_get(base);
  json_object_put(base);
  if (!p->conf) return -ENOMEM;
  int port = (int)fo_conf_whole(cconf, "rest.port", 1, 65535, REST_PORT);
  struct fo_buf u;
  fo_buf_init(&u, 4096);
  if (fo_flink_url(&u, p->env->flink_url_template, cluster, p->ns, port) == 0)
    p->f = fo_flink_new(u.data, 10000);
  fo_buf_free(&u);
  if (!p->f) return -ENOMEM;
  if (p->env->flink_transport)
    fo_flink_set_transport(p->f, p->env->flink_transport, p->env->flink_transport_ud);
  return 0;
}

static const char *target_job_id(struct snap *p) {
  return fo_json_get_string(fo_json_path(p->target, "status", "jobStatus", (const char *)NULL),
                            "jobId");
}

/* Whether Flink runs the target's job: 1, 0, or a negative errno (no answer). */
static int job_running(struct snap *p) {
  const char *jid = target_job_id(p);
  if (!jid || !p->f) return 0;
  struct fo_flink_jobs jobs = {0};
  int r = fo_flink_jobs_overview(p->f, &jobs);
  if (r < 0) return r;
  int running = 0;
  for (size_t i = 0; i < jobs.n; i++)
    if (!strcmp(jobs.jobs[i].jid, jid) && !strcmp(jobs.jobs[i].state, "RUNNING")) running = 1;
  fo_flink_jobs_free(&jobs);
  return running;
}

static void abandon(struct snap *p, const char *why) {
  char msg[1024];
  snprintf(msg, sizeof msg, "Secondary resource %s (%s) for %s %s %s", p->target_name,
           p->target_kind ? p->target_kind : "unknown", p->checkpoint ? "checkpoint" : "savepoint",
           p->name, why);
  set_str(p, "state", "ABANDONED");
  set_error(p, msg);
  event_record(p->k, p->obj, "Warning", "SnapshotAbandoned", msg);
}

static const char *savepoint_dir(struct snap *p) {
  const char *d = fo_json_get_string(fo_json_get_object(p->spec, "savepoint"), "path");
  return d ? d : fo_conf_savepoint_dir(p->conf);
}

/* Sends the trigger recorded in the status (again: the same id is the same snapshot). */
static int send_trigger(struct snap *p, const char *jid, const char *trig) {
  char *got = NULL;
  int r;
  bool ids = fo_flink1_minor(
                 fo_json_get_string(fo_json_get_object(p->cluster, "spec"), "flinkVersion")) >= 15;
  if (p->checkpoint) r = fo_flink_trigger_checkpoint(p->f, jid, "FULL", trig, &got);
  else
    r = fo_flink_trigger_savepoint_as(
        p->f, jid, savepoint_dir(p), false,
        ids ? fo_json_get_string(fo_json_get_object(p->spec, "savepoint"), "formatType") : NULL,
        ids ? trig : NULL, &got);
  if (r == 0 && got && strcmp(got, trig) != 0) set_str(p, "triggerId", got);
  free(got);
  return r;
}

/* Seconds between a failure and the next attempt: 10 s, doubled per failure, at most 5 min. */
static double snap_retry_delay(int64_t failures) {
  double b = 10.0;
  for (int64_t i = 1; i < failures && b < 300; i++) b *= 2;
  return b > 300 ? 300 : b;
}

/* A failed attempt: FAILED with the error, failures + 1; TRIGGER_PENDING again while retries are
 * left. *ret_again: the backoff. */
static void failed(struct snap *p, const char *msg, double *ret_again) {
  int64_t failures = 0, limit = -1;
  fo_json_as_int64(fo_json_get(p->st, "failures"), &failures);
  fo_json_as_int64(fo_json_get(p->spec, "backoffLimit"), &limit);
  failures++;
  fo_json_set(p->st, "failures", json_object_new_int64(failures), &p->oom);
  set_now(p, "resultTimestamp"); /* when it last failed: the retry waits from there */
  set_error(p, msg);
  event_record(p->k, p->obj, "Warning", p->checkpoint ? "CheckpointError" : "SavepointError", msg);
  set_str(p, "triggerId", NULL);
  if (limit < 0 || failures <= limit) {
    set_str(p, "state", "TRIGGER_PENDING");
    *ret_again = snap_retry_delay(failures);
  } else {
    set_str(p, "state", "FAILED");
  }
}

/* Whether the trigger is older than TIMEOUT_MS. */
static bool timed_out(struct snap *p) {
  int64_t at = 0;
  return fo_clock_parse_rfc3339(fo_json_get_string(p->st, "triggerTimestamp"), &at) == 0 &&
         fo_clock_ms() - at > TIMEOUT_MS;
}

/* IN_PROGRESS: asks Flink how the trigger went. */
static int poll(struct snap *p, double *ret_again) {
  const char *jid = target_job_id(p), *trig = fo_json_get_string(p->st, "triggerId");
  *ret_again = POLL_S;
  if (!p->target || !p->f || !jid || !trig) {
    abandon(p, "was not found");
    return write_status(p);
  }
  char *path = NULL, *cause = NULL;
  int r, done = 0;
  if (p->checkpoint) {
    struct fo_flink_checkpoint_status s = {0};
    r = fo_flink_checkpoint_status(p->f, jid, trig, &s);
    if (r == 0 && s.state == FO_FLINK_OP_COMPLETED) {
      /* its path, from the statistics; Flink serves them from a cache (3 s by default) that may
       * be older than the checkpoint: then they are asked again, until the time allowed ends */
      struct fo_flink_checkpoint c = {0};
      int64_t latest = -1;
      int cr = fo_flink_checkpoint_of(p->f, jid, s.checkpoint_id, &c, &latest);
      bool stale = cr == 0 && latest < s.checkpoint_id;
      done = stale && !timed_out(p) ? 0 : 1;
      if (!done) *ret_again = STATS_POLL_S;
      if (c.present && c.external_path && !(path = strdup(c.external_path))) p->oom = -ENOMEM;
      free(c.external_path);
    } else if (r == 0 && s.state == FO_FLINK_OP_FAILED) {
      done = -1;
      cause = s.failure_cause ? strdup(s.failure_cause) : NULL;
    }
    fo_flink_checkpoint_status_free(&s);
  } else {
    struct fo_flink_savepoint_status s = {0};
    r = fo_flink_savepoint_status(p->f, jid, trig, &s);
    if (r == 0 && s.state == FO_FLINK_OP_COMPLETED) {
      done = 1;
      path = s.location ? strdup(s.location) : NULL;
    } else if (r == 0 && s.state == FO_FLINK_OP_FAILED) {
      done = -1;
      cause = s.failure_cause ? strdup(s.failure_cause) : NULL;
    }
    fo_flink_savepoint_status_free(&s);
  }
  if (r == -ENOENT) { /* Flink forgot it (a restart): ask again, same id, if the job runs */
    int run = job_running(p);
    if (run < 0) return run;
    if (!run) abandon(p, "is not running");
    else r = send_trigger(p, jid, trig);
    if (r == -ENOENT) r = 0;
    return r < 0 ? r : write_status(p);
  }
  if (r < 0 && timed_out(p)) { /* no answer for too long: an attempt that failed */
    char msg[256];
    snprintf(msg, sizeof msg, "%s did not complete within %d minutes",
             p->checkpoint ? "Checkpoint" : "Savepoint", TIMEOUT_MS / 60000);
    failed(p, msg, ret_again);
    return write_status(p);
  }
  if (r < 0) return r;
  if (done == 0 && timed_out(p)) {
    done = -1;
    free(cause);
    cause = strdup("no result from Flink within the time allowed");
  }
  if (done == 1) {
    set_str(p, "state", "COMPLETED");
    set_str(p, "path", path); /* none when Flink no longer lists the checkpoint */
    set_now(p, "resultTimestamp");
    set_error(p, NULL);
    *ret_again = 0;
  } else if (done == -1) {
    char msg[1200];
    snprintf(msg, sizeof msg, "%s failed: %.1100s", p->checkpoint ? "Checkpoint" : "Savepoint",
             cause ? cause : "no cause given");
    failed(p, msg, ret_again);
  }
  free(path);
  free(cause);
  return write_status(p);
}

/* TRIGGER_PENDING: the job must run; the trigger id is written, then sent. */
static int trigger(struct snap *p, double *ret_again) {
  int64_t failures = 0, failed_at = 0;
  fo_json_as_int64(fo_json_get(p->st, "failures"), &failures);
  if (failures > 0 &&
      fo_clock_parse_rfc3339(fo_json_get_string(p->st, "resultTimestamp"), &failed_at) == 0) {
    double wait = snap_retry_delay(failures) - (double)(fo_clock_ms() - failed_at) / 1000.0;
    if (wait > 0) { /* a retry waits out its backoff, whatever woke this pass */
      *ret_again = wait;
      return 0;
    }
  }
  if (!p->target) {
    abandon(p, "was not found");
    return write_status(p);
  }
  int run = job_running(p);
  if (run < 0) return run;
  if (!run) {
    abandon(p, "is not running");
    return write_status(p);
  }
  char id[33];
  sp_new_id(id);
  set_str(p, "triggerId", id);
  set_now(p, "triggerTimestamp");
  set_str(p, "state", "IN_PROGRESS");
  int r = write_status(p);
  if (r < 0) return r;
  r = send_trigger(p, target_job_id(p), id);
  if (r < 0) { /* the request was refused: an attempt that failed */
    char msg[1200];
    snprintf(msg, sizeof msg, "%s could not be triggered: %.1100s",
             p->checkpoint ? "Checkpoint" : "Savepoint", fo_flink_last_error(p->f));
    failed(p, msg, ret_again);
    return write_status(p);
  }
  *ret_again = POLL_S;
  return write_status(p);
}

/* Deleted: a completed savepoint with disposeOnDelete is disposed of through its cluster first. */
static int on_delete(struct snap *p, double *ret_again) {
  if (!cro_has_finalizer(p->obj, SNAP_FINALIZER)) return 0;
  const char *state = state_of(p);
  if (state && !strcmp(state, "IN_PROGRESS") && !timed_out(p)) { /* the reference waits for it */
    *ret_again = POLL_S;
    return 0;
  }
  json_object *sp = fo_json_get_object(p->spec, "savepoint");
  json_object *dod = fo_json_get(sp, "disposeOnDelete");
  const char *path = fo_json_get_string(p->st, "path");
  if (!p->checkpoint && dod && json_object_get_boolean(dod) && state &&
      !strcmp(state, "COMPLETED") && path && *path) {
    char *trig = NULL;
    int r = p->f ? fo_flink_dispose_savepoint(p->f, path, &trig) : -ENOENT;
    free(trig);
    if (r < 0) {
      char msg[1400];
      snprintf(msg, sizeof msg,
               "Cannot dispose of savepoint %.900s: %s; the snapshot is kept until it can be "
               "(or its finalizer is removed)",
               path,
               !p->target ? "its job is gone"
               : !p->f    ? "its cluster is gone"
                          : fo_flink_last_error(p->f));
      event_record(p->k, p->obj, "Warning", "CleanupFailed", msg);
      *ret_again = 10;
      return 0;
    }
    event_record(p->k, p->obj, "Normal", "SavepointDisposed", path);
  }
  json_object *fresh = NULL;
  int r = fo_kube_get(p->k, &fo_res_flinkstatesnapshots, p->ns, p->name, &fresh);
  if (r == 0)
    r = cro_set_finalizer(p->k, &fo_res_flinkstatesnapshots, fresh, SNAP_FINALIZER, false);
  json_object_put(fresh);
  return r == -ENOENT ? 0 : r;
}

int snapshot_reconcile(const struct pass_env *env, struct fo_kube *k, json_object *obj,
                       const char *key, double *ret_again) {
  *ret_again = 0;
  if (!obj) return 0;
  /* A snapshot on its way is read again from the API server: a cache that lags one write behind
   * would have the pass ask Flink twice or wait on a conflict (snapshots are few: it is cheap). */
  const char *st0 = fo_json_get_string(fo_json_get_object(obj, "status"), "state");
  if (!st0 || !strcmp(st0, "TRIGGER_PENDING") || !strcmp(st0, "IN_PROGRESS")) {
    json_object *m0 = fo_json_get_object(obj, "metadata"), *fresh = NULL;
    int g = fo_kube_get(k, &fo_res_flinkstatesnapshots, fo_json_get_string(m0, "namespace"),
                        fo_json_get_string(m0, "name"), &fresh);
    if (g == -ENOENT) {
      json_object_put(obj);
      return 0;
    }
    if (g == 0 && fresh) {
      json_object_put(obj);
      obj = fresh;
    }
  }
  struct snap p = {.env = env, .k = k, .obj = obj, .key = key};
  json_object *m = fo_json_get_object(obj, "metadata");
  p.ns = fo_json_get_string(m, "namespace");
  p.name = fo_json_get_string(m, "name");
  p.spec = fo_json_get_object(obj, "spec");
  p.checkpoint = fo_json_get(p.spec, "checkpoint") != NULL;
  int r = p.ns && p.name ? 0 : -EINVAL;
  json_object *st = fo_json_get_object(obj, "status");
  if (r == 0 && st && json_object_deep_copy(st, &p.st, NULL) != 0) r = -ENOMEM;
  if (r == 0 && !st && !(p.st = json_object_new_object())) r = -ENOMEM;
  if (r == 0 && !(p.st_read = fo_json_dumps(p.st))) r = -ENOMEM;
  if (r == 0) r = load_target(&p);
  const char *state = state_of(&p);
  if (r < 0) {
  } else if (fo_json_get(m, "deletionTimestamp")) {
    r = on_delete(&p, ret_again);
  } else if (!cro_has_finalizer(p.obj, SNAP_FINALIZER)) {
    r = cro_set_finalizer(k, &fo_res_flinkstatesnapshots, p.obj, SNAP_FINALIZER,
                          true); /* comes back through the watch */
  } else if (!state || !*state) {
    json_object *sp = fo_json_get_object(p.spec, "savepoint");
    json_object *ae = fo_json_get(sp, "alreadyExists");
    const char *done =
        fo_json_get_string(fo_json_path(p.obj, "metadata", "annotations", (const char *)NULL),
                           "flinkstatesnapshot.flink.apache.org/completed-path");
    if ((ae && json_object_get_boolean(ae)) || done) { /* a record of one already taken */
      set_str(&p, "state", "COMPLETED");
      set_str(&p, "path", done ? done : fo_json_get_string(sp, "path"));
      set_now(&p, "triggerTimestamp");
      set_now(&p, "resultTimestamp");
      fo_json_set(p.st, "failures", json_object_new_int(0), &p.oom);
      r = write_status(&p);
    } else {
      set_str(&p, "state", "TRIGGER_PENDING");
      fo_json_set(p.st, "failures", json_object_new_int(0), &p.oom);
      r = write_status(&p);
      if (r == 0) r = trigger(&p, ret_again);
    }
  } else if (!strcmp(state, "TRIGGER_PENDING")) {
    r = trigger(&p, ret_again);
  } else if (!strcmp(state, "IN_PROGRESS")) {
    r = poll(&p, ret_again);
  }
  if (r == 0 && !fo_json_get(m, "deletionTimestamp") && cro_has_finalizer(p.obj, SNAP_FINALIZER) &&
      state_of(&p))
    r = sync_labels(&p);
  if (r < 0 && r != -ENOENT)
    fo_log("warning", "snapshot reconcile failed",
           "\"object\":\"%s\",\"error\":%d,\"detail\":\"%s\",\"flink\":\"%s\"", fo_log_str(key), r,
           fo_log_str(fo_kube_last_error(k)->message),
           fo_log_str(p.f ? fo_flink_last_error(p.f) : NULL));
  fo_flink_free(p.f);
  json_object_put(p.conf);
  json_object_put(p.cluster);
  json_object_put(p.target);
  json_object_put(p.st);
  free(p.st_read);
  json_object_put(p.obj);
  return r == -ENOENT ? 0 : r;
}

/* ---- the operator's own snapshots ---- */

/* The epoch ms a record's name ends with (its snapshot's time), -1 when it has none. */
static int64_t record_time(const char *name) {
  const char *dash = name ? strrchr(name, '-') : NULL;
  if (!dash || !dash[1]) return -1;
  int64_t v = 0;
  for (const char *c = dash + 1; *c; c++) {
    if (*c < '0' || *c > '9' || v > INT64_MAX / 10 - 10) return -1;
    v = v * 10 + (*c - '0');
  }
  return v;
}

static int by_time_desc(const void *a, const void *b) {
  const char *na =
      fo_json_get_string(fo_json_get_object(*(json_object *const *)a, "metadata"), "name");
  const char *nb =
      fo_json_get_string(fo_json_get_object(*(json_object *const *)b, "metadata"), "name");
  int64_t ta = record_time(na), tb = record_time(nb);
  return ta < tb ? 1 : ta > tb ? -1 : 0;
}

/* The operator's PERIODIC and UPGRADE records of `kind` ns/name past the history's bounds are
 * deleted, as the reference cleans them up: savepoints beyond
 * kubernetes.operator.savepoint.history.max.count (10) or older than its max.age (24 h),
 * checkpoints beyond state.checkpoints.num-retained (1); the newest COMPLETED one always stays,
 * MANUAL ones and the user's are never touched. (Their data goes only when the record says
 * disposeOnDelete.) 0 or a negative errno. */
static int trim_records(const struct pass_env *env, struct fo_kube *k, const char *kind,
                        const char *ns, const char *name, bool checkpoint) {
  if (!fo_conf_bool(env->default_conf, "kubernetes.operator.savepoint.cleanup.enabled", true))
    return 0;
  json_object *items = NULL;
  char *rv = NULL;
  int r = fo_kube_list(k, &fo_res_flinkstatesnapshots, ns,
                       "snapshot.trigger-type in (PERIODIC,UPGRADE)", 500, &items, &rv);
  free(rv);
  if (r < 0) return r;
  size_t n = json_object_array_length(items), m = 0;
  json_object **mine = n ? calloc(n, sizeof(json_object *)) : NULL;
  if (n && !mine) {
    json_object_put(items);
    return -ENOMEM;
  }
  for (size_t i = 0; i < n; i++) {
    json_object *o = json_object_array_get_idx(items, i);
    json_object *spec = fo_json_get_object(o, "spec");
    json_object *ref = fo_json_get_object(spec, "jobReference");
    const char *rk = fo_json_get_string(ref, "kind"), *rn = fo_json_get_string(ref, "name");
    if (rk && rn && !strcmp(rk, kind) && !strcmp(rn, name) &&
        (fo_json_get(spec, "checkpoint") != NULL) == checkpoint &&
        record_time(fo_json_get_string(fo_json_get_object(o, "metadata"), "name")) >= 0)
      mine[m++] = o;
  }
  if (m > 1) qsort(mine, m, sizeof(json_object *), by_time_desc);
  int64_t max_count =
      checkpoint ? fo_conf_whole(env->default_conf, "state.checkpoints.num-retained", 1, 100000, 1)
                 : fo_conf_whole(env->default_conf,
                                 "kubernetes.operator.savepoint.history.max.count", 1, 100000, 10);
  int64_t max_age = checkpoint ? INT64_MAX
                               : fo_conf_duration(env->default_conf,
                                                  "kubernetes.operator.savepoint.history.max.age",
                                                  24LL * 3600 * 1000);
  int64_t now = fo_clock_ms();
  bool newest_kept = false;
  for (size_t i = 0; r == 0 && i < m; i++) {
    json_object *md = fo_json_get_object(mine[i], "metadata");
    const char *nm = fo_json_get_string(md, "name");
    const char *state = fo_json_get_string(fo_json_get_object(mine[i], "status"), "state");
    bool completed = state && !strcmp(state, "COMPLETED");
    if (completed && !newest_kept) { /* the newest COMPLETED one stays */
      newest_kept = true;
      continue;
    }
    bool over = (int64_t)i >= max_count || now - record_time(nm) > max_age;
    if (!over || fo_json_get(md, "deletionTimestamp")) continue;
    r = fo_kube_delete(k, &fo_res_flinkstatesnapshots, ns, nm, NULL);
    if (r == -ENOENT) r = 0;
    if (r == 0)
      fo_log("info", "snapshot record trimmed", "\"object\":\"%s/%s\",\"snapshot\":\"%s\"",
             fo_log_str(ns), fo_log_str(name), fo_log_str(nm));
  }
  free(mine);
  json_object_put(items);
  return r;
}

static atomic_bool crd_missing_said;

int snapshot_record(const struct pass_env *env, struct fo_kube *k, const char *kind, const char *ns,
                    const char *name, bool checkpoint, const char *trigger_type, const char *path,
                    int64_t ts_ms) {
  if (!fo_conf_bool(env->default_conf, SNAP_RESOURCE_ENABLED, true)) return 0;
  if (!checkpoint && (!path || !*path)) return 0;
  char tt[16] = "UNKNOWN", lower[16];
  if (trigger_type) snprintf(tt, sizeof tt, "%s", trigger_type);
  size_t i = 0;
  for (; i < sizeof lower - 1 && tt[i]; i++) lower[i] = (char)tolower((unsigned char)tt[i]);
  lower[i] = '\0';
  struct fo_buf nm, key;
  fo_buf_init(&nm, 512);
  fo_buf_init(&key, 1024);
  int r = fo_buf_printf(&nm, "%s-%s-%s-%lld", name, checkpoint ? "checkpoint" : "savepoint", lower,
                        (long long)ts_ms) < 0
              ? -ENOMEM
              : 0;
  if (r == 0 && fo_buf_printf(&key, "%s/%s", ns, nm.data) < 0) r = -ENOMEM;
  json_object *have =
      r == 0 && env->cached_snapshot ? env->cached_snapshot(env->cache_ud, key.data) : NULL;
  if (have) {
    json_object_put(have);
    fo_buf_free(&nm);
    fo_buf_free(&key);
    return 0;
  }
  json_object *o = json_object_new_object(), *md = json_object_new_object(),
              *labels = json_object_new_object(), *spec = json_object_new_object(),
              *ref = json_object_new_object(), *snap = json_object_new_object();
  int oom = o && md && labels && spec && ref && snap ? r : -ENOMEM;
  fo_json_set(o, "apiVersion", json_object_new_string(FO_API_VERSION), &oom);
  fo_json_set(o, "kind", json_object_new_string("FlinkStateSnapshot"), &oom);
  fo_json_set(md, "name", json_object_new_string(nm.data ? nm.data : ""), &oom);
  fo_json_set(md, "namespace", json_object_new_string(ns), &oom);
  fo_json_set(labels, "snapshot.trigger-type", json_object_new_string(tt), &oom);
  fo_json_set(md, "labels", json_object_get(labels), &oom);
  if (checkpoint && path && *path) {
    json_object *ann = json_object_new_object();
    fo_json_set(ann, "flinkstatesnapshot.flink.apache.org/completed-path",
                json_object_new_string(path), &oom);
    fo_json_set(md, "annotations", ann, &oom);
  } else if (checkpoint) {
    json_object *ann = json_object_new_object();
    fo_json_set(ann, "flinkstatesnapshot.flink.apache.org/completed-path",
                json_object_new_string(""), &oom);
    fo_json_set(md, "annotations", ann, &oom);
  }
  fo_json_set(o, "metadata", json_object_get(md), &oom);
  fo_json_set(spec, "backoffLimit", json_object_new_int(0), &oom);
  fo_json_set(ref, "kind", json_object_new_string(kind), &oom);
  fo_json_set(ref, "name", json_object_new_string(name), &oom);
  fo_json_set(spec, "jobReference", json_object_get(ref), &oom);
  if (!checkpoint) {
    fo_json_set(snap, "path", json_object_new_string(path), &oom);
    fo_json_set(snap, "alreadyExists", json_object_new_boolean(true), &oom);
    fo_json_set(snap, "disposeOnDelete",
                json_object_new_boolean(fo_conf_bool(
                    env->default_conf, "kubernetes.operator.savepoint.dispose-on-delete", false)),
                &oom);
    fo_json_set(snap, "formatType", json_object_new_string("CANONICAL"), &oom);
  }
  fo_json_set(spec, checkpoint ? "checkpoint" : "savepoint", json_object_get(snap), &oom);
  fo_json_set(o, "spec", json_object_get(spec), &oom);
  if (oom == 0) r = fo_kube_create(k, &fo_res_flinkstatesnapshots, ns, o, NULL);
  else r = oom;
  bool created = r == 0;
  if (r == -EEXIST) r = 0;
  if (created && (!strcmp(tt, "PERIODIC") || !strcmp(tt, "UPGRADE")) &&
      trim_records(env, k, kind, ns, name, checkpoint) < 0)
    fo_log("warning", "cannot trim the snapshot records", "\"object\":\"%s/%s\"", fo_log_str(ns),
           fo_log_str(name));
  if (r < 0 && fo_kube_last_error(k)->http_code == 404) {
    if (!atomic_exchange(&crd_missing_said, true))
      fo_log("warning",
             "FlinkStateSnapshot is not installed: snapshots are not recorded as "
             "resources",
             "\"object\":\"%s/%s\"", fo_log_str(ns), fo_log_str(name));
    r = 0;
  }
  if (r < 0)
    fo_log("warning", "cannot record a snapshot",
           "\"object\":\"%s/%s\",\"snapshot\":\"%s\",\"error\":%d", fo_log_str(ns),
           fo_log_str(name), fo_log_str(nm.data), r);
  json_object_put(o);
  json_object_put(md);
  json_object_put(labels);
  json_object_put(spec);
  json_object_put(ref);
  json_object_put(snap);
  fo_buf_free(&nm);
  fo_buf_free(&key);
  return r;
}

#include "sessionjob.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "crobj.h"
#include "events.h"
#include "flinkop/artifact.h"
#include "flinkop/buf.h"
#include "flinkop/clock.h"
#include "flinkop/findings.h"
#include "flinkop/flinkconf.h"
#include "flinkop/flinkrest.h"
#include "flinkop/log.h"
#include "flinkop/model.h"
#include "flinkop/rules.h"
#include "savepoint.h"
#include "snapshot.h"

#define VALIDATION_ERROR "org.apache.flink.kubernetes.operator.exception.ValidationException"
#define RECONCILE_ERROR "org.apache.flink.kubernetes.operator.exception.ReconciliationException"
#define POLL_BUSY_S 2.0    /* something is in progress in Flink */
#define POLL_WAIT_S 5.0    /* the session cluster is not ready yet */
#define POLL_STEADY_S 15.0 /* the job's state, observed */
#define REST_PORT 8081
#define RETENTION_KEY "execution.checkpointing.externalized-checkpoint-retention"
#define RETAIN "RETAIN_ON_CANCELLATION"

/* A job Flink will not bring back by itself. */
static bool terminal(const char *state) {
  return state && (!strcmp(state, "FINISHED") || !strcmp(state, "CANCELED") ||
                   !strcmp(state, "FAILED") || !strcmp(state, "SUSPENDED"));
}

struct sj {
  const struct pass_env *env;
  struct fo_kube *k;
  json_object *obj; /* owned */
  const char *key, *ns, *name;
  int64_t gen;
  json_object *spec;      /* borrowed from obj */
  json_object *st;        /* the status this pass writes (owned) */
  char *st_read;          /* the status as read (its text), to write only a change */
  json_object *last_root; /* decoded lastReconciledSpec (owned), NULL when none */
  json_object *last;      /* its spec (borrowed from last_root) */
  json_object *session;   /* the session cluster's FlinkDeployment (owned), NULL when none */
  json_object *conf;      /* defaults, the cluster's configuration, the job's own (owned) */
  struct fo_flink *f;
  int oom;
};

static json_object *job_of(json_object *spec) { return fo_json_get_object(spec, "job"); }
static const char *job_str(json_object *spec, const char *k) {
  return fo_json_get_string(job_of(spec), k);
}
static const char *job_state(json_object *spec) {
  const char *s = job_str(spec, "state");
  return s ? s : "running";
}
static const char *upgrade_mode(json_object *spec) {
  const char *s = job_str(spec, "upgradeMode");
  return s ? s : "stateless";
}
static bool wants_running(json_object *spec) { return !strcmp(job_state(spec), "running"); }

static json_object *jstatus(struct sj *p) {
  json_object *j = fo_json_ensure_object(p->st, "jobStatus");
  if (!j) p->oom = -ENOMEM;
  return j;
}
static json_object *rstatus(struct sj *p) {
  json_object *r = fo_json_ensure_object(p->st, "reconciliationStatus");
  if (!r) p->oom = -ENOMEM;
  return r;
}
static json_object *spinfo(struct sj *p) {
  json_object *s = fo_json_ensure_object(jstatus(p), "savepointInfo");
  if (!s) p->oom = -ENOMEM;
  return s;
}

/* o[key] = v (a copy), or removed when v is NULL. */
static void set_str(struct sj *p, json_object *o, const char *key, const char *v) {
  if (!o) return;
  if (!v) json_object_object_del(o, key);
  else fo_json_set(o, key, json_object_new_string(v), &p->oom);
}
static void set_i64(struct sj *p, json_object *o, const char *key, int64_t v) {
  if (o) fo_json_set(o, key, json_object_new_int64(v), &p->oom);
}

static void set_job_state(struct sj *p, const char *state) {
  json_object *j = jstatus(p);
  const char *old = fo_json_get_string(j, "state");
  if (old && state && !strcmp(old, state)) return;
  set_str(p, j, "state", state);
  char ms[24];
  snprintf(ms, sizeof ms, "%lld", (long long)fo_clock_ms());
  set_str(p, j, "updateTime", ms);
}

/* status.error as the reference writes it (a JSON text), NULL clears. */
static void set_error(struct sj *p, const char *type, const char *msg) {
  if (!msg) {
    json_object_object_del(p->st, "error");
    return;
  }
  char *text = cro_error_text(type, msg);
  if (!text) p->oom = -ENOMEM;
  else set_str(p, p->st, "error", text);
  free(text);
}

/* The message of status.error (NULL when none). Borrowed from `tmp`, which the caller puts. */
static const char *error_message(struct sj *p, json_object **tmp) {
  const char *text = fo_json_get_string(p->st, "error");
  *tmp = NULL;
  if (!text || fo_json_parse(text, strlen(text), NULL, tmp, NULL) < 0) return NULL;
  return fo_json_get_string(*tmp, "message");
}

/* Reports a problem once: status.error and a Warning Event (a repeat only bumps the Event). */
static void report(struct sj *p, const char *type, const char *reason, const char *msg) {
  json_object *tmp;
  const char *old = error_message(p, &tmp);
  bool same = old && !strcmp(old, msg);
  json_object_put(tmp);
  if (!same) set_error(p, type, msg);
  event_record(p->k, p->obj, "Warning", reason, msg);
  fo_log("warning", "session job", "\"object\":\"%s\",\"reason\":\"%s\",\"message\":\"%s\"",
         fo_log_str(p->key), reason, fo_log_str(msg));
}

static const char *lifecycle(struct sj *p) {
  json_object *j = fo_json_get_object(p->st, "jobStatus");
  const char *rs = fo_json_get_string(fo_json_get_object(p->st, "reconciliationStatus"), "state");
  const char *js = fo_json_get_string(j, "state");
  if (!p->last) return "CREATED";
  if (rs && !strcmp(rs, "UPGRADING")) return "UPGRADING";
  if (!wants_running(p->last)) return "SUSPENDED";
  if (js && !strcmp(js, "FAILED")) return "FAILED";
  if (js && !strcmp(js, "RUNNING")) return "STABLE";
  return "DEPLOYED";
}

/* Writes the status when this pass changed it (PUT of the status subresource, the
 * resourceVersion as precondition: -ESTALE when someone wrote first). The object then holds what
 * was written, so a second write follows the first. */
static int write_status(struct sj *p) {
  if (p->oom) return p->oom;
  set_str(p, p->st, "lifecycleState", lifecycle(p));
  set_i64(p, p->st, "observedGeneration", p->gen);
  return cro_write_status(p->k, &fo_res_flinksessionjobs, p->obj, p->st, &p->st_read);
}

/* Records `spec` as the reconciled one: {"spec": ..., "resource_metadata": {...}} as the
 * reference serialises it. */
static void record_spec(struct sj *p, json_object *spec, const char *state) {
  json_object *root = json_object_new_object(), *md = json_object_new_object(), *copy = NULL;
  int oom = root && md ? 0 : -ENOMEM;
  if (!oom && json_object_deep_copy(spec, &copy, NULL) != 0) oom = -ENOMEM;
  fo_json_set(root, "spec", copy, &oom);
  fo_json_set(md, "apiVersion", json_object_new_string(FO_API_VERSION), &oom);
  fo_json_set(md, "firstDeployment", json_object_new_boolean(!p->last), &oom);
  fo_json_set(root, "resource_metadata", json_object_get(md), &oom);
  json_object_put(md);
  char *text = oom ? NULL : fo_json_dumps(root);
  if (!text) p->oom = -ENOMEM;
  json_object *rs = rstatus(p);
  set_str(p, rs, "lastReconciledSpec", text);
  set_str(p, rs, "state", state);
  set_i64(p, rs, "reconciliationTimestamp", fo_clock_ms());
  free(text);
  if (!p->oom) { /* the recorded spec is now the one compared against */
    json_object_put(p->last_root);
    p->last_root = root;
    p->last = fo_json_get_object(root, "spec");
  } else json_object_put(root);
}

/* What an upgrade compares: the spec without the fields that ask for no restart (as the
 * reference's @SpecDiff(IGNORE)): the nonces of snapshots, the upgrade mode, the initial savepoint
 * and allowNonRestoredState. A new object (NULL on ENOMEM). */
static json_object *upgrade_view(json_object *spec) {
  json_object *c = NULL;
  if (json_object_deep_copy(spec, &c, NULL) != 0) return NULL;
  json_object *j = job_of(c);
  if (j) {
    const char *ignored[] = {"savepointTriggerNonce", "checkpointTriggerNonce", "upgradeMode",
                             "initialSavepointPath",  "allowNonRestoredState",  "state"};
    for (size_t i = 0; i < sizeof ignored / sizeof *ignored; i++)
      json_object_object_del(j, ignored[i]);
  }
  return c;
}

/* 1 when the spec asks for a new job (a change other than job.state and the ignored fields), 0,
 * or -ENOMEM. */
static int needs_upgrade(json_object *spec, json_object *last) {
  json_object *a = upgrade_view(spec), *b = upgrade_view(last);
  int r = a && b ? !json_object_equal(a, b) : -ENOMEM;
  json_object_put(a);
  json_object_put(b);
  return r;
}

static bool nonce_changed(json_object *spec, json_object *last, const char *key) {
  json_object *a = fo_json_get(job_of(spec), key), *b = fo_json_get(job_of(last), key);
  int64_t x = 0, y = 0;
  bool hx = fo_json_as_int64(a, &x), hy = fo_json_as_int64(b, &y);
  return hx && (!hy || x != y);
}

/* ---- Flink ---- */

/* The job `jid` in the cluster: 1 found (*state filled), 0 Flink does not know it, or a negative
 * errno (the cluster did not answer). */
static int find_job(struct sj *p, const char *jid, char *state, size_t n, char **ret_name) {
  struct fo_flink_jobs jobs = {0};
  int r = fo_flink_jobs_overview(p->f, &jobs);
  if (r < 0) return r;
  int found = 0;
  for (size_t i = 0; i < jobs.n && jid; i++)
    if (!strcmp(jobs.jobs[i].jid, jid)) {
      snprintf(state, n, "%s", fo_flink_job_effective_state(&jobs.jobs[i]));
      if (ret_name && jobs.jobs[i].name) *ret_name = strdup(jobs.jobs[i].name);
      found = 1;
    }
  fo_flink_jobs_free(&jobs);
  return found;
}

static long flink_minor(struct sj *p) {
  return fo_flink1_minor(
      fo_json_get_string(fo_json_get_object(p->session, "spec"), "flinkVersion"));
}

/* Writes a jar with nothing but a manifest into `dir`: what runs a job whose entry class is on
 * the session cluster's classpath (no jarURI), as the reference's empty jar. */
static int empty_jar(const char *dir, char **ret_path) {
  static const unsigned char jar[] =
      "\x50\x4b\x03\x04\x14\x00\x00\x00\x00\x00\x00\x00\x21\x00\xb2\x7f\x02\xee\x19\x00\x00\x00"
      "\x19\x00\x00\x00\x14\x00\x00\x00META-INF/MANIFEST.MFManifest-Version: 1.0\r\n\r\n"
      "\x50\x4b\x01\x02\x14\x03\x14\x00\x00\x00\x00\x00\x00\x00\x21\x00\xb2\x7f\x02\xee\x19\x00"
      "\x00\x00\x19\x00\x00\x00\x14\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x80\x01\x00\x00"
      "\x00\x00META-INF/MANIFEST.MF\x50\x4b\x05\x06\x00\x00\x00\x00\x01\x00\x01\x00\x42\x00\x00"
      "\x00\x4b\x00\x00\x00\x00\x00";
  struct fo_buf b;
  fo_buf_init(&b, PATH_MAX);
  int r = fo_buf_printf(&b, "%s/empty.jar", dir) < 0 ? -ENOMEM : 0;
  FILE *fp = r == 0 ? fopen(b.data, "wb") : NULL;
  if (r == 0 && !fp) r = -errno;
  if (fp && fwrite(jar, 1, sizeof jar - 1, fp) != sizeof jar - 1) r = -EIO;
  if (fp && fclose(fp) != 0 && r == 0) r = -EIO;
  if (r == 0 && !(*ret_path = strdup(b.data))) r = -ENOMEM;
  fo_buf_free(&b);
  return r;
}

/* Fetches the jar of `spec` into a directory of its own under the artifacts directory and uploads
 * it: 0 and *ret_jar_id, or a negative errno with `why` filled. */
static int upload(struct sj *p, json_object *spec, char **ret_jar_id, char *why, size_t why_n) {
  const char *base = p->env->artifacts_dir ? p->env->artifacts_dir : "/tmp";
  char dir[PATH_MAX];
  if (snprintf(dir, sizeof dir, "%s/sessionjob-XXXXXX", base) >= (int)sizeof dir || !mkdtemp(dir)) {
    snprintf(why, why_n, "cannot make a directory for the jar under %s: %s", base, strerror(errno));
    return -EIO;
  }
  const char *uri = job_str(spec, "jarURI");
  char *path = NULL, *mapped = NULL;
  int r;
  if (!uri) {
    r = empty_jar(dir, &path);
    if (r < 0) snprintf(why, why_n, "cannot write an empty jar: %s", strerror(-r));
  } else {
    if (!strncasecmp(uri, "local://", 8)) { /* a file in the operator's image */
      size_t n = strlen(uri) + 1;           /* "local://" and "file://" differ by one byte */
      mapped = malloc(n);
      if (mapped) snprintf(mapped, n, "file://%s", uri + 8);
    }
    struct fo_artifact_opts o = {
        .allowed_schemes =
            fo_conf_get(p->env->default_conf, "kubernetes.operator.user.artifacts.allowed-schemes"),
        .allow_restricted =
            !fo_conf_bool(p->env->default_conf,
                          "kubernetes.operator.user.artifacts.disallow-restricted-hosts", true),
        .http_headers = fo_conf_get(p->conf, "kubernetes.operator.user.artifacts.http.header"),
    };
    /* local:// names a file in the operator's image; its scheme was judged at admission */
    if (mapped) o.allowed_schemes = "file";
    if (!strncasecmp(uri, "local://", 8) && !mapped) r = -ENOMEM;
    else r = fo_artifact_fetch(mapped ? mapped : uri, dir, &o, &path, why, why_n);
  }
  if (r == 0) {
    const char *slash = strrchr(path, '/');
    r = fo_flink_jar_upload(p->f, path, slash ? slash + 1 : path, ret_jar_id);
    if (r < 0)
      snprintf(why, why_n, "the session cluster refused the jar: %s", fo_flink_last_error(p->f));
  }
  if (path) unlink(path);
  rmdir(dir);
  free(path);
  free(mapped);
  return r;
}

/* Runs the job of `spec` under `jid`, restoring `restore` (may be NULL): fetch, upload, run,
 * delete the jar. 0, or a negative errno with the problem reported. */
static int submit(struct sj *p, json_object *spec, const char *jid, const char *restore) {
  char why[1024] = "";
  char *jar_id = NULL;
  event_record(p->k, p->obj, "Normal", "Submit", "Starting deployment");
  int r = upload(p, spec, &jar_id, why, sizeof why);
  if (r < 0) {
    char msg[1400];
    snprintf(msg, sizeof msg, "Could not upload the jar of the job: %s", why);
    report(p, RECONCILE_ERROR, "SessionJobException", msg);
    return r;
  }
  json_object *job = job_of(spec), *args = fo_json_get_array(job, "args");
  size_t n_args = args ? json_object_array_length(args) : 0;
  const char **argv = n_args ? calloc(n_args, sizeof *argv) : NULL;
  if (n_args && !argv) r = -ENOMEM;
  for (size_t i = 0; r == 0 && i < n_args; i++) {
    argv[i] = json_object_get_string(json_object_array_get_idx(args, i));
    if (!argv[i]) argv[i] = "";
  }
  int64_t par = 0;
  fo_json_as_int64(fo_json_get(job, "parallelism"), &par);
  long minor = flink_minor(p);
  json_object *own = fo_json_get_object(spec, "flinkConfiguration"), *flat = NULL;
  if (r == 0 && minor >= 17) { /* the job's own configuration; checkpoints kept on a cancel */
    flat = fo_conf_effective_new(NULL, own);
    if (!flat) r = -ENOMEM;
    else if (!fo_conf_get(flat, RETENTION_KEY))
      r = fo_json_set(flat, RETENTION_KEY, json_object_new_string(RETAIN), NULL);
  }
  json_object *anrs = fo_json_get(job, "allowNonRestoredState");
  struct fo_flink_jar_run run = {
      .entry_class = fo_json_get_string(job, "entryClass"),
      .args = argv,
      .n_args = n_args,
      .parallelism = par > 0 && par <= INT_MAX ? (int)par : 0,
      .job_id = jid,
      .allow_non_restored_state = anrs && json_object_get_boolean(anrs),
      .savepoint_path = restore,
      .restore_mode_key = !restore      ? NULL
                          : minor >= 20 ? "claimMode"
                                        : "restoreMode",
      .flink_configuration = flat,
  };
  if (restore && minor < 15) run.restore_mode_key = NULL;
  if (r == 0) {
    r = fo_flink_jar_run(p->f, jar_id, &run);
    if (r < 0) {
      char msg[1400];
      snprintf(msg, sizeof msg, "Flink could not run the job: %s", fo_flink_last_error(p->f));
      report(p, RECONCILE_ERROR, "SessionJobException", msg);
    }
  }
  if (fo_flink_jar_delete(p->f, jar_id) < 0) /* a jar left behind costs only disk */
    fo_log("warning", "cannot delete a session job's jar", "\"object\":\"%s\",\"jar\":\"%s\"",
           fo_log_str(p->key), fo_log_str(jar_id));
  json_object_put(flat);
  free(argv);
  free(jar_id);
  if (r == 0)
    fo_log("info", "session job submitted", "\"object\":\"%s\",\"jobId\":\"%s\",\"restore\":\"%s\"",
           fo_log_str(p->key), jid, fo_log_str(restore));
  return r;
}

/* Records the intent to run `spec` as job `jid` restoring `restore`, then runs it (the status
 * says RECONCILING with the id first, so a kill between the two is resumed by deploy_resume). */
static int deploy(struct sj *p, json_object *spec, const char *restore, double *ret_again) {
  char jid[33];
  sp_new_id(jid);
  record_spec(p, spec, "UPGRADING");
  json_object *j = jstatus(p);
  set_str(p, j, "jobId", jid);
  set_str(p, j, "upgradeSavepointPath", restore);
  set_job_state(p, "RECONCILING");
  int r = write_status(p);
  if (r < 0) return r;
  r = submit(p, spec, jid, restore);
  if (r < 0) {
    write_status(p); /* the error, for the user; the intent stays */
    return r;
  }
  set_str(p, rstatus(p), "state", "DEPLOYED");
  set_error(p, NULL, NULL);
  *ret_again = POLL_BUSY_S;
  return write_status(p);
}

/* RECONCILING: a run was asked for, perhaps not sent. Flink says whether it was. */
static int deploy_resume(struct sj *p, double *ret_again) {
  json_object *j = jstatus(p);
  const char *jid = fo_json_get_string(j, "jobId");
  char state[16] = "";
  int r = find_job(p, jid, state, sizeof state, NULL);
  if (r < 0) return r;
  if (r == 0) {
    r = submit(p, p->last, jid, fo_json_get_string(j, "upgradeSavepointPath"));
    if (r < 0) {
      write_status(p);
      return r;
    }
  } else set_job_state(p, state);
  set_str(p, rstatus(p), "state", "DEPLOYED");
  set_error(p, NULL, NULL);
  *ret_again = POLL_BUSY_S;
  return write_status(p);
}

/* Milliseconds until Flink's checkpoint statistics of the job, seen terminal since
 * jobStatus.updateTime, were read after it ended. Flink's REST API serves them from a cache
 * (rest.cache.checkpoint-statistics.timeout, else web.refresh-interval, 3 s) that may still hold
 * a view from while the job ran: a checkpoint it has since subsumed, and deleted. */
static int64_t stats_settle_ms(struct sj *p) {
  json_object *j = jstatus(p);
  const char *u = fo_json_get_string(j, "updateTime");
  char *end = NULL;
  long long seen = u ? strtoll(u, &end, 10) : 0;
  int64_t now = fo_clock_ms();
  if (!u || end == u || *end || seen <= 0 || seen > now) { /* unknown: from now on */
    char ms[24];
    snprintf(ms, sizeof ms, "%lld", (long long)now);
    set_str(p, j, "updateTime", ms);
    seen = now;
  }
  return fo_conf_stats_wait_ms(p->conf, (int64_t)seen, now);
}

/* The path a stopped job `jid` leaves for the next one by `mode`: the savepoint it was stopped
 * with, else the newest of its checkpoints and savepoints Flink reports, once Flink's statistics
 * are from after the job's end (*ret_wait_ms, when positive, says how long until they are; a job
 * Flink does not know, !found, has none).
 * *ret NULL for stateless. 0, or a negative errno. */
static int left_path(struct sj *p, const char *jid, const char *mode, bool found, char **ret,
                     int64_t *ret_wait_ms) {
  *ret = NULL;
  *ret_wait_ms = 0;
  if (!strcmp(mode, "stateless")) return 0;
  json_object *si = fo_json_get_object(fo_json_get_object(p->st, "jobStatus"), "savepointInfo");
  const char *trig = fo_json_get_string(si, "triggerId");
  const char *ttype = fo_json_get_string(si, "triggerType");
  if (trig && ttype && !strcmp(ttype, "UPGRADE")) {
    struct fo_flink_savepoint_status s = {0};
    if (fo_flink_savepoint_status(p->f, jid, trig, &s) == 0 && s.state == FO_FLINK_OP_COMPLETED &&
        s.location)
      *ret = strdup(s.location);
    fo_flink_savepoint_status_free(&s);
    if (*ret) return 0;
  }
  if (found && (*ret_wait_ms = stats_settle_ms(p)) > 0) return 0;
  struct fo_flink_checkpoints c = {0};
  int r = fo_flink_checkpoints(p->f, jid, &c);
  const struct fo_flink_checkpoint *l = r == 0 ? fo_flink_checkpoints_latest(&c) : NULL;
  if (l && l->external_path && !(*ret = strdup(l->external_path))) r = -ENOMEM;
  fo_flink_checkpoints_free(&c);
  return r == -ENOENT ? 0 : r;
}

static const char *savepoint_dir(struct sj *p) { return fo_conf_savepoint_dir(p->conf); }

/* Whether a cancelled job of this session job keeps its checkpoints: the run asks Flink (1.17+,
 * the run request's flinkConfiguration) to retain them, unless the job's own configuration says
 * otherwise. Otherwise a last-state upgrade stops with a savepoint instead of cancelling. */
static bool retains_on_cancel(struct sj *p, json_object *spec) {
  if (flink_minor(p) < 17) return false;
  json_object *own = fo_json_get_object(spec, "flinkConfiguration"), *flat = NULL;
  if (own && !(flat = fo_conf_effective_new(NULL, own))) return false;
  const char *v = fo_conf_get(flat, RETENTION_KEY);
  bool r = !v || !strcmp(v, RETAIN);
  json_object_put(flat);
  return r;
}

/* Asks the running job `jid` to stop by `mode`. 0 (asked; look again), or a negative errno. */
static int ask_stop(struct sj *p, const char *jid, const char *mode) {
  if (!strcmp(mode, "last-state") && !retains_on_cancel(p, p->last)) mode = "savepoint";
  if (!strcmp(mode, "last-state")) {
    struct fo_flink_checkpoints c = {0};
    int r = fo_flink_checkpoints(p->f, jid, &c);
    const struct fo_flink_checkpoint *l = r == 0 ? fo_flink_checkpoints_latest(&c) : NULL;
    bool have = l && l->external_path;
    fo_flink_checkpoints_free(&c);
    if (r < 0 && r != -ENOENT) return r;
    if (have) mode = "stateless"; /* cancel: the checkpoint is what the next job restores */
    else mode = "savepoint";      /* nothing to restore yet: never stop a job empty-handed */
  }
  if (!strcmp(mode, "stateless")) {
    int r = fo_flink_cancel(p->f, jid);
    return r == -EALREADY || r == -ENOENT ? 0 : r;
  }
  json_object *si = spinfo(p);
  const char *trig = fo_json_get_string(si, "triggerId");
  const char *ttype = fo_json_get_string(si, "triggerType");
  char id[33];
  if (!trig || !ttype || strcmp(ttype, "UPGRADE") != 0) {
    sp_new_id(id);
    set_str(p, si, "triggerId", id);
    set_str(p, si, "triggerType", "UPGRADE");
    set_str(p, si, "formatType", "CANONICAL");
    set_i64(p, si, "triggerTimestamp", fo_clock_ms());
    int r = write_status(p); /* the trigger first: asking again is the same savepoint */
    if (r < 0) return r;
    trig = id;
  } else {
    struct fo_flink_savepoint_status s = {0};
    int r = fo_flink_savepoint_status(p->f, jid, trig, &s);
    bool failed = r == 0 && s.state == FO_FLINK_OP_FAILED;
    char msg[1200];
    if (failed)
      snprintf(msg, sizeof msg, "Savepoint failed for the upgrade: %.1100s",
               s.failure_cause ? s.failure_cause : "no cause given");
    fo_flink_savepoint_status_free(&s);
    if (failed) { /* the job runs on; the next pass asks for a new savepoint */
      report(p, RECONCILE_ERROR, "SavepointError", msg);
      set_str(p, si, "triggerId", NULL);
      set_str(p, si, "triggerType", NULL);
      return write_status(p);
    }
    if (r == 0) return 0;       /* in progress or done: the job stops by itself */
    if (r != -ENOENT) return r; /* Flink forgot it (a restart): ask again, same id */
    memcpy(id, trig, 33 > strlen(trig) + 1 ? strlen(trig) + 1 : 33);
    id[32] = '\0';
    trig = id;
  }
  char *got = NULL;
  int r = fo_flink_stop_with_savepoint(p->f, jid, savepoint_dir(p), false,
                                       flink_minor(p) >= 15 ? trig : NULL, &got);
  if (r == 0 && got && strcmp(got, trig) != 0) { /* Flink < 1.15 chose its own */
    set_str(p, si, "triggerId", got);
    r = write_status(p);
  }
  free(got);
  return r == -EALREADY ? 0 : r;
}

/* ---- the pass ---- */

static bool session_ready(struct sj *p) {
  const char *s =
      fo_json_get_string(fo_json_get_object(p->session, "status"), "jobManagerDeploymentStatus");
  return s && !strcmp(s, "READY");
}

/* Deleted: the job is cancelled (or stopped with a savepoint when the operator is configured so)
 * and the finalizer removed once Flink says it stopped, or when there is no cluster to ask. */
static int on_delete(struct sj *p, double *ret_again) {
  if (!cro_has_finalizer(p->obj, SJ_FINALIZER)) return 0;
  const char *jid = fo_json_get_string(fo_json_get_object(p->st, "jobStatus"), "jobId");
  bool gone = !p->session || !p->last || !jid || !wants_running(p->last);
  const char *ls = fo_json_get_string(fo_json_get_object(p->session, "status"), "lifecycleState");
  if (!gone && ls && (!strcmp(ls, "DELETING") || !strcmp(ls, "DELETED"))) gone = true;
  if (!gone && !session_ready(p)) gone = !fo_conf_ha_enabled(p->conf);
  if (!gone) {
    char state[16] = "";
    int r = find_job(p, jid, state, sizeof state, NULL);
    if (r < 0) return r;
    if (r == 1 && !terminal(state)) {
      r = ask_stop(p, jid, p->env->savepoint_on_deletion ? "savepoint" : "stateless");
      if (r < 0) return r;
      *ret_again = POLL_BUSY_S;
      return 0;
    }
  }
  json_object *fresh = NULL;
  int r = fo_kube_get(p->k, &fo_res_flinksessionjobs, p->ns, p->name, &fresh);
  if (r == 0) r = cro_set_finalizer(p->k, &fo_res_flinksessionjobs, fresh, SJ_FINALIZER, false);
  json_object_put(fresh);
  return r == -ENOENT ? 0 : r;
}

/* The savepoint asked for by job.savepointTriggerNonce. */
static int nonce_savepoint(struct sj *p, const char *jid, double *ret_again) {
  json_object *si = spinfo(p);
  const char *trig = fo_json_get_string(si, "triggerId");
  const char *ttype = fo_json_get_string(si, "triggerType");
  int64_t nonce = 0;
  fo_json_as_int64(fo_json_get(job_of(p->spec), "savepointTriggerNonce"), &nonce);
  *ret_again = POLL_BUSY_S;
  if (!trig || !ttype || strcmp(ttype, "MANUAL") != 0) {
    char id[33];
    sp_new_id(id);
    set_str(p, si, "triggerId", id);
    set_str(p, si, "triggerType", "MANUAL");
    set_str(p, si, "formatType", "CANONICAL");
    set_i64(p, si, "triggerTimestamp", fo_clock_ms());
    int r = write_status(p);
    char *got = NULL;
    if (r == 0)
      r = fo_flink_trigger_savepoint(p->f, jid, savepoint_dir(p), false,
                                     flink_minor(p) >= 15 ? id : NULL, &got);
    if (r == 0 && got && strcmp(got, id) != 0) {
      set_str(p, si, "triggerId", got);
      r = write_status(p);
    }
    free(got);
    return r;
  }
  struct fo_flink_savepoint_status s = {0};
  int r = fo_flink_savepoint_status(p->f, jid, trig, &s);
  if (r == -ENOENT) { /* Flink forgot it: ask again with the same id */
    char *got = NULL;
    r = fo_flink_trigger_savepoint(p->f, jid, savepoint_dir(p), false, trig, &got);
    free(got);
    return r;
  }
  if (r < 0 || s.state == FO_FLINK_OP_IN_PROGRESS) {
    fo_flink_savepoint_status_free(&s);
    return r;
  }
  if (s.state == FO_FLINK_OP_COMPLETED && s.location) {
    json_object *lsp = json_object_new_object();
    int oom = lsp ? 0 : -ENOMEM;
    fo_json_set(lsp, "timeStamp", json_object_new_int64(fo_clock_ms()), &oom);
    fo_json_set(lsp, "location", json_object_new_string(s.location), &oom);
    fo_json_set(lsp, "triggerType", json_object_new_string("MANUAL"), &oom);
    fo_json_set(lsp, "formatType", json_object_new_string("CANONICAL"), &oom);
    fo_json_set(lsp, "triggerNonce", json_object_new_int64(nonce), &oom);
    json_object *hist = fo_json_get_array(si, "savepointHistory");
    if (!hist) fo_json_set(si, "savepointHistory", hist = json_object_new_array(), &oom);
    json_object *copy = NULL;
    if (!oom && json_object_deep_copy(lsp, &copy, NULL) != 0) oom = -ENOMEM;
    fo_json_push(hist, copy, &oom);
    fo_json_set(si, "lastSavepoint", lsp, &oom);
    if (oom) p->oom = oom;
    event_record(p->k, p->obj, "Normal", "SavepointCreated", s.location);
  } else {
    char msg[1200];
    snprintf(msg, sizeof msg, "Savepoint failed: %.1100s",
             s.failure_cause ? s.failure_cause : "no cause given");
    report(p, RECONCILE_ERROR, "SavepointError", msg);
  }
  fo_flink_savepoint_status_free(&s);
  set_str(p, si, "triggerId", NULL);
  set_str(p, si, "triggerType", NULL);
  json_object_object_del(si, "triggerTimestamp");
  /* the nonce is done either way (the reference does not retry a failed manual savepoint) */
  json_object *nl = NULL;
  if (json_object_deep_copy(p->last, &nl, NULL) != 0) return -ENOMEM;
  json_object *nj = fo_json_ensure_object(nl, "job");
  if (!nj || fo_json_set(nj, "savepointTriggerNonce", json_object_new_int64(nonce), NULL) < 0) {
    json_object_put(nl);
    return -ENOMEM;
  }
  record_spec(p, nl, "DEPLOYED");
  json_object_put(nl);
  *ret_again = POLL_STEADY_S;
  return write_status(p);
}

/* Validation with the rulebook and the session cluster: 1 when invalid (reported), 0, or a
 * negative errno. */
static int validate(struct sj *p) {
  struct fo_findings errs, warns;
  fo_findings_init(&errs);
  fo_findings_init(&warns);
  int r = fo_rules_validate_json(p->obj, NULL, p->env->default_conf, &errs, &warns);
  if (r == 0 && p->session)
    r = fo_rules_validate_session_job_cluster(p->obj, p->session, p->env->default_conf, &errs);
  char *msg = r == 0 && errs.n ? fo_findings_join(&errs, "; ") : NULL;
  if (r == 0 && errs.n && !msg) r = -ENOMEM;
  if (r == 0 && msg) {
    report(p, VALIDATION_ERROR, "ValidationError", msg);
    r = write_status(p);
    if (r == 0) r = 1;
  }
  if (r == 0) { /* a validation error fixed goes away */
    json_object *tmp;
    error_message(p, &tmp);
    const char *type = fo_json_get_string(tmp, "type");
    if (type && !strcmp(type, VALIDATION_ERROR)) set_error(p, NULL, NULL);
    json_object_put(tmp);
  }
  free(msg);
  fo_findings_free(&errs);
  fo_findings_free(&warns);
  return r;
}

/* The running job `jid` is unknown to its session cluster: the cluster was restarted or
 * redeployed without HA (with HA Flink recovers it by itself: nothing is run twice, the loss is
 * only said). It runs again, by `mode`, from the newest savepoint recorded (lastSavepoint, else
 * the path it was started from), or empty when stateless; a stateful job with nothing recorded is
 * not started empty. */
static int lost_job(struct sj *p, const char *jid, const char *mode, double *ret_again) {
  char msg[512];
  *ret_again = POLL_STEADY_S;
  if (fo_conf_ha_enabled(p->conf)) {
    snprintf(msg, sizeof msg,
             "Job %s is not known to the session cluster; with HA, Flink recovers it", jid);
    report(p, RECONCILE_ERROR, "JobNotFound", msg);
    return write_status(p);
  }
  json_object *j = jstatus(p);
  const char *path = NULL;
  if (strcmp(mode, "stateless") != 0) {
    path = fo_json_get_string(fo_json_path(j, "savepointInfo", "lastSavepoint", (const char *)NULL),
                              "location");
    if (!path) path = fo_json_get_string(j, "upgradeSavepointPath");
    if (!path) {
      snprintf(msg, sizeof msg,
               "Job %s is gone from the session cluster (restarted or redeployed) and no savepoint "
               "of it is recorded; set job.upgradeMode to stateless to start it empty",
               jid);
      report(p, RECONCILE_ERROR, "JobNotFound", msg);
      return write_status(p);
    }
  }
  char *keep = path ? strdup(path) : NULL;
  if (path && !keep) return -ENOMEM;
  snprintf(msg, sizeof msg, "Job %s is gone from the session cluster; it runs again from %.300s",
           jid, keep ? keep : "empty state");
  event_record(p->k, p->obj, "Warning", "JobNotFound", msg);
  int r = deploy(p, p->spec, keep, ret_again);
  free(keep);
  return r;
}

/* The job as it should be, once validated and the cluster is ready. */
static int lifecycle_step(struct sj *p, double *ret_again) {
  json_object *j = jstatus(p);
  if (p->oom) return p->oom;
  const char *jid = fo_json_get_string(j, "jobId");
  const char *js = fo_json_get_string(j, "state");
  if (p->last && wants_running(p->last) && jid && js && !strcmp(js, "RECONCILING"))
    return deploy_resume(p, ret_again);
  if (!p->last) { /* the first deployment */
    if (!wants_running(p->spec)) {
      record_spec(p, p->spec, "DEPLOYED");
      return write_status(p);
    }
    return deploy(p, p->spec, job_str(p->spec, "initialSavepointPath"), ret_again);
  }
  /* observe */
  char state[16] = "";
  char *name = NULL;
  int found = 0;
  if (wants_running(p->last) && jid) {
    found = find_job(p, jid, state, sizeof state, &name);
    if (found < 0) return found;
    if (found) {
      set_job_state(p, state);
      if (name) set_str(p, j, "jobName", name);
    }
    free(name);
  }
  int up = needs_upgrade(p->spec, p->last);
  if (up < 0) return up;
  bool run_now = wants_running(p->spec), ran = wants_running(p->last);
  const char *mode = upgrade_mode(p->spec);
  if (!up && run_now == ran) {
    if (ran && !found && jid && !terminal(fo_json_get_string(j, "state")))
      return lost_job(p, jid, mode, ret_again);
    if (ran && found && !strcmp(state, "RUNNING") &&
        nonce_changed(p->spec, p->last, "savepointTriggerNonce"))
      return nonce_savepoint(p, jid, ret_again);
    if (!json_object_equal(p->spec, p->last)) record_spec(p, p->spec, "DEPLOYED");
    /* a job on its way to RUNNING is looked at sooner */
    *ret_again = !ran ? 0 : found && !strcmp(state, "RUNNING") ? POLL_STEADY_S : POLL_BUSY_S;
    return write_status(p);
  }
  char *path = NULL;
  if (ran) { /* the job runs (or ran): stop it, then see what it left */
    if (found && !terminal(state)) {
      int r = ask_stop(p, jid, mode);
      if (r < 0) return r;
      *ret_again = POLL_BUSY_S;
      return write_status(p);
    }
    int64_t wait_ms = 0; /* the job's state, set above, dates its end (updateTime) */
    int r = left_path(p, jid, mode, found, &path, &wait_ms);
    if (r < 0) return r;
    if (wait_ms > 0) {
      *ret_again = (double)wait_ms / 1000.0;
      return write_status(p);
    }
    if (!path && strcmp(mode, "stateless") != 0) {
      report(p, RECONCILE_ERROR, "UpgradeFailed",
             "The job stopped and left no savepoint or checkpoint to restore; set "
             "job.upgradeMode to stateless to start it empty");
      *ret_again = POLL_STEADY_S;
      return write_status(p);
    }
    json_object *si = spinfo(p);
    const char *ttype = fo_json_get_string(si, "triggerType");
    if (path && ttype && !strcmp(ttype, "UPGRADE")) {
      json_object *lsp = json_object_new_object();
      int oom = lsp ? 0 : -ENOMEM;
      fo_json_set(lsp, "timeStamp", json_object_new_int64(fo_clock_ms()), &oom);
      fo_json_set(lsp, "location", json_object_new_string(path), &oom);
      fo_json_set(lsp, "triggerType", json_object_new_string("UPGRADE"), &oom);
      fo_json_set(lsp, "formatType", json_object_new_string("CANONICAL"), &oom);
      fo_json_set(si, "lastSavepoint", lsp, &oom);
      if (oom) p->oom = oom;
    }
    set_str(p, si, "triggerId", NULL);
    set_str(p, si, "triggerType", NULL);
    json_object_object_del(si, "triggerTimestamp");
    if (found) set_job_state(p, state);
    set_str(p, j, "upgradeSavepointPath", path);
  } else if (strcmp(mode, "stateless") != 0) { /* resumed: from what the suspension left */
    const char *kept = fo_json_get_string(j, "upgradeSavepointPath");
    if (kept && !(path = strdup(kept))) return -ENOMEM;
  }
  int r;
  if (run_now) r = deploy(p, p->spec, path, ret_again);
  else {
    record_spec(p, p->spec, "DEPLOYED");
    if (!found || !terminal(state)) set_job_state(p, "FINISHED");
    r = write_status(p);
  }
  free(path);
  return r;
}

int sessionjob_reconcile(const struct pass_env *env, struct fo_kube *k, json_object *obj,
                         const char *key, double *ret_again) {
  *ret_again = 0;
  if (!obj) return 0;
  struct sj p = {.env = env, .k = k, .obj = obj, .key = key};
  json_object *m = fo_json_get_object(obj, "metadata");
  p.ns = fo_json_get_string(m, "namespace");
  p.name = fo_json_get_string(m, "name");
  fo_json_as_int64(fo_json_get(m, "generation"), &p.gen);
  p.spec = fo_json_get_object(obj, "spec");
  int r = p.ns && p.name ? 0 : -EINVAL;
  json_object *st = fo_json_get_object(obj, "status");
  if (r == 0 && st && json_object_deep_copy(st, &p.st, NULL) != 0) r = -ENOMEM;
  if (r == 0 && !st && !(p.st = json_object_new_object())) r = -ENOMEM;
  if (r == 0 && !(p.st_read = fo_json_dumps(p.st))) r = -ENOMEM;
  const char *lrs =
      fo_json_get_string(fo_json_get_object(p.st, "reconciliationStatus"), "lastReconciledSpec");
  if (r == 0 && lrs && fo_json_parse(lrs, strlen(lrs), NULL, &p.last_root, NULL) == 0)
    p.last = fo_json_get_object(p.last_root, "spec");
  const char *dep = fo_json_get_string(p.spec, "deploymentName");
  if (r == 0 && dep) {
    struct fo_buf skey;
    fo_buf_init(&skey, 1024);
    if (fo_buf_printf(&skey, "%s/%s", p.ns, dep) == 0 && env->cached_flinkdeployment)
      p.session = env->cached_flinkdeployment(env->cache_ud, skey.data);
    fo_buf_free(&skey);
    if (!p.session) {
      int g = fo_kube_get(k, &fo_res_flinkdeployments, p.ns, dep, &p.session);
      if (g < 0 && g != -ENOENT) r = g;
    }
  }
  if (r == 0) {
    json_object *sconf = fo_json_path(p.session, "spec", "flinkConfiguration", (const char *)NULL);
    json_object *cl = fo_conf_effective_new(env->default_conf, sconf);
    p.conf =
        cl ? fo_conf_effective_new(cl, fo_json_get_object(p.spec, "flinkConfiguration")) : NULL;
    json_object_put(cl);
    if (!p.conf) r = -ENOMEM;
  }
  if (r == 0 && p.session) {
    json_object *sconf = fo_json_path(p.session, "spec", "flinkConfiguration", (const char *)NULL);
    int port = (int)fo_conf_whole(sconf, "rest.port", 1, 65535, REST_PORT);
    struct fo_buf u;
    fo_buf_init(&u, 4096);
    if (fo_flink_url(&u, env->flink_url_template, dep, p.ns, port) == 0)
      p.f = fo_flink_new(u.data, 10000);
    fo_buf_free(&u);
    if (!p.f) r = -ENOMEM;
    else if (env->flink_transport)
      fo_flink_set_transport(p.f, env->flink_transport, env->flink_transport_ud);
  }
  if (r < 0) {
  } else if (fo_json_get(m, "deletionTimestamp")) {
    r = on_delete(&p, ret_again);
  } else if (!cro_has_finalizer(p.obj, SJ_FINALIZER)) {
    r = cro_set_finalizer(k, &fo_res_flinksessionjobs, p.obj, SJ_FINALIZER,
                          true); /* comes back through the watch */
  } else if (!p.session) {
    report(&p, VALIDATION_ERROR, "ValidationError", "Session cluster deployment is not found");
    r = write_status(&p);
    *ret_again = POLL_STEADY_S;
  } else {
    r = validate(&p);
    if (r == 1) r = 0;
    else if (r == 0 && !session_ready(&p)) {
      *ret_again = POLL_WAIT_S; /* the reference's readyToReconcile */
      r = write_status(&p);
    } else if (r == 0) {
      r = lifecycle_step(&p, ret_again);
      json_object *lsp =
          fo_json_path(p.st, "jobStatus", "savepointInfo", "lastSavepoint", (const char *)NULL);
      int64_t ts = 0;
      if (r == 0 && env->cached_snapshot && fo_json_as_int64(fo_json_get(lsp, "timeStamp"), &ts))
        snapshot_record(env, k, "FlinkSessionJob", p.ns, p.name, false,
                        fo_json_get_string(lsp, "triggerType"), fo_json_get_string(lsp, "location"),
                        ts);
    }
  }
  if (r < 0 && r != -ENOENT)
    fo_log("warning", "session job reconcile failed",
           "\"object\":\"%s\",\"error\":%d,\"detail\":\"%s\",\"flink\":\"%s\"", fo_log_str(key), r,
           fo_log_str(fo_kube_last_error(k)->message),
           fo_log_str(p.f ? fo_flink_last_error(p.f) : NULL));
  fo_flink_free(p.f);
  json_object_put(p.conf);
  json_object_put(p.session);
  json_object_put(p.last_root);
  json_object_put(p.st);
  free(p.st_read);
  json_object_put(p.obj);
  return r == -ENOENT ? 0 : r;
}

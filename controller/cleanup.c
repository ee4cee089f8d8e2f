#include "cleanup.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "events.h"
#include "flinkop/buf.h"
#include "flinkop/clock.h"
#include "flinkop/flinkconf.h"
#include "flinkop/flinkrest.h"
#include "flinkop/log.h"
#include "lifecycle.h"
#include "savepoint.h"

/* True while JobManager pods of the deleted cluster still exist, up to CLEANUP_TIMEOUT_S after the
 * deletionTimestamp (then the HA data goes anyway, as the reference operator's cleanup timeout
 * does): a stopping JobManager could still write HA data. */
static bool jm_pods_linger(struct pass *p) {
  json_object *pods = lc_labelled(p, &fo_res_pods, "component=jobmanager");
  size_t n = pods ? json_object_array_length(pods) : 0;
  json_object_put(pods);
  if (n == 0) return false;
  const char *dts = fo_json_get_string(fo_json_get_object(p->obj, "metadata"), "deletionTimestamp");
  int64_t at = 0;
  if (fo_clock_parse_rfc3339(dts, &at) == 0 && fo_clock_ms() - at > CLEANUP_TIMEOUT_S * 1000) {
    fo_log("warning",
           "JobManager pods still present after the cleanup timeout; deleting the HA data",
           "\"object\":\"%s\",\"pods\":%zu", fo_log_str(p->key), n);
    return false;
  }
  return true;
}

/* --savepoint-on-deletion: 1 when the job is stopped (with a savepoint, or it failed), 0 while in
 * flight. */
static int stop_with_savepoint(struct pass *p, struct fo_flink *f) {
  struct fo_savepoint_info *s = sp_info(p);
  if (!s->trigger_id) {
    sp_begin(p, f, "UPGRADE", true); /* recorded first: a restart asks for the same one */
    return 0;
  }
  char *loc = NULL, *fail = NULL;
  int r = sp_poll(p, f, true, &loc, &fail);
  if (r == 0 || (r < 0 && r != -ECONNREFUSED)) return 0; /* in flight: look again */
  if (loc) {
    sp_record(p, loc, "UPGRADE", (struct fo_opt_int){false, 0});
    fo_log("info", "savepoint on deletion", "\"object\":\"%s\",\"location\":\"%s\"",
           fo_log_str(p->key), fo_log_str(loc));
  }
  if (fail) event_record(p->k, p->obj, "Warning", "SavepointError", "Savepoint on deletion failed");
  sp_clear(p);
  pass_set_job_state(p, "FINISHED");
  pass_write_status(p);
  free(loc);
  free(fail);
  return 1;
}

/* A session cluster is not deleted while FlinkSessionJobs of its namespace name it
 * (kubernetes.operator.session.deletion.block-on-session-jobs, on by default, as in the
 * reference), nor, with that on, while Flink runs jobs on it that were submitted by hand, by the
 * CLI (kubernetes.operator.session.deletion.block-on-unmanaged-jobs, formerly
 * kubernetes.operator.session.block-on-unmanaged-jobs, on by default): either is said in a
 * CleanupFailed Warning and status.error, and looked at again every SESSION_BLOCK_RECHECK_S. A
 * JobManager not ready runs nothing to protect. 1 when blocked, 0 when not, a negative errno when
 * the API server or Flink cannot be asked. */
#define SESSION_BLOCK_RECHECK_S 10.0
static int blocked(struct pass *p, const char *msg) {
  if (!pass_error_is(p, msg)) event_record(p->k, p->obj, "Warning", "CleanupFailed", msg);
  pass_set_error(p, LC_UPGRADE_ERROR, msg);
  int r = pass_write_status(p);
  return r < 0 ? r : 1;
}

/* FlinkSessionJobs naming this session cluster: 1 (blocked, said), 0, or a negative errno. */
static int session_job_resources_block(struct pass *p) {
  json_object *items = NULL;
  char *rv = NULL;
  int r = fo_kube_list(p->k, &fo_res_flinksessionjobs, p->ns, NULL, 500, &items, &rv);
  free(rv);
  if (r == -ENOENT) return 0; /* no FlinkSessionJob CRD: none can name it */
  if (r == -EPERM) { /* not allowed to look (an older ClusterRole): Flink's own jobs still count */
    fo_log("warning",
           "cannot list FlinkSessionJobs; the session cluster's deletion does not wait for them",
           "\"object\":\"%s\"", fo_log_str(p->key));
    return 0;
  }
  if (r < 0) return r;
  struct fo_buf names;
  fo_buf_init(&names, 64 * 1024);
  size_t n = 0;
  for (size_t i = 0; r == 0 && i < json_object_array_length(items); i++) {
    json_object *sj = json_object_array_get_idx(items, i);
    const char *target = fo_json_get_string(fo_json_get_object(sj, "spec"), "deploymentName");
    const char *name = fo_json_get_string(fo_json_get_object(sj, "metadata"), "name");
    if (name && lc_is(target, p->name))
      r = fo_buf_printf(&names, "%s%s", n++ ? ", " : "", name) < 0 ? -ENOMEM : 0;
  }
  json_object_put(items);
  if (r == 0 && n > 0) {
    char msg[1024];
    snprintf(msg, sizeof msg, "The session jobs [%.900s] should be deleted first", names.data);
    r = blocked(p, msg);
  }
  fo_buf_free(&names);
  return r;
}

static int session_jobs_block(struct pass *p, struct fo_flink *f) {
  if (p->spec.job.present) return 0;
  const char *sj_on =
      fo_conf_get(p->conf, "kubernetes.operator.session.deletion.block-on-session-jobs");
  if (sj_on && !strcasecmp(sj_on, "false")) return 0;
  int sr = session_job_resources_block(p);
  if (sr != 0) return sr;
  const char *on =
      fo_conf_get(p->conf, "kubernetes.operator.session.deletion.block-on-unmanaged-jobs");
  if (!on) on = fo_conf_get(p->conf, "kubernetes.operator.session.block-on-unmanaged-jobs");
  if ((on && !strcasecmp(on, "false")) || !lc_is(p->st.jm_deployment_status, "READY")) return 0;
  /* Once the JobManager Deployment is gone or going (deleted by an earlier pass, once nothing ran),
   * there is nothing left to protect, and Flink (stopping) may not answer at all: asking it would
   * fail the cleanup until a connection is refused. */
  json_object *dep = NULL;
  int g = fo_kube_get(p->k, &fo_res_deployments, p->ns, p->name, &dep);
  bool going = dep && fo_json_get(fo_json_get_object(dep, "metadata"), "deletionTimestamp");
  json_object_put(dep);
  if (g == -ENOENT || going) return 0;
  if (g < 0) return g;
  struct fo_flink_jobs jobs = {0};
  int r = fo_flink_jobs_overview(f, &jobs);
  if (r == -ECONNREFUSED) r = 0; /* nothing listens any more: nothing runs */
  struct fo_buf ids;
  fo_buf_init(&ids, 64 * 1024);
  size_t n = 0;
  for (size_t i = 0; r == 0 && i < jobs.n; i++) {
    const char *s = jobs.jobs[i].state;
    if (lc_is(s, "FINISHED") || lc_is(s, "FAILED") || lc_is(s, "CANCELED")) continue;
    r = fo_buf_printf(&ids, "%s%s", n++ ? ", " : "", jobs.jobs[i].jid);
  }
  fo_flink_jobs_free(&jobs);
  if (r == 0 && n > 0) {
    char msg[1024];
    snprintf(msg, sizeof msg,
             "The session cluster has non terminated jobs [%.900s] that should be cancelled first",
             ids.data);
    r = blocked(p, msg);
  }
  fo_buf_free(&ids);
  return r;
}

int cleanup_step(struct pass *p, double *ret_again) {
  *ret_again = 1.0;
  if (!lc_is(p->st.lifecycle_state, "DELETING")) {
    pass_set(p, &p->st.lifecycle_state, "DELETING");
    pass_write_status(p);
    event_record(p->k, p->obj, "Normal", "Cleanup", "Cleaning up FlinkDeployment");
  }
  struct fo_flink *f = lc_flink(p);
  if (!f) return -ENOMEM;
  int blocked = session_jobs_block(p, f);
  if (blocked != 0) {
    fo_flink_free(f);
    *ret_again = SESSION_BLOCK_RECHECK_S;
    return blocked < 0 ? blocked : 0;
  }
  const struct fo_job_status *j = &p->st.job_status;
  if (p->env->savepoint_on_deletion && j->job_id && lc_is(j->state, "RUNNING") &&
      fo_conf_savepoint_dir(p->conf)) {
    int done = stop_with_savepoint(p, f);
    if (!done) {
      fo_flink_free(f);
      return 0;
    }
  } else if (j->job_id) {
    fo_flink_cancel(f, j->job_id); /* best effort: the cluster goes anyway */
  }
  fo_flink_free(f);
  bool left = false; /* (the JobManager's pods are what is waited for: jm_pods_linger) */
  int r = lc_delete_cluster(p, &left);
  if (r == 0 && jm_pods_linger(p)) return 0;
  if (r == 0) r = lc_delete_ha(p);    /* HA ConfigMaps have no owner: they go explicitly */
  if (r == 0) r = lc_delete_owned(p); /* not left to the garbage collector */
  return r < 0 ? r : 1;
}

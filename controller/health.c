#include "health.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "events.h"
#include "flinkop/clock.h"
#include "flinkop/flinkconf.h"
#include "flinkop/log.h"

#define HEALTH_KEY "ClusterHealthInfo"
#define HEALTH_TEXT_MAX 4096

void health_conf_read(json_object *conf, struct health_conf *ret) {
  memset(ret, 0, sizeof *ret);
  ret->enabled = fo_conf_bool(conf, "kubernetes.operator.cluster.health-check.enabled", false);
  ret->restarts_window_ms = fo_conf_duration(
      conf, "kubernetes.operator.cluster.health-check.restarts.window", 2 * 60 * 1000);
  ret->restarts_threshold = fo_conf_whole(
      conf, "kubernetes.operator.cluster.health-check.restarts.threshold", 0, INT32_MAX, 64);
  if (!fo_conf_bool(conf, "kubernetes.operator.cluster.health-check.checkpoint-progress.enabled",
                    true))
    return;
  /* the shortest window that can tell a stall from the checkpoints Flink may fail in a row */
  int64_t interval = fo_conf_duration(conf, "execution.checkpointing.interval", 0);
  int64_t timeout = fo_conf_duration(conf, "execution.checkpointing.timeout", 10 * 60 * 1000);
  int64_t tolerable =
      fo_conf_whole(conf, "execution.checkpointing.tolerable-failed-checkpoints", 0, 1000000, 0);
  int64_t least = (interval > timeout ? interval : timeout) * (tolerable + 2);
  const char *w =
      fo_conf_get(conf, "kubernetes.operator.cluster.health-check.checkpoint-progress.window");
  int64_t window = fo_conf_duration(
      conf, "kubernetes.operator.cluster.health-check.checkpoint-progress.window", 0);
  if (!w && interval <= 0) return; /* no checkpointing, no window: nothing to check */
  ret->checkpoint_window_ms = window >= least ? window : least;
}

bool health_evaluate(const struct health_conf *c, bool has_last, const struct health_info *last,
                     int64_t restarts, int64_t checkpoints, int64_t last_checkpoint_ms,
                     int64_t now_ms, struct health_info *ret) {
  if (!has_last) { /* the first look only records where things stand */
    *ret = (struct health_info){.ts = now_ms,
                                .restarts = restarts,
                                .restarts_ts = now_ms,
                                .checkpoints = checkpoints,
                                .checkpoints_ts = now_ms,
                                .healthy = true};
    return true;
  }
  *ret = *last;
  ret->ts = now_ms;
  char restart_err[64] = "", cp_err[64] = "";
  /* restarts: counted from the start of the window; a count that went down (a new job) starts a
   * new one, and so does a window that has passed. Within one window the restarts count whole
   * (the record moves only with the count, so the window's start is the later of its record and
   * one window ago) */
  if (restarts < last->restarts) {
    ret->restarts = restarts;
    ret->restarts_ts = now_ms;
  } else {
    if (restarts - last->restarts > c->restarts_threshold)
      snprintf(restart_err, sizeof restart_err, "Restart count hit threshold: %lld",
               (long long)c->restarts_threshold);
    if (last->restarts_ts < now_ms - c->restarts_window_ms && restarts != last->restarts) {
      ret->restarts = restarts;
      ret->restarts_ts = now_ms;
    }
  }
  /* checkpoints: the latest progress is the latest completed checkpoint Flink reports, or the
   * record's (the first look, or a count that went up) */
  if (c->checkpoint_window_ms > 0) {
    if (checkpoints != last->checkpoints) {
      ret->checkpoints = checkpoints;
      if (checkpoints > last->checkpoints) ret->checkpoints_ts = now_ms;
    }
    int64_t progress =
        last_checkpoint_ms > ret->checkpoints_ts ? last_checkpoint_ms : ret->checkpoints_ts;
    if (checkpoints < last->checkpoints) progress = now_ms; /* a new job: it starts now */
    if (progress + c->checkpoint_window_ms < now_ms)
      snprintf(cp_err, sizeof cp_err, "Cluster is not able to complete checkpoints");
  }
  ret->healthy = !*restart_err && !*cp_err;
  snprintf(ret->error, sizeof ret->error, "%s%s%s", restart_err, *restart_err && *cp_err ? "|" : "",
           cp_err);
  /* (more checkpoints are recorded only when Flink's statistics cannot say when the latest was) */
  return ret->restarts != last->restarts || ret->restarts_ts != last->restarts_ts ||
         ret->healthy != last->healthy || strcmp(ret->error, last->error) != 0 ||
         checkpoints < last->checkpoints ||
         (c->checkpoint_window_ms > 0 && checkpoints > last->checkpoints &&
          last_checkpoint_ms <= 0);
}

char *health_format(const struct health_info *h) {
  char *out = malloc(HEALTH_TEXT_MAX);
  if (!out) return NULL;
  char err[160] = "null";
  if (!h->healthy) snprintf(err, sizeof err, "\"%s\"", h->error);
  snprintf(out, HEALTH_TEXT_MAX,
           "{\"timeStamp\":%lld,\"numRestarts\":%lld,\"numRestartsEvaluationTimeStamp\":%lld,"
           "\"numCompletedCheckpoints\":%lld,\"numCompletedCheckpointsIncreasedTimeStamp\":%lld,"
           "\"healthResult\":{\"healthy\":%s,\"error\":%s}}",
           (long long)h->ts, (long long)h->restarts, (long long)h->restarts_ts,
           (long long)h->checkpoints, (long long)h->checkpoints_ts, h->healthy ? "true" : "false",
           err);
  return out;
}

static bool whole(json_object *o, const char *key, int64_t *ret) {
  return fo_json_as_int64(fo_json_get(o, key), ret) && *ret >= 0;
}

int health_parse(const char *text, struct health_info *ret) {
  memset(ret, 0, sizeof *ret);
  if (!text || strlen(text) > HEALTH_TEXT_MAX) return -EINVAL;
  json_object *o = NULL;
  if (fo_json_parse(text, strlen(text), NULL, &o, NULL) != 0 ||
      !json_object_is_type(o, json_type_object)) {
    json_object_put(o);
    return -EINVAL;
  }
  json_object *hr = fo_json_get_object(o, "healthResult");
  json_object *healthy = fo_json_get(hr, "healthy");
  const char *err = fo_json_get_string(hr, "error");
  bool ok = whole(o, "timeStamp", &ret->ts) && whole(o, "numRestarts", &ret->restarts) &&
            whole(o, "numRestartsEvaluationTimeStamp", &ret->restarts_ts) &&
            whole(o, "numCompletedCheckpoints", &ret->checkpoints) &&
            whole(o, "numCompletedCheckpointsIncreasedTimeStamp", &ret->checkpoints_ts) &&
            json_object_is_type(healthy, json_type_boolean);
  if (ok) {
    ret->healthy = json_object_get_boolean(healthy);
    snprintf(ret->error, sizeof ret->error, "%s", ret->healthy || !err ? "" : err);
  }
  json_object_put(o);
  return ok ? 0 : -EINVAL;
}

int health_step(struct pass *p, struct fo_flink *f, struct lc_step *s, bool *ret_wrote,
                bool *ret_restarted) {
  *ret_wrote = *ret_restarted = false;
  struct health_conf c;
  health_conf_read(p->conf, &c);
  const char *js = p->st.job_status.state;
  if (!c.enabled || !p->spec.job.present || !p->st.job_status.job_id || !lc_is(js, "RUNNING"))
    return 0;
  struct fo_flink_health_metrics m;
  if (fo_flink_health_metrics(f, p->st.job_status.job_id, &m) < 0) return 0; /* no verdict */
  int64_t restarts = m.num_restarts >= 0 ? m.num_restarts : m.full_restarts;
  if (restarts < 0 || m.completed_checkpoints < 0) return 0;
  struct fo_flink_checkpoints ck = {0};
  int64_t last_cp = 0; /* (asked only when checkpoint progress is checked) */
  if (c.checkpoint_window_ms > 0 && fo_flink_checkpoints(f, p->st.job_status.job_id, &ck) == 0 &&
      ck.completed.present)
    last_cp = ck.completed.timestamp;
  fo_flink_checkpoints_free(&ck);
  if (!p->st.cluster_info && !(p->st.cluster_info = json_object_new_object())) return -ENOMEM;
  struct health_info last, now;
  bool has_last = health_parse(fo_json_get_string(p->st.cluster_info, HEALTH_KEY), &last) == 0;
  bool changed = health_evaluate(&c, has_last, &last, restarts, m.completed_checkpoints, last_cp,
                                 fo_clock_ms(), &now);
  if (!now.healthy) {
    int r = lc_restart_unhealthy(p, s, now.error);
    if (r != 1) { /* restarted (the record goes with it), or failed */
      *ret_restarted = r == 0;
      *ret_wrote = r == 0;
      return r;
    }
  }
  if (!changed) return 0;
  char *text = health_format(&now);
  if (!text) return -ENOMEM;
  int r = fo_json_set(p->st.cluster_info, HEALTH_KEY, json_object_new_string(text), NULL);
  free(text);
  if (r < 0) return r;
  pass_finish(p);
  r = pass_write_status(p);
  *ret_wrote = r == 0;
  return r;
}

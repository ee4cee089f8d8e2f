#include "checkpoint.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "events.h"
#include "flinkop/clock.h"
#include "flinkop/flinkconf.h"
#include "flinkop/log.h"
#include "savepoint.h"

static struct fo_checkpoint_info *cp_info(struct pass *p) {
  p->st.has_job_status = true;
  p->st.job_status.has_checkpoint_info = true;
  return &p->st.job_status.checkpoint_info;
}

/* Flink's REST API triggers checkpoints from 1.17 on. */
static bool flink_takes_checkpoints(const struct pass *p) {
  return fo_flink1_minor(p->spec.flink_version) >= 17;
}

/* kubernetes.operator.checkpoint.type: FULL (the default) or INCREMENTAL. */
static const char *checkpoint_type(const struct pass *p) {
  const char *t = fo_conf_get(p->conf, "kubernetes.operator.checkpoint.type");
  return t && !strcasecmp(t, "INCREMENTAL") ? "INCREMENTAL" : "FULL";
}

static int send(struct pass *p, struct fo_flink *f) {
  struct fo_checkpoint_info *ci = cp_info(p);
  char *t = NULL;
  int r =
      fo_flink_trigger_checkpoint(f, p->st.job_status.job_id, ci->format_type, ci->trigger_id, &t);
  if (r < 0 && fo_flink_last_http_code(f) >= 400 && fo_flink_last_http_code(f) < 500) {
    char msg[600];
    snprintf(msg, sizeof msg, "Flink refused the checkpoint request (HTTP %ld): %s",
             fo_flink_last_http_code(f), fo_flink_last_error(f));
    event_record(p->k, p->obj, "Warning", "CheckpointError", msg);
  }
  free(t);
  return r;
}

static int begin(struct pass *p, struct fo_flink *f, const char *type) {
  struct fo_checkpoint_info *ci = cp_info(p);
  char id[33];
  sp_new_id(id);
  pass_set(p, &ci->trigger_id, id);
  pass_set(p, &ci->trigger_type, type);
  pass_set(p, &ci->format_type, checkpoint_type(p));
  ci->trigger_timestamp = (struct fo_opt_int){true, fo_clock_ms()};
  if (!strcmp(type, "PERIODIC")) ci->last_periodic_timestamp = ci->trigger_timestamp;
  pass_finish(p);
  int r = pass_write_status(p); /* the id is recorded before the request */
  if (r == 0) send(p, f);       /* not sent: the next poll sends it again with the same id */
  return r;
}

/* The trigger in flight is over (done, failed or given up): its nonce counts as handled. */
static void clear(struct pass *p) {
  struct fo_checkpoint_info *ci = cp_info(p);
  if (lc_is(ci->trigger_type, "MANUAL"))
    lc_record_nonce(p, "checkpointTriggerNonce", p->spec.job.checkpoint_trigger_nonce);
  pass_set(p, &ci->trigger_id, NULL);
  pass_set(p, &ci->trigger_type, NULL);
  pass_set(p, &ci->format_type, NULL);
  ci->trigger_timestamp.set = false;
}

static void failed(struct pass *p, const char *why) {
  struct fo_checkpoint_info *ci = cp_info(p);
  char msg[700]; /* Flink's own words, as far as they fit */
  if (lc_is(ci->trigger_type, "MANUAL"))
    snprintf(msg, sizeof msg, "Checkpoint failed for checkpointTriggerNonce: %lld: %.*s",
             (long long)p->spec.job.checkpoint_trigger_nonce.v, lc_first_line(why, 500), why);
  else snprintf(msg, sizeof msg, "Periodic checkpoint failed: %.*s", lc_first_line(why, 500), why);
  event_record(p->k, p->obj, "Warning", "CheckpointError", msg);
}

static int poll(struct pass *p, struct fo_flink *f, struct lc_step *s) {
  struct fo_checkpoint_info *ci = cp_info(p);
  const char *js = p->st.job_status.state;
  if (!lc_is(js, "RUNNING")) { /* its job stopped running: given up, as the reference does */
    char why[96];
    snprintf(why, sizeof why, "the job is %s", js ? js : "unknown");
    failed(p, why);
    clear(p);
    return 0;
  }
  struct fo_flink_checkpoint_status cs;
  int r = fo_flink_checkpoint_status(f, p->st.job_status.job_id, ci->trigger_id, &cs);
  if (r == -ENOENT) { /* the request never reached Flink: the same id asks for that one */
    send(p, f);
    s->again = LC_POLL;
    return 0;
  }
  if (r < 0) { /* Flink cannot be asked now: the next pass asks again */
    s->again = LC_POLL;
    return 0;
  }
  if (cs.state == FO_FLINK_OP_IN_PROGRESS) {
    s->again = LC_POLL / 2;
  } else if (cs.state == FO_FLINK_OP_COMPLETED) {
    struct fo_checkpoint *last = &ci->last;
    ci->has_last = true;
    last->time_stamp = ci->trigger_timestamp;
    pass_set(p, &last->trigger_type, ci->trigger_type);
    pass_set(p, &last->format_type, ci->format_type);
    last->trigger_nonce = lc_is(ci->trigger_type, "MANUAL") ? p->spec.job.checkpoint_trigger_nonce
                                                            : (struct fo_opt_int){false, 0};
    fo_log("info", "checkpoint completed",
           "\"object\":\"%s\",\"checkpointId\":%lld,\"triggerType\":\"%s\"", fo_log_str(p->key),
           (long long)cs.checkpoint_id, fo_log_str(ci->trigger_type));
    clear(p);
  } else {
    failed(p, cs.failure_cause ? cs.failure_cause : "checkpoint failed");
    clear(p);
  }
  fo_flink_checkpoint_status_free(&cs);
  return 0;
}

int cp_step(struct pass *p, struct fo_flink *f, struct lc_step *s, bool *ret_wrote) {
  *ret_wrote = false;
  struct fo_checkpoint_info *ci = &p->st.job_status.checkpoint_info;
  if (ci->trigger_id) return poll(p, f, s);
  if (!lc_is(p->st.job_status.state, "RUNNING") || !p->st.job_status.job_id) return 0;
  struct fo_opt_int nonce = p->spec.job.checkpoint_trigger_nonce;
  const struct fo_opt_int *ln = &p->last.job.checkpoint_trigger_nonce;
  bool manual = nonce.set && (!ln->set || ln->v != nonce.v);
  bool periodic = lc_periodic_due(p, "kubernetes.operator.periodic.checkpoint.interval",
                                  ci->last_periodic_timestamp);
  if ((manual || periodic) && !flink_takes_checkpoints(p)) {
    if (manual) { /* said once, and the nonce counts as handled */
      event_record(p->k, p->obj, "Warning", "CheckpointError",
                   "Checkpoints can be triggered only on Flink 1.17 or later");
      lc_record_nonce(p, "checkpointTriggerNonce", nonce);
    }
    return 0;
  }
  if (!manual && !periodic) return 0;
  *ret_wrote = true;
  s->again = LC_POLL / 2;
  return begin(p, f, manual ? "MANUAL" : "PERIODIC");
}

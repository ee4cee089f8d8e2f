/* health.h - the cluster health check (kubernetes.operator.cluster.health-check.enabled, off by
 * default), as the reference evaluates it: a running job is unhealthy when it restarted more than
 * .restarts.threshold (64) times within .restarts.window (2 min), or (with
 * .checkpoint-progress.enabled, on by default) completed no checkpoint within
 * .checkpoint-progress.window (at least, and by default, max(interval, timeout) times
 * (tolerable failed checkpoints + 2); nothing is checked without checkpointing or a window). An
 * unhealthy job is restarted, from its HA data (last-state) or empty when its mode is stateless,
 * with a RestartUnhealthyJob Warning; never when neither can bring it back.
 *
 * The record is status.clusterInfo.ClusterHealthInfo in the reference's form. Unlike the
 * reference it is written only when something the evaluation keeps changed (the first look, a
 * new restart count, the result), not at every look: a healthy job costs no writes. The progress
 * of checkpoints is read from Flink's own statistics (the latest completed checkpoint's time),
 * so it needs no record of each one.
 *
 * Ownership: strings returned are malloc'd. Threading: the pass's; the evaluation is pure. */
#ifndef FLINKOP_CONTROLLER_HEALTH_H
#define FLINKOP_CONTROLLER_HEALTH_H

#include <stdbool.h>
#include <stdint.h>

#include "flinkop/flinkrest.h"
#include "flinkop/json.h"
#include "lifecycle.h"
#include "pass.h"

struct health_info {
  int64_t ts;             /* the look this record was made or evaluated at (ms) */
  int64_t restarts;       /* the restart count at the start of the window */
  int64_t restarts_ts;    /* when that window started */
  int64_t checkpoints;    /* completed checkpoints at the last look that changed the record */
  int64_t checkpoints_ts; /* the last known progress of checkpoints */
  bool healthy;
  char error[128]; /* "" when healthy */
};

struct health_conf {
  bool enabled;
  int64_t restarts_window_ms, restarts_threshold;
  int64_t checkpoint_window_ms; /* 0: checkpoint progress not checked */
};

/* The options of the effective configuration `conf`. */
void health_conf_read(json_object *conf, struct health_conf *ret);

/* One look: `last` the record (has_last false: none yet), `now` the look's restart count, the
 * completed checkpoints and the time of the latest one (0: none), at `now_ms`. The new record is
 * in *ret; returns true when it differs from `last` in what is kept (to be written). */
bool health_evaluate(const struct health_conf *c, bool has_last, const struct health_info *last,
                     int64_t restarts, int64_t checkpoints, int64_t last_checkpoint_ms,
                     int64_t now_ms, struct health_info *ret);

/* The record as JSON text (malloc'd, NULL on ENOMEM), and back (0, or -EINVAL for text that is not
 * one: bounded to 4 KiB). */
char *health_format(const struct health_info *h);
int health_parse(const char *text, struct health_info *ret);

/* The running job's health: looks (Flink's metrics and checkpoint statistics), records, and
 * when the job is unhealthy and can be brought back begins its restart (*ret_restarted). The
 * status is written when the record changed (*ret_wrote). 0 or a negative errno; a Flink that
 * does not answer is no verdict. */
int health_step(struct pass *p, struct fo_flink *f, struct lc_step *s, bool *ret_wrote,
                bool *ret_restarted);

#endif

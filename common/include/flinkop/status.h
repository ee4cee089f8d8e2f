/* status.h - FlinkDeployment.status as the controller writes it, and the encoding of
 * reconciliationStatus.lastReconciledSpec / lastStableSpec.
 *
 * fo_status owns everything it points to: strings are malloc'd copies, `raw` keeps the JSON it
 * was read from so fields this model does not know survive a round trip. fo_status_free()
 * releases it (NULL-safe members). fo_status_to_json() writes the typed fields over a copy of
 * `raw`: a status read and written back unchanged is equal to its input.
 * Not thread-safe: one owner at a time.
 */
#ifndef FLINKOP_STATUS_H
#define FLINKOP_STATUS_H

#include <stdbool.h>
#include <stddef.h>

#include "flinkop/json.h"
#include "flinkop/model.h"

struct fo_savepoint {
  struct fo_opt_int time_stamp; /* epoch ms */
  char *location;
  char *trigger_type; /* MANUAL, PERIODIC, UPGRADE, UNKNOWN */
  char *format_type;  /* CANONICAL, NATIVE, UNKNOWN */
  struct fo_opt_int trigger_nonce;
};

struct fo_savepoint_info {
  bool has_last;
  struct fo_savepoint last;
  char *trigger_id; /* non-empty: a savepoint is in progress */
  struct fo_opt_int trigger_timestamp;
  char *trigger_type;
  char *format_type;
  struct fo_savepoint *history;
  size_t n_history;
  bool has_history;
  struct fo_opt_int last_periodic_timestamp; /* epoch ms of the last periodic trigger */
};

/* jobStatus.checkpointInfo: checkpoints asked of Flink (checkpointTriggerNonce, periodic). */
struct fo_checkpoint {
  struct fo_opt_int time_stamp; /* epoch ms of the trigger */
  char *trigger_type;           /* MANUAL, PERIODIC, UNKNOWN */
  char *format_type;            /* FULL, INCREMENTAL, UNKNOWN */
  struct fo_opt_int trigger_nonce;
};

struct fo_checkpoint_info {
  bool has_last;
  struct fo_checkpoint last; /* lastCheckpoint */
  char *trigger_id;          /* non-empty: a checkpoint is in progress */
  struct fo_opt_int trigger_timestamp;
  char *trigger_type;
  char *format_type;
  struct fo_opt_int last_periodic_timestamp; /* lastPeriodicCheckpointTimestamp */
};

struct fo_job_status {
  char *job_name;
  char *job_id;
  char *state;      /* Flink JobStatus, or RECONCILING */
  char *start_time; /* epoch ms as a string, as the reference writes it */
  char *update_time;
  char *upgrade_savepoint_path;
  bool has_savepoint_info;
  struct fo_savepoint_info savepoint_info;
  bool has_checkpoint_info;
  struct fo_checkpoint_info checkpoint_info;
};

struct fo_reconciliation_status {
  struct fo_opt_int reconciliation_timestamp;
  char *last_reconciled_spec; /* JSON text, see fo_reconciled_spec_* */
  char *last_stable_spec;
  char *state; /* DEPLOYED, UPGRADING, ROLLING_BACK, ROLLED_BACK */
};

/* status.taskManager, for the scale subresource (kubectl scale, a HorizontalPodAutoscaler): the
 * TaskManagers' pods' label selector and how many the spec asks for. */
struct fo_tm_status {
  char *label_selector;
  struct fo_opt_int replicas;
};

struct fo_status {
  bool has_job_status;
  struct fo_job_status job_status;
  char *jm_deployment_status;
  char *lifecycle_state;
  char *error;
  struct fo_opt_int observed_generation;
  json_object *cluster_info; /* owned; string map */
  bool has_reconciliation_status;
  struct fo_reconciliation_status reconciliation_status;
  bool has_task_manager;
  struct fo_tm_status task_manager;
  json_object *conditions; /* owned; array */
  json_object *raw;        /* owned; what was read (NULL for a new status) */
};

void fo_status_init(struct fo_status *s);
void fo_status_free(struct fo_status *s);
/* Reads `status_json` (may be NULL). Values of the wrong type are left in `raw` untouched and
 * the typed field stays unset. Returns 0 or -ENOMEM (then `s` is freed and re-initialised). */
int fo_status_read(json_object *status_json, struct fo_status *s);
/* New JSON object for `s` (caller puts). NULL on ENOMEM. */
json_object *fo_status_to_json(const struct fo_status *s);
/* Sets a string field (copying `v`, NULL clears). Returns 0 or -ENOMEM. */
int fo_status_set_str(char **field, const char *v);

/* lastReconciledSpec / lastStableSpec. */
/* Encodes {"spec": <spec>, "resource_metadata": {"apiVersion": ..., "firstDeployment": ...}}.
 * Returns a malloc'd string or NULL (ENOMEM). */
char *fo_reconciled_spec_encode(json_object *spec, bool first_deployment);
/* Decodes both the current form and the older one (the string is the spec itself, possibly with
 * an apiVersion member). Returns 0 with *ret_spec (owned) and *ret_first_deployment, -EINVAL for
 * text that is not a JSON object (err explains), -ENOMEM. */
int fo_reconciled_spec_decode(const char *text, json_object **ret_spec, bool *ret_first_deployment,
                              struct fo_parse_error *err);
/* The same read into arena `a` (see jv.h), building only what `filter` keeps (NULL: everything;
 * it applies to the stored document, so it names the members of both forms). *ret_spec borrows
 * from `a`; in the older form it may still carry apiVersion. Same returns. */
int fo_reconciled_spec_read(const char *text, const struct fo_json_filter *filter,
                            struct fo_arena *a, const struct fo_jv **ret_spec,
                            bool *ret_first_deployment, struct fo_parse_error *err);

/* lifecycleState as the reference computes it from the rest of the status. Borrowed static
 * string. */
const char *fo_status_lifecycle(const struct fo_status *s);
/* The same when the caller knows job.state of the spec lastReconciledSpec records (NULL when
 * none or unknown): no parse of it. */
const char *fo_status_lifecycle_for(const struct fo_status *s, const char *recorded_job_state);

#endif

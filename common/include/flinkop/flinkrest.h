/* flinkrest.h - a client of the Flink JobManager REST API (the calls the job lifecycle needs),
 * on the common HTTP layer (http.h), with a timeout on every call.
 *
 * Outcomes are distinct negative errno values, so the caller can tell them apart:
 *   -ENOENT 404 (unknown job or trigger), -EALREADY 409 (the job is already terminal),
 *   -EIO 5xx (message in last_error), -ECONNREFUSED (nothing listens: the JobManager is down),
 *   -ETIMEDOUT (no answer in time), -EBADMSG (an answer that is not the documented JSON),
 *   -EINVAL other 4xx.
 * Threading: one struct fo_flink per thread (it holds a curl handle). Ownership: strings returned
 * through ret_* are malloc'd (caller frees); structs are freed with their *_free. */
#ifndef FLINKOP_FLINKREST_H
#define FLINKOP_FLINKREST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "flinkop/buf.h"
#include "flinkop/http.h"
#include "flinkop/json.h"

struct fo_flink;

/* `base_url` like http://name-rest.ns:8081 (no trailing slash). NULL on ENOMEM. */
struct fo_flink *fo_flink_new(const char *base_url, long timeout_ms);
struct fo_flink *fo_flink_free(struct fo_flink *f);
/* Replaces HTTP with `fn` (the fuzz target and the controller's unit tests answer through it):
 * see fo_http_transport_fn in http.h. */
typedef fo_http_transport_fn fo_flink_transport_fn;
void fo_flink_set_transport(struct fo_flink *f, fo_flink_transport_fn fn, void *ud);
/* The message of the last failure (Flink's "errors", curl's text, or the parse problem). */
const char *fo_flink_last_error(const struct fo_flink *f);
long fo_flink_last_http_code(const struct fo_flink *f);

/* Expands a URL template: {name}, {namespace} and {port} (the JobManager's rest.port). Returns 0
 * or -ENOMEM. */
int fo_flink_url(struct fo_buf *out, const char *tmpl, const char *name, const char *ns, int port);

struct fo_flink_version {
  char *version;  /* flink-version */
  char *revision; /* flink-revision */
};
int fo_flink_config(struct fo_flink *f, struct fo_flink_version *ret);
void fo_flink_version_free(struct fo_flink_version *v);

struct fo_flink_job {
  char jid[33];
  char *name;
  char state[16]; /* INITIALIZING, CREATED, RUNNING, FAILING, FAILED, CANCELLING, CANCELED, ... */
  int64_t start_time;
  int tasks_total, tasks_running, tasks_finished;
};
struct fo_flink_jobs {
  struct fo_flink_job *jobs;
  size_t n;
};
/* GET /jobs/overview */
int fo_flink_jobs_overview(struct fo_flink *f, struct fo_flink_jobs *ret);
void fo_flink_jobs_free(struct fo_flink_jobs *j);
/* The job's state as the operator reports it: RUNNING only when every task runs or finished. */
const char *fo_flink_job_effective_state(const struct fo_flink_job *j);

/* PATCH /jobs/:jobid?mode=cancel */
int fo_flink_cancel(struct fo_flink *f, const char *jobid);
/* POST /jobs/:jobid/stop {targetDirectory, drain, triggerId}: stop with a savepoint.
 * `trigger_id` (32 hex, may be NULL) makes the request idempotent: sending it again with the same
 * id asks for the same savepoint. *ret_trigger: the request-id. */
int fo_flink_stop_with_savepoint(struct fo_flink *f, const char *jobid, const char *target_dir,
                                 bool drain, const char *trigger_id, char **ret_trigger);
/* POST /jobs/:jobid/savepoints {target-directory, cancel-job, triggerId}. */
int fo_flink_trigger_savepoint(struct fo_flink *f, const char *jobid, const char *target_dir,
                               bool cancel_job, const char *trigger_id, char **ret_trigger);
/* The same with {formatType: CANONICAL | NATIVE} (Flink 1.15 and later; NULL: Flink's default). */
int fo_flink_trigger_savepoint_as(struct fo_flink *f, const char *jobid, const char *target_dir,
                                  bool cancel_job, const char *format_type, const char *trigger_id,
                                  char **ret_trigger);

enum fo_flink_op_state { FO_FLINK_OP_IN_PROGRESS, FO_FLINK_OP_COMPLETED, FO_FLINK_OP_FAILED };
struct fo_flink_savepoint_status {
  enum fo_flink_op_state state;
  char *location;      /* COMPLETED */
  char *failure_cause; /* FAILED: the cause's text */
};
/* GET /jobs/:jobid/savepoints/:triggerid */
int fo_flink_savepoint_status(struct fo_flink *f, const char *jobid, const char *trigger,
                              struct fo_flink_savepoint_status *ret);
void fo_flink_savepoint_status_free(struct fo_flink_savepoint_status *s);

/* POST /jobs/:jobid/checkpoints {checkpointType, triggerId} (Flink 1.17 and later): a checkpoint
 * of `type` FULL, INCREMENTAL or CONFIGURED (NULL: Flink's default). `trigger_id` as for
 * savepoints. */
int fo_flink_trigger_checkpoint(struct fo_flink *f, const char *jobid, const char *type,
                                const char *trigger_id, char **ret_trigger);
struct fo_flink_checkpoint_status {
  enum fo_flink_op_state state;
  int64_t checkpoint_id; /* COMPLETED */
  char *failure_cause;   /* FAILED: the cause's text */
};
/* GET /jobs/:jobid/checkpoints/:triggerid. -ENOENT when Flink does not know the trigger. */
int fo_flink_checkpoint_status(struct fo_flink *f, const char *jobid, const char *trigger,
                               struct fo_flink_checkpoint_status *ret);
void fo_flink_checkpoint_status_free(struct fo_flink_checkpoint_status *s);

struct fo_flink_checkpoint {
  bool present;
  int64_t id;
  char *external_path;
  int64_t timestamp; /* trigger_timestamp, or restore_timestamp for restored */
};
struct fo_flink_checkpoints {
  bool enabled; /* false: "Checkpointing has not been enabled" */
  struct fo_flink_checkpoint completed, savepoint, restored;
  /* the newest entry of the history when Flink says it is IN_PROGRESS (id and trigger_timestamp;
   * never an external_path) */
  struct fo_flink_checkpoint pending;
};
/* GET /jobs/:jobid/checkpoints */
int fo_flink_checkpoints(struct fo_flink *f, const char *jobid, struct fo_flink_checkpoints *ret);
void fo_flink_checkpoints_free(struct fo_flink_checkpoints *c);
/* The completed checkpoint `id` of the job as its statistics' history lists it (ret->present
 * false when not listed; ret->external_path owned, free() it), and *ret_latest the newest
 * completed checkpoint's id (-1 when none): lower than `id`, the statistics predate it. */
int fo_flink_checkpoint_of(struct fo_flink *f, const char *jobid, int64_t id,
                           struct fo_flink_checkpoint *ret, int64_t *ret_latest);

/* What the health check reads of a job's metrics (GET /jobs/<id>/metrics?get=fullRestarts,
 * numRestarts,numberOfCompletedCheckpoints, answered as [{"id","value"}] with the values as
 * decimal strings): -1 for one Flink did not give. */
struct fo_flink_health_metrics {
  int64_t num_restarts, full_restarts, completed_checkpoints;
};
/* 0, -EBADMSG for an answer of another shape, or the transport's errno. */
int fo_flink_health_metrics(struct fo_flink *f, const char *jobid,
                            struct fo_flink_health_metrics *ret);
/* The latest of completed/savepoint/restored by id (NULL when none). Borrowed. */
const struct fo_flink_checkpoint *fo_flink_checkpoints_latest(const struct fo_flink_checkpoints *c);

/* A job vertex's parallelism bounds as the adaptive scheduler takes them (Flink 1.18+):
 * GET and PUT /jobs/:jobid/resource-requirements,
 * {"<vertex id>": {"parallelism": {"lowerBound": l, "upperBound": u}}}. */
#define FO_FLINK_MAX_VERTICES 1024
#define FO_FLINK_MAX_PARALLELISM 32768
struct fo_flink_vertex_req {
  char id[33];
  int lower, upper; /* 1 <= lower <= upper <= FO_FLINK_MAX_PARALLELISM */
};
struct fo_flink_requirements {
  struct fo_flink_vertex_req *v;
  size_t n;
};
/* 0, -EBADMSG for an answer of another shape (ids not 32 hex digits, bounds out of order or
 * range, more than FO_FLINK_MAX_VERTICES), or the transport's errno. */
int fo_flink_resource_requirements(struct fo_flink *f, const char *jobid,
                                   struct fo_flink_requirements *ret);
int fo_flink_set_resource_requirements(struct fo_flink *f, const char *jobid,
                                       const struct fo_flink_requirements *req);
void fo_flink_requirements_free(struct fo_flink_requirements *r);

/* A session cluster's jars (a FlinkSessionJob's): POST /jars/upload of the file at `path` (the
 * multipart part "jarfile", named `name`: Flink wants a name ending in .jar), *ret_jar_id = the id
 * Flink gave it (the last element of the answer's "filename": 1..255 of [A-Za-z0-9._-]). The
 * upload is bounded by time (5 min, and 30 s without progress), not by the cluster's timeout. */
int fo_flink_jar_upload(struct fo_flink *f, const char *path, const char *name, char **ret_jar_id);
struct fo_flink_jar_run {
  const char *entry_class; /* NULL: the jar's manifest says */
  const char *const *args; /* programArgsList, n_args of them (may be 0) */
  size_t n_args;
  int parallelism;    /* 0: the cluster's default */
  const char *job_id; /* 32 hex: the job's id, chosen by the caller */
  bool allow_non_restored_state;
  const char *savepoint_path;       /* what the job restores; NULL: nothing */
  const char *restore_mode_key;     /* "claimMode" (Flink 1.20+), "restoreMode" (1.15 ... 1.19)
                                     * with NO_CLAIM, or NULL: none (Flink refuses fields it does
                                     * not know) */
  json_object *flink_configuration; /* flat, borrowed (Flink 1.17+); NULL: none */
};
/* POST /jars/:jarid/run. 0 when Flink runs the job under run->job_id (its answer says so),
 * -EBADMSG when it answers another id. */
int fo_flink_jar_run(struct fo_flink *f, const char *jar_id, const struct fo_flink_jar_run *run);
/* DELETE /jars/:jarid (-ENOENT when Flink has no such jar). */
int fo_flink_jar_delete(struct fo_flink *f, const char *jar_id);

/* GET /jobs/:jobid/exceptions: *ret_latest = the newest entry's exceptionName: stacktrace first
 * line (NULL when none). */
int fo_flink_latest_exception(struct fo_flink *f, const char *jobid, char **ret_latest);
/* POST /savepoint-disposal {savepoint-path}. */
int fo_flink_dispose_savepoint(struct fo_flink *f, const char *path, char **ret_trigger);

#endif

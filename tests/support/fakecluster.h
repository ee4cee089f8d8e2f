/* fakecluster.h - an in-memory Kubernetes API server and one JobManager's REST API, behind the
 * clients' transport hooks, for the controller's unit tests: the state machine runs against it
 * without a cluster.
 *
 * The API server keeps objects by resource, namespace and name, with a resourceVersion that every
 * write bumps: GET, LIST (labelSelector a=b,c=d), POST (409 AlreadyExists), PUT (409 Conflict on a
 * stale resourceVersion; the status subresource changes only .status, the main resource all but
 * .status; a FlinkDeployment's generation follows its spec), PATCH (merge), DELETE (finalizers
 * hold the object with a deletionTimestamp; owned objects go with their owner). Every request is
 * logged as "METHOD path" (query dropped).
 *
 * fake_tick() plays the rest of the cluster: the deployment controller (a JobManager Deployment
 * becomes ready), and the JobManager itself: it starts the job with the job id and restore path
 * of its ConfigMap, completes a savepoint in flight (stopping the job for a stop-with-savepoint).
 * With Kubernetes HA it keeps, as Flink does, the job graph in <name>-cluster-config-map
 * (jobGraph-<job id>, here its parallelism) and a checkpoint pointer in <name>-<job id>-config-map,
 * and a start that finds a stored job graph for its job id runs that graph.
 *
 * A kill: fake_kill_after(f, n) lets n more writes through, then every request (API server and
 * JobManager) fails as if the process had died, until fake_revive().
 * Ownership: everything returned borrows from the fake unless said otherwise. Not thread-safe. */
#ifndef FO_TEST_FAKECLUSTER_H
#define FO_TEST_FAKECLUSTER_H

#include <stdbool.h>
#include <stddef.h>

#include "flinkop/json.h"

struct fake;

/* The one job vertex of the fake JobManager's job. */
#define FAKE_VERTEX "bc764cd8ddf7a0cff126f51c16239658"

struct fake *fake_new(void);
void fake_free(struct fake *f);

/* fo_http_transport_fn for the Kubernetes client and for the Flink client. */
long fake_kube_transport(void *fake, const char *method, const char *path, const char *body,
                         const char **data, size_t *len);
long fake_flink_transport(void *fake, const char *method, const char *path, const char *body,
                          const char **data, size_t *len);

/* Stores an object as given (resource from apiVersion/kind). 0 or -EINVAL. */
int fake_put(struct fake *f, const char *json_text);
/* The stored object (borrowed) of `plural` ns/name, NULL when absent. */
json_object *fake_get(struct fake *f, const char *plural, const char *ns, const char *name);
/* All stored objects of `plural` (borrowed): {"ns/name": object}, NULL when none was stored. */
json_object *fake_all(struct fake *f, const char *plural);
/* A new reference to a deep copy (as an informer would hand it out), NULL when absent. */
json_object *fake_copy(struct fake *f, const char *plural, const char *ns, const char *name);
/* Applies a merge patch to a stored object's spec as a user would (generation bumped). */
int fake_patch_spec(struct fake *f, const char *plural, const char *ns, const char *name,
                    const char *patch_json);
/* The deployment controller and the JobManager move on one step. */
void fake_tick(struct fake *f);

/* The request log: "METHOD path" lines since the last fake_log_clear, and their count. */
const char *fake_log(struct fake *f);
size_t fake_writes(struct fake *f); /* writes (not GET) to the API server so far */
void fake_log_clear(struct fake *f);

/* Refuses every `method` on `plural` (any namespace and name) with an API server Status of `code`,
 * `reason` and `message` until fake_accept(); as an admission webhook, RBAC or a quota would. */
void fake_refuse(struct fake *f, const char *method, const char *plural, long code,
                 const char *reason, const char *message);
void fake_accept(struct fake *f);

/* The garbage collector misses the deletion of any object of `plural` (NULL: none), as
 * kube-controller-manager's does when it lost its watch of a resource: what it owns stays. */
void fake_gc_blind(struct fake *f, const char *plural);

void fake_kill_after(struct fake *f, long writes);
void fake_revive(struct fake *f);
bool fake_killed(struct fake *f);

/* The JobManager's view. */
struct fake_flink_view {
  bool up;         /* a JobManager answers */
  char job_id[33]; /* the running (or last) job; "" when none */
  char job_state[16];
  char restored_from[256]; /* execution.savepoint.path it started with ("" when empty) */
  int starts;              /* jobs started so far */
  int savepoints;          /* savepoints completed so far */
  char last_savepoint[256];
  int parallelism;           /* of the running job: its configuration's, or a stored job graph's */
  int stale_ha_starts;       /* starts that found another job's HA data of this cluster (it would
                              * recover that instead of what it was told to start from) */
  char last_checkpoint[256]; /* the latest completed checkpoint Flink reports ("" when none); a
                              * start with HA has one at once (its HA pointer names it) */
  int checkpoints;
  int disposed; /* savepoints disposed of (POST /savepoint-disposal) */
  char last_disposed[256];
  int triggered_checkpoints; /* checkpoints asked for through POST /jobs/:id/checkpoints */
  bool adaptive;             /* jobmanager.scheduler: adaptive (resource requirements served) */
  int vertex_lower, vertex_upper; /* the job's one vertex (FAKE_VERTEX): its parallelism bounds */
  int requirement_puts;           /* PUT /jobs/:id/resource-requirements accepted */
  char last_checkpoint_type[16];  /* the checkpointType of the last one ("" when none given) */
  int restarts;                   /* the job's numRestarts metric (from 0 at each start) */
  long pending_checkpoint_ms;     /* a checkpoint in progress, triggered then (0: none) */
};
void fake_flink_view(struct fake *f, struct fake_flink_view *ret);
/* The next savepoint fails. */
void fake_flink_fail_next_savepoint(struct fake *f);
/* The next checkpoint asked for fails. */
void fake_flink_fail_next_checkpoint(struct fake *f);
/* The running job completes a checkpoint (file:/checkpoints/<job id>/chk-N). */
void fake_flink_checkpoint(struct fake *f);
/* The running job begins a checkpoint, triggered at `ms` (the newest of the history, IN_PROGRESS,
 * until fake_flink_checkpoint completes it). */
void fake_flink_checkpoint_begin(struct fake *f, long ms);
/* The running job restarts `n` times (its numRestarts metric grows). */
void fake_flink_restarts(struct fake *f, int n);
/* The fake JobManager's clock (it starts in 2023 and moves 1 s a tick) set to the real time. */
void fake_clock_now(struct fake *f);
/* The job's state as Flink reports it from now on (FAILED, RESTARTING, ...). */
void fake_flink_set_job_state(struct fake *f, const char *state);
/* A job submitted to the (session) cluster by hand, RUNNING. */
void fake_flink_submit(struct fake *f, const char *job_id);
/* on: the JobManager answers every request with 503, as one shutting down does. */
void fake_flink_unavailable(struct fake *f, bool on);
/* broken: the JobManager does not answer, nor does a new one start (a crash loop). */
void fake_flink_break(struct fake *f, bool broken);

#endif

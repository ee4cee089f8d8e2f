/* sessionjob.h - one reconcile pass for a FlinkSessionJob: a job the operator runs in a session
 * cluster (a FlinkDeployment without job, of the same namespace) through that cluster's REST API.
 *
 * The jar is fetched (artifact.h), uploaded (POST /jars/upload), run under a job id the operator
 * chose (POST /jars/:id/run) and deleted from the cluster. The job id is written to the status
 * (jobStatus.jobId, jobStatus.state RECONCILING) before the run is asked for, so a controller
 * killed at any step finds the job again: a pass that reads RECONCILING asks Flink for that id
 * and runs the jar only when Flink does not know it. Stopping a job (an upgrade, a suspension,
 * the deletion) is asked for before anything is recorded, and what the job left (its savepoint or
 * newest checkpoint) is read back from Flink once it has stopped, so a kill between the two only
 * repeats the question. A savepoint's trigger id is recorded before the savepoint is asked for,
 * and sent with it (Flink 1.15+ makes such a request idempotent).
 *
 * Upgrades by job.upgradeMode, as the reference's session jobs: stateless cancels and starts
 * empty; savepoint stops with a savepoint and runs from it; last-state cancels and runs from the
 * newest checkpoint Flink reports (when the job has none, it stops with a savepoint instead: a
 * job is never stopped with nothing to restore). job.state suspended stops the same way and keeps
 * the path in jobStatus.upgradeSavepointPath for the resumption. job.savepointTriggerNonce takes
 * a savepoint of the running job. Validation is the webhook's rulebook plus the rules that read
 * the session cluster; a violation is status.error and a ValidationError Event, and nothing runs.
 *
 * Ownership: `obj` is taken (a private copy); `env` and `k` borrowed. One pass, one worker thread.
 */
#ifndef FLINKOP_CONTROLLER_SESSIONJOB_H
#define FLINKOP_CONTROLLER_SESSIONJOB_H

#include "flinkop/json.h"
#include "flinkop/kube.h"
#include "pass.h"

#define SJ_KEY_PREFIX "FlinkSessionJob:"
#define SJ_FINALIZER "flinksessionjobs.flink.apache.org/finalizer"

/* One pass for `key` (namespace/name, without the queue's prefix). Returns 0 or a negative errno
 * (requeue with backoff); *ret_again: seconds after which to look again (0: only on change). */
int sessionjob_reconcile(const struct pass_env *env, struct fo_kube *k, json_object *obj,
                         const char *key, double *ret_again);

#endif

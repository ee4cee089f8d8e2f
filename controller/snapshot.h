/* snapshot.h - FlinkStateSnapshot: a savepoint or checkpoint of a FlinkDeployment's or a
 * FlinkSessionJob's job, as a resource (the reference's, since its 1.10).
 *
 * The pass (snapshot_reconcile) moves a snapshot through its states:
 *   (new)            -> COMPLETED with spec.savepoint.path when the savepoint alreadyExists,
 *                       else TRIGGER_PENDING;
 *   TRIGGER_PENDING  -> IN_PROGRESS: a trigger id chosen and written first (status.triggerId,
 *                       triggerTimestamp), then sent with the request (Flink takes the caller's id
 *                       from 1.15, so asking again is the same snapshot); ABANDONED when the job it
 *                       names is missing or not running;
 *   IN_PROGRESS      -> COMPLETED (status.path, resultTimestamp) or, on a failure, FAILED with
 *                       status.error and failures + 1; with retries left (spec.backoffLimit: -1
 *                       unlimited, 0 none, N), back to TRIGGER_PENDING after a backoff.
 * The reference's labels are kept current (snapshot.type, snapshot.state, snapshot.trigger-type,
 * job-reference.kind, job-reference.name). Deleting a COMPLETED savepoint with disposeOnDelete
 * disposes of its data through the job's cluster (POST /savepoint-disposal) before the finalizer
 * goes; without a cluster to ask, a CleanupFailed Warning says so and the deletion waits.
 *
 * snapshot_record() makes the record the operator keeps of a snapshot it took itself (an upgrade's,
 * a nonce's, a periodic one) when kubernetes.operator.snapshot.resource.enabled is on (the
 * default): a FlinkStateSnapshot named <resource>-<savepoint|checkpoint>-<trigger type>-<epoch ms>
 * that the pass completes at once. The name is derived from the snapshot, so recording twice is
 * one resource.
 *
 * Ownership: `obj` taken; `env`, `k` and the strings borrowed. One pass, one worker thread. */
#ifndef FLINKOP_CONTROLLER_SNAPSHOT_H
#define FLINKOP_CONTROLLER_SNAPSHOT_H

#include <stdint.h>

#include "flinkop/json.h"
#include "flinkop/kube.h"
#include "pass.h"

#define SNAP_KEY_PREFIX "FlinkStateSnapshot:"
#define SNAP_FINALIZER "flinkstatesnapshots.flink.apache.org/finalizer"
#define SNAP_RESOURCE_ENABLED "kubernetes.operator.snapshot.resource.enabled"

int snapshot_reconcile(const struct pass_env *env, struct fo_kube *k, json_object *obj,
                       const char *key, double *ret_again);

/* Records a snapshot the operator took: `kind` FlinkDeployment or FlinkSessionJob, ns/name of
 * the resource, `checkpoint` or a savepoint, `trigger_type` MANUAL, PERIODIC or UPGRADE, `path`
 * (may be NULL for a checkpoint), `ts_ms` when it was taken. Nothing when the option is off or
 * the record exists (in env's cache, or the API server says so). 0 or a negative errno; the
 * resource kind not installed (404) is 0, logged once. */
int snapshot_record(const struct pass_env *env, struct fo_kube *k, const char *kind, const char *ns,
                    const char *name, bool checkpoint, const char *trigger_type, const char *path,
                    int64_t ts_ms);

#endif

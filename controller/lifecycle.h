/* lifecycle.h - the job lifecycle of one FlinkDeployment: deploy, suspend, restore, upgrade by
 * upgradeMode, savepoints on demand, cleanup on delete.
 *
 * The status is the source of truth and is written before every destructive step, so each pass
 * derives where a transition stands from the status and the cluster, and a controller killed
 * between any two steps finishes the transition on its next pass:
 *   reconciliationStatus.state UPGRADING + lastReconciledSpec (job.state suspended, the mode used)
 *     = a transition in flight; jobStatus.savepointInfo.triggerId = a savepoint in flight (its id
 *     is chosen by us and written before the request, so a retry asks for the same savepoint);
 *     jobStatus.upgradeSavepointPath = what the next stateful start restores from;
 *     jobStatus.state RECONCILING = the job id for the next start is chosen; the JobManager
 *     Deployment's generation annotation = the spec generation it runs. */
#ifndef FLINKOP_CONTROLLER_LIFECYCLE_H
#define FLINKOP_CONTROLLER_LIFECYCLE_H

#include "flinkop/kube.h"

/* One pass for a FlinkDeployment that has our finalizer and a valid spec. `obj` is a private copy.
 * Returns seconds until the next look (> 0), 0 when only a change should wake it, < 0 on error. */
double lifecycle_reconcile(struct fo_kube *k, json_object *obj, const char *key);
/* Cleanup on delete; returns 1 when the finalizer may be removed, 0 to look again, < 0 on error. */
int lifecycle_cleanup(struct fo_kube *k, json_object *obj, const char *key);

#endif

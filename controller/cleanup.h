/* cleanup.h - what deleting a FlinkDeployment does before its finalizer goes: the job is
 * cancelled (or, with --savepoint-on-deletion, stopped with a savepoint whose trigger is recorded
 * first), the cluster's Deployments are deleted, and once no JobManager pod is left (or after
 * CLEANUP_TIMEOUT_S) its Kubernetes HA ConfigMaps, which have no owner. The ConfigMap and
 * Services go with their owner (garbage collection). Threading: the pass's. */
#ifndef FLINKOP_CONTROLLER_CLEANUP_H
#define FLINKOP_CONTROLLER_CLEANUP_H

#include "pass.h"

#define CLEANUP_TIMEOUT_S 60

/* One step. Returns 1 when the finalizer may be removed, 0 to look again (*ret_again seconds),
 * or a negative errno. */
int cleanup_step(struct pass *p, double *ret_again);

#endif

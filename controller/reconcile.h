/* reconcile.h - one reconcile pass for a FlinkDeployment: our finalizer (added first, removed
 * after cleanup on delete), validation with the webhook's rulebook (an invalid spec is reported in
 * status.error and an Event, and nothing is deployed from it), then the job lifecycle. */
#ifndef FLINKOP_CONTROLLER_RECONCILE_H
#define FLINKOP_CONTROLLER_RECONCILE_H

#include "flinkop/json.h"
#include "flinkop/kube.h"
#include "pass.h"

/* One pass for `key`. `obj` is a private copy of the object (taken), NULL when it is gone. `k` is
 * the worker's client. Returns 0 or a negative errno (requeue with backoff); *ret_again is the
 * seconds after which to look again (0: only on change). */
int reconcile(const struct pass_env *env, struct fo_kube *k, json_object *obj, const char *key,
              double *ret_again);

#endif

/* defaults.h - the mutation half of admission: the JSON Patch that fills the defaults the
 * controller relies on, so users see them in `kubectl get -o yaml`:
 *   spec.job.state: running, spec.job.upgradeMode: stateless (when spec.job exists),
 *   spec.mode: native, spec.jobManager.replicas: 1,
 *   metadata.labels["app.kubernetes.io/managed-by"]: flink-operator,
 *   spec.serviceAccount: `service_account` when given (the caller's default for the object's
 *   namespace), unless a pod template (spec.podTemplate, the JobManager's or the TaskManager's)
 *   names one: the pods then run as the template says.
 * A field the user set (to anything but null) is never touched; an object that needs nothing
 * gets an empty patch.
 * Ownership: *ret_patch is a new json-c array owned by the caller. Thread-safe.
 */
#ifndef FLINKOP_DEFAULTS_H
#define FLINKOP_DEFAULTS_H

#include "flinkop/json.h"
#include "flinkop/jv.h"

/* Returns 0 with *ret_patch, -EINVAL when obj is not a JSON object, -ENOMEM. `obj` is borrowed. */
int fo_defaults_patch(const struct fo_jv *obj, const char *service_account,
                      json_object **ret_patch);
/* The same for a json-c tree (read through a copy in an arena). */
int fo_defaults_patch_json(json_object *obj, const char *service_account, json_object **ret_patch);

#endif

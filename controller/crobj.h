/* crobj.h - what the passes over the operator's custom resources (FlinkDeployment,
 * FlinkSessionJob, FlinkStateSnapshot) do alike with their object: the finalizer, the status as
 * one JSON document written back only when it changed, and status.error as the reference writes
 * it.
 *
 * Ownership: objects and strings borrowed unless said; `k` is the calling worker's client. */
#ifndef FLINKOP_CONTROLLER_CROBJ_H
#define FLINKOP_CONTROLLER_CROBJ_H

#include <stdbool.h>

#include "flinkop/json.h"
#include "flinkop/kube.h"

/* Whether `obj`'s metadata.finalizers holds `name`. */
bool cro_has_finalizer(json_object *obj, const char *name);

/* Adds or removes `name` in `obj`'s finalizers (the others kept, in order) and sends the new
 * list to the object of resource `res` as a merge patch (its resourceVersion the precondition:
 * -ESTALE when stale; nothing else of `obj` is sent). 0 or a negative errno; `obj` holds the new
 * list either way. */
int cro_set_finalizer(struct fo_kube *k, const struct fo_kube_resource *res, json_object *obj,
                      const char *name, bool present);

/* status.error's text as the reference writes it: {"type": type, "message": msg,
 * "additionalMetadata": {}, "throwableList": []}. Malloc'd (the caller frees), NULL on ENOMEM. */
char *cro_error_text(const char *type, const char *msg);

/* Writes `st` as `obj`'s status (PUT of the status subresource, the resourceVersion as
 * precondition) when its text differs from *st_read, the text last read or written (malloc'd,
 * replaced on success). `obj` keeps its tree (a pass borrows from it): it takes the status and
 * the new resourceVersion, so a second write follows the first. 0 or a negative errno. */
int cro_write_status(struct fo_kube *k, const struct fo_kube_resource *res, json_object *obj,
                     json_object *st, char **st_read);

#endif

/* rules.h - the FlinkDeployment rulebook: validation (every violation, not only the first) and
 * non-blocking warnings, exactly as the admission webhook, the dry-run command and the controller
 * judge a resource.
 *
 * Inputs are borrowed; findings are appended to caller-owned lists. Thread-safe: no shared
 * mutable state (the default configuration is only read).
 */
#ifndef FLINKOP_RULES_H
#define FLINKOP_RULES_H

#include "flinkop/findings.h"
#include "flinkop/json.h"
#include "flinkop/jv.h"

/* Judges `obj` (a FlinkDeployment as JSON). `old_obj` (may be NULL) is the stored object of an
 * UPDATE: its status stands in when `obj` carries none, and a spec change against it while a
 * savepoint is in progress earns a warning. `default_conf` (flat, may be NULL) is the operator's
 * default Flink configuration. Returns 0 (verdict in the lists: allowed iff errors->n == 0),
 * -EINVAL when obj is not a JSON object, -ENOMEM. */
int fo_rules_validate(const struct fo_jv *obj, const struct fo_jv *old_obj,
                      json_object *default_conf, struct fo_findings *errors,
                      struct fo_findings *warnings);
/* The same for json-c trees (read through a copy in an arena). */
int fo_rules_validate_json(json_object *obj, json_object *old_obj, json_object *default_conf,
                           struct fo_findings *errors, struct fo_findings *warnings);

/* What a FlinkSessionJob `sj` needs of the session cluster `session` (a FlinkDeployment) it names,
 * as the reference's validateSessionJobWithCluster: no job of the cluster's own, the name, the
 * checkpoint and savepoint directories its upgrade mode and snapshot options need (in the
 * operator's defaults, the cluster's configuration or its own), a parallelism, the autoscaler's
 * options. The controller judges with it, which has the cluster. Borrowed inputs; findings
 * appended. 0, -EINVAL (not JSON objects), -ENOMEM. */
int fo_rules_validate_session_job_cluster(json_object *sj, json_object *session,
                                          json_object *default_conf, struct fo_findings *errors);

/* The trigger id of the savepoint in progress according to `status` (a FlinkDeployment's status
 * object, may be NULL), or NULL when none is. Borrowed. The rules read the old object's spec only
 * when there is one (see fo_rules_validate). */
const char *fo_rules_pending_savepoint(const struct fo_jv *status);

/* The rulebook's name check, exposed for the controller and tests. */
bool fo_rules_name_valid(const char *name);

#endif

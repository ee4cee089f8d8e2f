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

/* The class of a failed pass's error `err` (negative errno) with the client's last error `why`
 * (may be NULL): one word of a fixed set, for the metric, the log and status.error: "Invalid"
 * (the API server refused the object: 400/422, an admission webhook's denial), "Forbidden"
 * (RBAC, 403), "Unauthorized" (401), "Conflict" (409: someone else wrote first), "AlreadyExists",
 * "TooManyRequests" (429), "ServerError" (5xx or an unreadable answer), "Unreachable" (no
 * answer), "OutOfMemory", "Error" (anything else). A static string. */
const char *reconcile_failure_class(int err, const struct fo_kube_error *why);

/* Makes a failed pass visible to the user: status.error as the reference writes it
 * ({"type": ReconciliationException, "message": what failed in the API server's own words and
 * when the next attempt is, "additionalMetadata": {class, httpCode, attempt, nextAttempt},
 * "throwableList": []}) and a Warning Event, reason "Error", whose message leaves out the time so
 * that repeats are one Event with a growing count. A conflict or a write this process may not
 * make is not reported (the next pass sees the newer object). The next pass that succeeds clears
 * the error. `obj`: a private copy of the object (taken), NULL when gone; `retry`: when the next
 * attempt is. Best effort (it may fail as the pass did): returns 0 or a negative errno. */
struct reconcile_retry {
  double in_s;    /* seconds to the next attempt */
  int attempt;    /* consecutive failures so far, this one included (0: not counted) */
  bool exhausted; /* past the counted attempts: retried at a fixed interval from now on */
};
int reconcile_report(const struct pass_env *env, struct fo_kube *k, json_object *obj,
                     const char *key, int err, const struct fo_kube_error *why,
                     const struct reconcile_retry *retry);

#endif

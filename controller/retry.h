/* retry.h - how failures are retried: the reference operator's retry settings, used by the work
 * queue (a failed pass) and by the lifecycle (a step that cannot go on: a refused upgrade, a
 * failed savepoint). Pure functions; the policy is a value. */
#ifndef FLINKOP_CONTROLLER_RETRY_H
#define FLINKOP_CONTROLLER_RETRY_H

#include <json-c/json.h>

/* How a key's retries back off after consecutive failures: attempt n (1, 2, ...) waits
 * initial_s * multiplier^(n-1), at most max_s (0: no cap); after max_attempts failures in a row
 * the retries are no longer counted down but made every exhausted_s (the object is never given
 * up on). The reference's kubernetes.operator.retry.* keys, read by retry_from_conf(). */
struct retry_policy {
  double initial_s, multiplier, max_s;
  int max_attempts;
  double exhausted_s;
};

/* The reference's defaults: 5 s, x1.5, no cap, 15 attempts, then every 60 s
 * (kubernetes.operator.reconcile.interval). */
extern const struct retry_policy retry_default;

/* Reads kubernetes.operator.retry.{initial.interval, interval.multiplier, max.interval,
 * max.attempts} and kubernetes.operator.reconcile.interval from a flattened Flink configuration
 * (borrowed; NULL: the defaults) over the defaults into *ret. Returns 0, or -EINVAL with the
 * offending key in *ret_key (borrowed from a static table). */
int retry_from_conf(json_object *conf, struct retry_policy *ret, const char **ret_key);

/* The delay before attempt `attempt` (>= 1) is retried. */
double retry_delay(const struct retry_policy *b, int attempt);

#endif

/* canary.h - canary resources: FlinkDeployments labelled flink.apache.org/canary "true", the
 * reference operator's health probe. They are never deployed; the controller notes each
 * generation the watch shows (canary_seen) and each one a worker took (canary_reconciled), and
 * is unhealthy (its /healthz) while a generation seen has waited longer than the timeout
 * (kubernetes.operator.health.canary.resource.timeout, 1 min): workers that no longer take what
 * the watch brings.
 * A fixed table (CANARY_MAX canaries; more are not followed). Thread-safe (one mutex); keys are
 * copied. Times are the caller's monotonic seconds. */
#ifndef FLINKOP_CONTROLLER_CANARY_H
#define FLINKOP_CONTROLLER_CANARY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CANARY_MAX 64
#define CANARY_TIMEOUT_KEY "kubernetes.operator.health.canary.resource.timeout"

void canary_seen(const char *key, int64_t generation, double now);
void canary_reconciled(const char *key, int64_t generation);
void canary_forget(const char *key);
/* False when a canary's generation has waited for a worker longer than timeout_s; then `why`
 * (n bytes) names it. */
bool canary_healthy(double now, double timeout_s, char *why, size_t n);
/* Forgets every canary (tests). */
void canary_reset(void);

#endif

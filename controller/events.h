/* events.h - Kubernetes Events on a FlinkDeployment or FlinkSessionJob (the object's kind). The
 * Event's name is derived from (object uid, type, reason, message), so a repeat finds the same
 * Event and only bumps its count and lastTimestamp, as kubectl describe expects; the Events this
 * process wrote are remembered (bounded, thread-safe), so a repeat is one PATCH. Failures are
 * logged, never fatal: an Event is a report, not state. Inputs borrowed; `k` is the calling
 * worker's client (its write hook applies).
 */
#ifndef FLINKOP_CONTROLLER_EVENTS_H
#define FLINKOP_CONTROLLER_EVENTS_H

#include "flinkop/json.h"
#include "flinkop/kube.h"

void event_record(struct fo_kube *k, json_object *obj, const char *type, const char *reason,
                  const char *message);

/* Forgets the Events written so far, as a new process would (tests). */
void event_forget(void);

/* Warning Events recorded so far (each call, a repeat included), by reason: the reasons this
 * controller gives (a fixed set, for a metric's bounded labels), "Other" last. The counts are
 * atomics, safe from any thread. event_warning_reason(i) is NULL past the last. */
const char *event_warning_reason(size_t i);
unsigned long long event_warnings(size_t i);

#endif

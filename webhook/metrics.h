/* metrics.h - the webhook's Prometheus metrics: fixed label sets, lock-free counters (C11
 * atomics), rendered in the text exposition format. Thread-safe. */
#ifndef FLINKOP_WEBHOOK_METRICS_H
#define FLINKOP_WEBHOOK_METRICS_H

#include "flinkop/buf.h"

enum wh_endpoint { EP_VALIDATE, EP_MUTATE, EP_HEALTHZ, EP_READYZ, EP_METRICS, EP_OTHER, EP_COUNT };
enum wh_verdict { V_ALLOWED, V_DENIED, V_NONE, V_COUNT };

void wh_metrics_request(enum wh_endpoint ep, enum wh_verdict v, unsigned code, double seconds);
void wh_metrics_tls_failure(void);
void wh_metrics_connection(int delta);
/* Appends the exposition text. Returns 0 or -ENOMEM. */
int wh_metrics_render(struct fo_buf *out);

#endif

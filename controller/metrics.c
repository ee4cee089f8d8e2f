/* The controller's Prometheus metrics (C11 atomics; fixed label sets). */
#include <errno.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>

#include "controller.h"
#include "events.h"

static const char *const results[] = {"ok", "requeue", "error"};
static const double buckets[] = {0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5};
#define NB (sizeof buckets / sizeof buckets[0])
static atomic_uint_fast64_t rec_count[3], rec_hist[3][NB + 1], rec_sum_us[3];
static const char *const verbs[] = {"GET", "POST", "PUT", "PATCH", "DELETE"};
static const long codes[] = {0, 200, 201, 400, 401, 403, 404, 409, 410, 422, 429, 500, 503};
#define NV (sizeof verbs / sizeof verbs[0])
#define NC (sizeof codes / sizeof codes[0])
static atomic_uint_fast64_t api[NV][NC + 1];
static atomic_uint_fast64_t writes;
static const char *const classes[] = {
    "Invalid",         "BadRequest",  "Forbidden",   "Unauthorized", "Conflict", "AlreadyExists",
    "TooManyRequests", "ServerError", "Unreachable", "OutOfMemory",  "Error"};
#define NF (sizeof classes / sizeof classes[0])
static atomic_uint_fast64_t failures[NF];

void ctl_metrics_failure(const char *cls) {
  size_t f = NF - 1; /* "Error" */
  for (size_t i = 0; i < NF; i++)
    if (!strcmp(classes[i], cls)) f = i;
  atomic_fetch_add(&failures[f], 1);
}

void ctl_metrics_reconcile(const char *result, double seconds) {
  size_t r = 2;
  for (size_t i = 0; i < 3; i++)
    if (!strcmp(results[i], result)) r = i;
  atomic_fetch_add(&rec_count[r], 1);
  size_t b = NB;
  for (size_t i = 0; i < NB; i++)
    if (seconds <= buckets[i]) {
      b = i;
      break;
    }
  atomic_fetch_add(&rec_hist[r][b], 1);
  atomic_fetch_add(&rec_sum_us[r], (uint_fast64_t)(seconds * 1e6));
}

void ctl_metrics_api(const char *verb, long code) {
  size_t v = NV, c = NC;
  for (size_t i = 0; i < NV; i++)
    if (!strcmp(verbs[i], verb)) v = i;
  if (v == NV) return;
  for (size_t i = 0; i < NC; i++)
    if (codes[i] == code) c = i;
  atomic_fetch_add(&api[v][c], 1);
}

void ctl_metrics_write(void) { atomic_fetch_add(&writes, 1); }

int ctl_metrics_render(struct ctl *ctl, struct fo_buf *o) {
  int r = fo_buf_puts(o,
                      "# HELP flink_operator_reconcile_total Reconcile passes by result.\n# TYPE "
                      "flink_operator_reconcile_total counter\n");
  for (size_t i = 0; i < 3; i++)
    r |= fo_buf_printf(o, "flink_operator_reconcile_total{result=\"%s\"} %llu\n", results[i],
                       (unsigned long long)atomic_load(&rec_count[i]));
  r |= fo_buf_puts(o,
                   "# HELP flink_operator_reconcile_duration_seconds Reconcile latency.\n# TYPE "
                   "flink_operator_reconcile_duration_seconds histogram\n");
  for (size_t i = 0; i < 3; i++) {
    uint64_t cum = 0;
    for (size_t b = 0; b <= NB; b++) {
      cum += atomic_load(&rec_hist[i][b]);
      if (b < NB)
        r |= fo_buf_printf(
            o, "flink_operator_reconcile_duration_seconds_bucket{result=\"%s\",le=\"%g\"} %llu\n",
            results[i], buckets[b], (unsigned long long)cum);
      else
        r |= fo_buf_printf(
            o, "flink_operator_reconcile_duration_seconds_bucket{result=\"%s\",le=\"+Inf\"} %llu\n",
            results[i], (unsigned long long)cum);
    }
    r |= fo_buf_printf(
        o,
        "flink_operator_reconcile_duration_seconds_sum{result=\"%s\"} "
        "%.6f\nflink_operator_reconcile_duration_seconds_count{result=\"%s\"} %llu\n",
        results[i], (double)atomic_load(&rec_sum_us[i]) / 1e6, results[i], (unsigned long long)cum);
  }
  r |= fo_buf_puts(o,
                   "# HELP flink_operator_reconcile_failures_total Failed passes by the class of "
                   "their error.\n# TYPE flink_operator_reconcile_failures_total counter\n");
  for (size_t i = 0; i < NF; i++)
    r |= fo_buf_printf(o, "flink_operator_reconcile_failures_total{class=\"%s\"} %llu\n",
                       classes[i], (unsigned long long)atomic_load(&failures[i]));
  r |= fo_buf_puts(o,
                   "# HELP flink_operator_warnings_total Warning Events recorded on the "
                   "resources, by reason (a repeat counts again).\n# TYPE "
                   "flink_operator_warnings_total counter\n");
  for (size_t i = 0; event_warning_reason(i); i++)
    r |= fo_buf_printf(o, "flink_operator_warnings_total{reason=\"%s\"} %llu\n",
                       event_warning_reason(i), event_warnings(i));
  r |= fo_buf_puts(
      o,
      "# HELP flink_operator_api_requests_total Kubernetes API requests by verb and HTTP code (0 = "
      "transport error).\n# TYPE flink_operator_api_requests_total counter\n");
  for (size_t v = 0; v < NV; v++)
    for (size_t c = 0; c <= NC; c++) {
      uint64_t n = atomic_load(&api[v][c]);
      if (!n) continue;
      if (c < NC)
        r |= fo_buf_printf(o, "flink_operator_api_requests_total{verb=\"%s\",code=\"%ld\"} %llu\n",
                           verbs[v], codes[c], (unsigned long long)n);
      else
        r |=
            fo_buf_printf(o, "flink_operator_api_requests_total{verb=\"%s\",code=\"other\"} %llu\n",
                          verbs[v], (unsigned long long)n);
    }
  unsigned long restarts = 0;
  for (size_t i = 0; i < ctl->n_fd; i++) restarts += informer_restarts(ctl->fd_informers[i]);
  r |= fo_buf_printf(o,
                     "# HELP flink_operator_writes_total Writes sent to the API server.\n# TYPE "
                     "flink_operator_writes_total counter\nflink_operator_writes_total %llu\n",
                     (unsigned long long)atomic_load(&writes));
  r |= fo_buf_printf(
      o,
      "# HELP flink_operator_watch_restarts_total Watches re-established.\n# TYPE "
      "flink_operator_watch_restarts_total counter\nflink_operator_watch_restarts_total %lu\n",
      restarts);
  r |= fo_buf_printf(o,
                     "# HELP flink_operator_queue_depth Keys waiting in the work queue.\n# TYPE "
                     "flink_operator_queue_depth gauge\nflink_operator_queue_depth %zu\n",
                     queue_depth(ctl->queue));
  r |= fo_buf_printf(o,
                     "# HELP flink_operator_leader 1 while this process holds the lease.\n# TYPE "
                     "flink_operator_leader gauge\nflink_operator_leader %d\n",
                     leader_is_leader() ? 1 : 0);
  return r ? -ENOMEM : 0;
}

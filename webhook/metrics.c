#include "metrics.h"

#include <stdatomic.h>
#include <errno.h>
#include <stdint.h>

#include "certmgr.h"
#include "tlscreds.h"

static const char *const ep_names[EP_COUNT] = {"validate", "mutate",  "healthz",
                                               "readyz",   "metrics", "other"};
static const char *const v_names[V_COUNT] = {"allowed", "denied", "none"};
static const unsigned codes[] = {200, 400, 404, 405, 408, 413, 415, 500, 503};
#define NCODES (sizeof codes / sizeof codes[0])
static const double buckets[] = {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005,
                                 0.01,   0.025,   0.05,   0.1,   0.25,   1.0};
#define NBUCKETS (sizeof buckets / sizeof buckets[0])

static atomic_uint_fast64_t requests[EP_COUNT][V_COUNT][NCODES + 1];
static atomic_uint_fast64_t hist[EP_COUNT][NBUCKETS + 1];
static atomic_uint_fast64_t hist_sum_ns[EP_COUNT];
static atomic_uint_fast64_t tls_failures;
static atomic_int_fast64_t connections;

void wh_metrics_request(enum wh_endpoint ep, enum wh_verdict v, unsigned code, double seconds) {
  size_t ci = NCODES;
  for (size_t i = 0; i < NCODES; i++)
    if (codes[i] == code) ci = i;
  atomic_fetch_add_explicit(&requests[ep][v][ci], 1, memory_order_relaxed);
  size_t b = NBUCKETS;
  for (size_t i = 0; i < NBUCKETS; i++)
    if (seconds <= buckets[i]) {
      b = i;
      break;
    }
  atomic_fetch_add_explicit(&hist[ep][b], 1, memory_order_relaxed);
  atomic_fetch_add_explicit(&hist_sum_ns[ep], (uint_fast64_t)(seconds * 1e9), memory_order_relaxed);
}

void wh_metrics_tls_failure(void) {
  atomic_fetch_add_explicit(&tls_failures, 1, memory_order_relaxed);
}

void wh_metrics_connection(int delta) {
  atomic_fetch_add_explicit(&connections, delta, memory_order_relaxed);
}

int wh_metrics_render(struct fo_buf *o) {
  int r = fo_buf_puts(
      o,
      "# HELP flink_webhook_requests_total Requests by endpoint, verdict and HTTP status code.\n"
      "# TYPE flink_webhook_requests_total counter\n");
  for (int e = 0; e < EP_COUNT; e++)
    for (int v = 0; v < V_COUNT; v++)
      for (size_t c = 0; c <= NCODES; c++) {
        uint64_t n = atomic_load_explicit(&requests[e][v][c], memory_order_relaxed);
        if (!n) continue;
        if (c < NCODES)
          r |= fo_buf_printf(
              o, "flink_webhook_requests_total{endpoint=\"%s\",verdict=\"%s\",code=\"%u\"} %llu\n",
              ep_names[e], v_names[v], codes[c], (unsigned long long)n);
        else
          r |= fo_buf_printf(
              o,
              "flink_webhook_requests_total{endpoint=\"%s\",verdict=\"%s\",code=\"other\"} %llu\n",
              ep_names[e], v_names[v], (unsigned long long)n);
      }
  r |= fo_buf_puts(o,
                   "# HELP flink_webhook_request_duration_seconds Time from a complete request to "
                   "its response.\n"
                   "# TYPE flink_webhook_request_duration_seconds histogram\n");
  for (int e = 0; e < EP_COUNT; e++) {
    uint64_t cum = 0;
    for (size_t b = 0; b <= NBUCKETS; b++) {
      cum += atomic_load_explicit(&hist[e][b], memory_order_relaxed);
      if (b < NBUCKETS)
        r |= fo_buf_printf(
            o, "flink_webhook_request_duration_seconds_bucket{endpoint=\"%s\",le=\"%g\"} %llu\n",
            ep_names[e], buckets[b], (unsigned long long)cum);
      else
        r |= fo_buf_printf(
            o, "flink_webhook_request_duration_seconds_bucket{endpoint=\"%s\",le=\"+Inf\"} %llu\n",
            ep_names[e], (unsigned long long)cum);
    }
    r |= fo_buf_printf(o, "flink_webhook_request_duration_seconds_sum{endpoint=\"%s\"} %.9f\n",
                       ep_names[e],
                       (double)atomic_load_explicit(&hist_sum_ns[e], memory_order_relaxed) / 1e9);
    r |= fo_buf_printf(o, "flink_webhook_request_duration_seconds_count{endpoint=\"%s\"} %llu\n",
                       ep_names[e], (unsigned long long)cum);
  }
  r |= fo_buf_printf(o,
                     "# HELP flink_webhook_tls_handshake_failures_total TLS connections closed "
                     "before the handshake completed.\n"
                     "# TYPE flink_webhook_tls_handshake_failures_total counter\n"
                     "flink_webhook_tls_handshake_failures_total %llu\n",
                     (unsigned long long)atomic_load_explicit(&tls_failures, memory_order_relaxed));
  r |= fo_buf_printf(o,
                     "# HELP flink_webhook_open_connections Connections open now.\n"
                     "# TYPE flink_webhook_open_connections gauge\n"
                     "flink_webhook_open_connections %lld\n",
                     (long long)atomic_load_explicit(&connections, memory_order_relaxed));
  r |= fo_buf_printf(
      o,
      "# HELP flink_webhook_certificate_expiry_timestamp_seconds notAfter of the serving "
      "certificate.\n"
      "# TYPE flink_webhook_certificate_expiry_timestamp_seconds gauge\n"
      "flink_webhook_certificate_expiry_timestamp_seconds %lld\n"
      "# HELP flink_webhook_certificate_reloads_total Certificate pairs loaded after start.\n"
      "# TYPE flink_webhook_certificate_reloads_total counter\n"
      "flink_webhook_certificate_reloads_total %llu\n",
      (long long)wh_creds_not_after(), (unsigned long long)wh_creds_reloads());
  r |= fo_buf_printf(
      o,
      "# HELP flink_webhook_certificate_renewals_total Self-managed certificates issued by this "
      "replica.\n"
      "# TYPE flink_webhook_certificate_renewals_total counter\n"
      "flink_webhook_certificate_renewals_total %llu\n"
      "# HELP flink_webhook_certificate_errors_total Self-managed certificate rounds that failed.\n"
      "# TYPE flink_webhook_certificate_errors_total counter\n"
      "flink_webhook_certificate_errors_total %llu\n",
      (unsigned long long)wh_certmgr_renewals(), (unsigned long long)wh_certmgr_errors());
  return r ? -ENOMEM : 0;
}

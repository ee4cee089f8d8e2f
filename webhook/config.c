#include "config.h"

#include "flinkop/opts.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define OFF(f) offsetof(struct wh_config, f)
static const struct fo_opt opts[] = {
    {"listen", "FO_WEBHOOK_LISTEN", FO_OPT_STR, OFF(listen), "0.0.0.0:9443", 0, 0, "ADDR:PORT to serve HTTPS on"},
    {"tls-cert", "FO_WEBHOOK_TLS_CERT", FO_OPT_STR, OFF(tls_cert), NULL, 0, 0, "serving certificate (PEM, chain allowed)"},
    {"tls-key", "FO_WEBHOOK_TLS_KEY", FO_OPT_STR, OFF(tls_key), NULL, 0, 0, "private key (PEM)"},
    {"config", "FO_WEBHOOK_CONFIG", FO_OPT_STR, OFF(config), NULL, 0, 0, "operator default Flink configuration (YAML)"},
    {"metrics-listen", "FO_WEBHOOK_METRICS_LISTEN", FO_OPT_STR, OFF(metrics_listen), NULL, 0, 0, "ADDR:PORT for plain-HTTP /metrics, /healthz, /readyz"},
    {"insecure", "FO_WEBHOOK_INSECURE", FO_OPT_BOOL, OFF(insecure), "false", 0, 0, "serve plain HTTP (local debugging only)"},
    {"threads", "FO_WEBHOOK_THREADS", FO_OPT_LONG, OFF(threads), "0", 0, 256, "worker threads (0 = number of cores)"},
    {"max-body", "FO_WEBHOOK_MAX_BODY", FO_OPT_LONG, OFF(max_body), "3145728", 1024, 64L << 20, "largest request body in bytes"},
    {"conn-timeout", "FO_WEBHOOK_CONN_TIMEOUT", FO_OPT_LONG, OFF(conn_timeout), "30", 1, 3600, "seconds a connection may stay idle"},
    {"request-timeout", "FO_WEBHOOK_REQUEST_TIMEOUT", FO_OPT_LONG, OFF(request_timeout), "10", 1, 600, "seconds a client has to send one whole request"},
    {"conn-limit", "FO_WEBHOOK_CONN_LIMIT", FO_OPT_LONG, OFF(conn_limit), "1000", 1, 100000, "concurrent connections"},
    {"per-ip-limit", "FO_WEBHOOK_PER_IP_LIMIT", FO_OPT_LONG, OFF(per_ip_limit), "0", 0, 100000, "concurrent connections per client address (0 = no limit)"},
    {"conn-memory", "FO_WEBHOOK_CONN_MEMORY", FO_OPT_LONG, OFF(conn_memory), "65536", 8192, 1L << 20, "header buffer bytes per connection"},
    {"cert-poll-ms", "FO_WEBHOOK_CERT_POLL_MS", FO_OPT_LONG, OFF(cert_poll_ms), "1000", 50, 600000, "milliseconds between checks of the certificate files"},
    {"shutdown-timeout", "FO_WEBHOOK_SHUTDOWN_TIMEOUT", FO_OPT_LONG, OFF(shutdown_timeout), "20", 1, 600, "seconds to finish in-flight requests on SIGTERM"},
    {"log-level", "FO_WEBHOOK_LOG_LEVEL", FO_OPT_STR, OFF(log_level), "info", 0, 0, "info or debug"},
};
#define NOPTS (sizeof opts / sizeof opts[0])

void wh_config_usage(FILE *f) { fo_opts_usage(opts, NOPTS, "flink-webhook serve", f); }

int wh_config_parse(int argc, char **argv, struct wh_config *cfg) {
  memset(cfg, 0, sizeof *cfg);
  int r = fo_opts_parse(opts, NOPTS, cfg, argc, argv, "flink-webhook serve");
  if (r == 1) exit(0);
  if (r < 0) return -EINVAL;
  if (!cfg->insecure && (!cfg->tls_cert || !cfg->tls_key)) {
    fprintf(stderr, "flink-webhook: --tls-cert and --tls-key are required (or --insecure for plain HTTP)\n");
    return -EINVAL;
  }
  if (strcmp(cfg->log_level, "info") && strcmp(cfg->log_level, "debug")) {
    fprintf(stderr, "flink-webhook: --log-level must be info or debug\n");
    return -EINVAL;
  }
  if (cfg->threads == 0) {
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    cfg->threads = n > 0 ? n : 1;
  }
  return 0;
}

void wh_config_free(struct wh_config *cfg) { fo_opts_free(opts, NOPTS, cfg); }

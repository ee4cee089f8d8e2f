#include "config.h"

#include "flinkop/opts.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdbool.h>
#include <string.h>
#include <unistd.h>

#define OFF(f) offsetof(struct wh_config, f)
static const struct fo_opt opts[] = {
    {"listen", "FO_WEBHOOK_LISTEN", FO_OPT_STR, OFF(listen), "0.0.0.0:9443", 0, 0,
     "ADDR:PORT to serve HTTPS on"},
    {"tls-cert", "FO_WEBHOOK_TLS_CERT", FO_OPT_STR, OFF(tls_cert), NULL, 0, 0,
     "serving certificate (PEM, chain allowed)"},
    {"tls-key", "FO_WEBHOOK_TLS_KEY", FO_OPT_STR, OFF(tls_key), NULL, 0, 0, "private key (PEM)"},
    {"config", "FO_WEBHOOK_CONFIG", FO_OPT_STR, OFF(config), NULL, 0, 0,
     "operator default Flink configuration (YAML)"},
    {"metrics-listen", "FO_WEBHOOK_METRICS_LISTEN", FO_OPT_STR, OFF(metrics_listen), NULL, 0, 0,
     "ADDR:PORT for plain-HTTP /metrics, /healthz, /readyz"},
    {"insecure", "FO_WEBHOOK_INSECURE", FO_OPT_BOOL, OFF(insecure), "false", 0, 0,
     "serve plain HTTP (local debugging only)"},
    {"threads", "FO_WEBHOOK_THREADS", FO_OPT_LONG, OFF(threads), "0", 0, 256,
     "worker threads (0 = number of cores)"},
    {"max-body", "FO_WEBHOOK_MAX_BODY", FO_OPT_LONG, OFF(max_body), "3145728", 1024, 64L << 20,
     "largest request body in bytes"},
    {"conn-timeout", "FO_WEBHOOK_CONN_TIMEOUT", FO_OPT_LONG, OFF(conn_timeout), "30", 1, 3600,
     "seconds a connection may stay idle"},
    {"request-timeout", "FO_WEBHOOK_REQUEST_TIMEOUT", FO_OPT_LONG, OFF(request_timeout), "10", 1,
     600, "seconds a client has to send one whole request"},
    {"conn-limit", "FO_WEBHOOK_CONN_LIMIT", FO_OPT_LONG, OFF(conn_limit), "1000", 1, 100000,
     "concurrent connections"},
    {"per-ip-limit", "FO_WEBHOOK_PER_IP_LIMIT", FO_OPT_LONG, OFF(per_ip_limit), "0", 0, 100000,
     "concurrent connections per client address (0 = no limit)"},
    {"conn-memory", "FO_WEBHOOK_CONN_MEMORY", FO_OPT_LONG, OFF(conn_memory), "16384", 8192,
     1L << 20, "buffer bytes per connection (headers and reads; zeroed between requests)"},
    {"cert-poll-ms", "FO_WEBHOOK_CERT_POLL_MS", FO_OPT_LONG, OFF(cert_poll_ms), "1000", 50, 600000,
     "milliseconds between checks of the certificate files"},
    {"shutdown-timeout", "FO_WEBHOOK_SHUTDOWN_TIMEOUT", FO_OPT_LONG, OFF(shutdown_timeout), "20", 1,
     600, "seconds to finish in-flight requests on SIGTERM"},
    {"shutdown-delay", "FO_WEBHOOK_SHUTDOWN_DELAY", FO_OPT_LONG, OFF(shutdown_delay), "0", 0, 300,
     "seconds to keep serving after SIGTERM, /readyz failing, before the drain (time for the "
     "endpoints to drop this pod)"},
    {"log-level", "FO_WEBHOOK_LOG_LEVEL", FO_OPT_STR, OFF(log_level), "info", 0, 0,
     "info or debug"},
    {"default-service-account", "FO_WEBHOOK_DEFAULT_SERVICE_ACCOUNT", FO_OPT_STR,
     OFF(default_service_account), NULL, 0, 0,
     "spec.serviceAccount /mutate fills in when a FlinkDeployment names none (nor does its pod "
     "template)"},
    {"default-service-account-namespaces", "FO_WEBHOOK_DEFAULT_SERVICE_ACCOUNT_NAMESPACES",
     FO_OPT_LIST, OFF(default_service_account_namespaces), NULL, 0, 0,
     "namespaces where that account exists (default: every namespace)"},
    {"cert-mode", "FO_WEBHOOK_CERT_MODE", FO_OPT_STR, OFF(cert_mode), "files", 0, 0,
     "files (--tls-cert/--tls-key) or self-managed (CA and pair in a Secret, renewed, caBundle "
     "kept)"},
    {"kubeconfig", "KUBECONFIG", FO_OPT_STR, OFF(kubeconfig), NULL, 0, 0,
     "self-managed: kubeconfig file (default: in-cluster)"},
    {"cert-secret", "FO_WEBHOOK_CERT_SECRET", FO_OPT_STR, OFF(cert_secret),
     "flink-operator-webhook-certs", 0, 0,
     "self-managed: [NAMESPACE/]NAME of the Secret holding the CA and the pair"},
    {"cert-names", "FO_WEBHOOK_CERT_NAMES", FO_OPT_LIST, OFF(cert_names), NULL, 0, 0,
     "self-managed: subjectAltNames (DNS names or IP addresses)"},
    {"webhook-configuration", "FO_WEBHOOK_CONFIGURATION", FO_OPT_STR, OFF(webhook_configuration),
     NULL, 0, 0,
     "self-managed: name of the Validating and Mutating webhook configurations whose caBundle is "
     "kept"},
    {"cert-validity", "FO_WEBHOOK_CERT_VALIDITY", FO_OPT_LONG, OFF(cert_validity), "31536000", 10,
     20L * 31536000, "self-managed: seconds a serving certificate is valid"},
    {"cert-renew-before", "FO_WEBHOOK_CERT_RENEW_BEFORE", FO_OPT_LONG, OFF(cert_renew_before),
     "2592000", 5, 10L * 31536000, "self-managed: renew this many seconds before expiry"},
    {"ca-validity", "FO_WEBHOOK_CA_VALIDITY", FO_OPT_LONG, OFF(ca_validity), "315360000", 20,
     100L * 31536000, "self-managed: seconds the CA is valid"},
    {"cert-check-interval", "FO_WEBHOOK_CERT_CHECK_INTERVAL", FO_OPT_LONG, OFF(cert_check_interval),
     "60", 1, 86400, "self-managed: seconds between checks of the Secret and the caBundle"},
    {"cert-startup-timeout", "FO_WEBHOOK_CERT_STARTUP_TIMEOUT", FO_OPT_LONG,
     OFF(cert_startup_timeout), "60", 0, 3600,
     "self-managed: seconds to get a certificate before giving up"},
};
#define NOPTS (sizeof opts / sizeof opts[0])

void wh_config_usage(FILE *f) { fo_opts_usage(opts, NOPTS, "flink-webhook serve", f); }

int wh_config_parse(int argc, char **argv, struct wh_config *cfg) {
  memset(cfg, 0, sizeof *cfg);
  int r = fo_opts_parse(opts, NOPTS, cfg, argc, argv, "flink-webhook serve");
  if (r == 1) exit(0);
  if (r < 0) return -EINVAL;
  bool self_managed = !strcmp(cfg->cert_mode, "self-managed");
  if (!self_managed && strcmp(cfg->cert_mode, "files")) {
    fprintf(stderr, "flink-webhook: --cert-mode must be files or self-managed, not '%s'\n",
            cfg->cert_mode);
    return -EINVAL;
  }
  if (self_managed) {
    if (cfg->insecure) {
      fprintf(stderr,
              "flink-webhook: --cert-mode self-managed and --insecure exclude each other\n");
      return -EINVAL;
    }
    if (!cfg->cert_names || !cfg->cert_names[0]) {
      fprintf(
          stderr,
          "flink-webhook: --cert-mode self-managed needs --cert-names (the Service's DNS names)\n");
      return -EINVAL;
    }
    if (cfg->cert_renew_before >= cfg->cert_validity) {
      fprintf(stderr, "flink-webhook: --cert-renew-before must be shorter than --cert-validity\n");
      return -EINVAL;
    }
    if (cfg->ca_validity <= cfg->cert_validity + cfg->cert_renew_before) {
      fprintf(
          stderr,
          "flink-webhook: --ca-validity must exceed --cert-validity plus --cert-renew-before\n");
      return -EINVAL;
    }
  } else if (!cfg->insecure && (!cfg->tls_cert || !cfg->tls_key)) {
    fprintf(
        stderr,
        "flink-webhook: --tls-cert and --tls-key are required (or --insecure for plain HTTP)\n");
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

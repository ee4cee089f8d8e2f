/* config.h - `flink-webhook serve` options: one table (flag, environment variable, default,
 * bounds), parsed and validated once at start-up. The result is read-only afterwards, so every
 * thread may read it. */
#ifndef FLINKOP_WEBHOOK_CONFIG_H
#define FLINKOP_WEBHOOK_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

struct wh_config {
  char *listen;          /* ADDR:PORT */
  char *tls_cert;        /* PEM file (chain) */
  char *tls_key;         /* PEM file */
  char *config;          /* operator default Flink configuration (optional) */
  char *metrics_listen;  /* separate plain-HTTP listener for /metrics, /healthz, /readyz */
  bool insecure;         /* plain HTTP on --listen (local debugging only) */
  long threads;          /* worker threads */
  long max_body;         /* bytes */
  long conn_timeout;     /* seconds idle before a connection is closed */
  long request_timeout;  /* seconds a client has to deliver one whole request */
  long conn_limit;       /* concurrent connections */
  long per_ip_limit;     /* concurrent connections per client address, 0 = no limit */
  long conn_memory;      /* bytes of header buffer per connection */
  long cert_poll_ms;     /* how often the certificate files are checked for changes */
  long shutdown_timeout; /* seconds to finish in-flight requests after SIGTERM */
  long shutdown_delay;   /* seconds to keep serving after SIGTERM (readyz 503) before draining */
  char *log_level;       /* info or debug */
  char *default_service_account;             /* spec.serviceAccount filled by /mutate, or NULL */
  char **default_service_account_namespaces; /* where it applies (NULL: everywhere) */
  char *cert_mode;             /* "files" (--tls-cert/--tls-key) or "self-managed" (certmgr.h) */
  char *kubeconfig;            /* self-managed: API access (default in-cluster) */
  char *cert_secret;           /* self-managed: [NAMESPACE/]NAME of the Secret */
  char **cert_names;           /* self-managed: subjectAltNames */
  char *webhook_configuration; /* self-managed: configurations whose caBundle is kept */
  long cert_validity, cert_renew_before, ca_validity, cert_check_interval,
      cert_startup_timeout; /* seconds */
};

/* Parses argv (after "serve") and the environment. Returns 0, or -EINVAL after printing the
 * problem to stderr (the caller exits 2). Strings in *cfg are owned: wh_config_free(). */
int wh_config_parse(int argc, char **argv, struct wh_config *cfg);
void wh_config_free(struct wh_config *cfg);
void wh_config_usage(FILE *f);

#endif

#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum opt_type { OPT_STR, OPT_LONG, OPT_BOOL };

struct opt {
  const char *flag; /* long option name */
  const char *env;
  enum opt_type type;
  size_t offset;
  const char *def; /* as text */
  long min, max;
  const char *help;
};

#define OFF(f) offsetof(struct wh_config, f)
static const struct opt opts[] = {
    {"listen", "FO_WEBHOOK_LISTEN", OPT_STR, OFF(listen), "0.0.0.0:9443", 0, 0, "ADDR:PORT to serve HTTPS on"},
    {"tls-cert", "FO_WEBHOOK_TLS_CERT", OPT_STR, OFF(tls_cert), NULL, 0, 0, "serving certificate (PEM, chain allowed)"},
    {"tls-key", "FO_WEBHOOK_TLS_KEY", OPT_STR, OFF(tls_key), NULL, 0, 0, "private key (PEM)"},
    {"config", "FO_WEBHOOK_CONFIG", OPT_STR, OFF(config), NULL, 0, 0, "operator default Flink configuration (YAML)"},
    {"metrics-listen", "FO_WEBHOOK_METRICS_LISTEN", OPT_STR, OFF(metrics_listen), NULL, 0, 0, "ADDR:PORT for plain-HTTP /metrics, /healthz, /readyz"},
    {"insecure", "FO_WEBHOOK_INSECURE", OPT_BOOL, OFF(insecure), "false", 0, 0, "serve plain HTTP (local debugging only)"},
    {"threads", "FO_WEBHOOK_THREADS", OPT_LONG, OFF(threads), "0", 0, 256, "worker threads (0 = number of cores)"},
    {"max-body", "FO_WEBHOOK_MAX_BODY", OPT_LONG, OFF(max_body), "3145728", 1024, 64L << 20, "largest request body in bytes"},
    {"conn-timeout", "FO_WEBHOOK_CONN_TIMEOUT", OPT_LONG, OFF(conn_timeout), "30", 1, 3600, "seconds a connection may stay idle"},
    {"request-timeout", "FO_WEBHOOK_REQUEST_TIMEOUT", OPT_LONG, OFF(request_timeout), "10", 1, 600, "seconds a client has to send one whole request"},
    {"conn-limit", "FO_WEBHOOK_CONN_LIMIT", OPT_LONG, OFF(conn_limit), "1000", 1, 100000, "concurrent connections"},
    {"per-ip-limit", "FO_WEBHOOK_PER_IP_LIMIT", OPT_LONG, OFF(per_ip_limit), "0", 0, 100000, "concurrent connections per client address (0 = no limit)"},
    {"conn-memory", "FO_WEBHOOK_CONN_MEMORY", OPT_LONG, OFF(conn_memory), "65536", 8192, 1L << 20, "header buffer bytes per connection"},
    {"cert-poll-ms", "FO_WEBHOOK_CERT_POLL_MS", OPT_LONG, OFF(cert_poll_ms), "1000", 50, 600000, "milliseconds between checks of the certificate files"},
    {"shutdown-timeout", "FO_WEBHOOK_SHUTDOWN_TIMEOUT", OPT_LONG, OFF(shutdown_timeout), "20", 1, 600, "seconds to finish in-flight requests on SIGTERM"},
    {"log-level", "FO_WEBHOOK_LOG_LEVEL", OPT_STR, OFF(log_level), "info", 0, 0, "info or debug"},
};
#define NOPTS (sizeof opts / sizeof opts[0])

void wh_config_usage(FILE *f) {
  fputs("usage: flink-webhook serve [options]\n", f);
  for (size_t i = 0; i < NOPTS; i++)
    fprintf(f, "  --%-17s %s (env %s%s%s)\n", opts[i].flag, opts[i].help, opts[i].env,
            opts[i].def ? ", default " : "", opts[i].def ? opts[i].def : "");
}

static int set(struct wh_config *cfg, const struct opt *o, const char *v, const char *src) {
  char *base = (char *)cfg;
  switch (o->type) {
  case OPT_STR: {
    char **p = (char **)(base + o->offset);
    char *c = strdup(v);
    if (!c) return -ENOMEM;
    free(*p);
    *p = c;
    return 0;
  }
  case OPT_BOOL: {
    bool *p = (bool *)(base + o->offset);
    if (!strcmp(v, "true") || !strcmp(v, "1") || !strcmp(v, "yes")) *p = true;
    else if (!strcmp(v, "false") || !strcmp(v, "0") || !strcmp(v, "no")) *p = false;
    else {
      fprintf(stderr, "flink-webhook: %s: --%s must be true or false, not '%s'\n", src, o->flag, v);
      return -EINVAL;
    }
    return 0;
  }
  case OPT_LONG: {
    char *end;
    errno = 0;
    long x = strtol(v, &end, 10);
    if (errno || end == v || *end || x < o->min || x > o->max) {
      fprintf(stderr, "flink-webhook: %s: --%s must be an integer in [%ld, %ld], not '%s'\n", src,
              o->flag, o->min, o->max, v);
      return -EINVAL;
    }
    *(long *)(base + o->offset) = x;
    return 0;
  }
  }
  return -EINVAL;
}

int wh_config_parse(int argc, char **argv, struct wh_config *cfg) {
  memset(cfg, 0, sizeof *cfg);
  for (size_t i = 0; i < NOPTS; i++)
    if (opts[i].def && set(cfg, &opts[i], opts[i].def, "default") < 0) return -EINVAL;
  for (size_t i = 0; i < NOPTS; i++) {
    const char *v = getenv(opts[i].env);
    if (v && *v && set(cfg, &opts[i], v, opts[i].env) < 0) return -EINVAL;
  }
  struct option lo[NOPTS + 2];
  for (size_t i = 0; i < NOPTS; i++)
    lo[i] = (struct option){opts[i].flag, opts[i].type == OPT_BOOL ? optional_argument : required_argument, NULL, (int)i};
  lo[NOPTS] = (struct option){"help", no_argument, NULL, 'h'};
  lo[NOPTS + 1] = (struct option){NULL, 0, NULL, 0};
  optind = 1;
  int c;
  while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
    if (c == 'h') {
      wh_config_usage(stdout);
      exit(0);
    }
    if (c < 0 || (size_t)c >= NOPTS) {
      wh_config_usage(stderr);
      return -EINVAL;
    }
    const struct opt *o = &opts[c];
    if (set(cfg, o, o->type == OPT_BOOL && !optarg ? "true" : optarg, "command line") < 0) return -EINVAL;
  }
  if (optind < argc) {
    fprintf(stderr, "flink-webhook: unexpected argument '%s'\n", argv[optind]);
    return -EINVAL;
  }
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

void wh_config_free(struct wh_config *cfg) {
  for (size_t i = 0; i < NOPTS; i++)
    if (opts[i].type == OPT_STR) {
      char **p = (char **)((char *)cfg + opts[i].offset);
      free(*p);
      *p = NULL;
    }
}

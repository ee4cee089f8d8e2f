/* controller.h - the controller process: options, shared state, and the modules' entry points.
 *
 * Threads: one informer thread per watched resource and namespace; `workers` reconcile threads
 * (each with its own Kubernetes client); the leader-election thread; libmicrohttpd's thread for
 * /healthz, /readyz, /metrics and /debug/cache; the main thread waits for a signal. A key is never
 * reconciled by two workers at once (the queue guarantees it) and no worker writes unless this
 * process holds the lease (leader_valid()). */
#ifndef FLINKOP_CONTROLLER_H
#define FLINKOP_CONTROLLER_H

#include <stdatomic.h>
#include <stdbool.h>

#include "flinkop/kube.h"
#include "informer.h"
#include "queue.h"

struct ctl_config {
  char *kubeconfig;
  char **namespaces; /* NULL = all */
  long workers;
  char *metrics_listen;
  bool leader_elect;
  char *lease_name;
  char *lease_namespace;
  long lease_duration; /* seconds */
  long renew_deadline;
  long retry_period;
  long resync_period;
  char *identity;
  char *config; /* operator default Flink configuration */
  char *flink_url_template; /* {name}, {namespace} */
  bool savepoint_on_deletion;
  char *log_level;
};

#define CTL_MAX_INFORMERS 64

struct ctl {
  struct ctl_config cfg;
  struct fo_kube_config kube;
  struct queue *queue;
  struct informer *fd_informers[CTL_MAX_INFORMERS]; /* FlinkDeployments, one per namespace */
  size_t n_fd;
  struct informer *owned_informers[CTL_MAX_INFORMERS]; /* JobManager Deployments we created */
  size_t n_owned;
  json_object *default_conf; /* read-only after start; workers deep-copy it */
  atomic_bool stopping;
};

extern struct ctl *g_ctl;

/* leader.c */
int leader_start(struct ctl *c);
/* Stops renewing and releases the lease if held. Call it after the workers have stopped: until
 * then the lease stays ours, so no other replica acts while one of our passes still writes. */
void leader_stop(void);
/* True while this process may act: it holds the lease and renewed it within renew_deadline
 * (always true without --leader-elect). */
bool leader_valid(void);
bool leader_is_leader(void);
/* Called once when leadership is gained (enqueue everything). */
void leader_on_elected(void (*fn)(void));

/* reconcile.c: one pass for `key`. Returns the seconds after which to look again (0 = only on
 * change), or < 0 on error (requeue with backoff). `k` is the worker's own client. */
double reconcile(struct fo_kube *k, const char *key);

/* events.c: records a Kubernetes Event on the object, deduplicated (a repeat bumps count). */
void event_record(struct fo_kube *k, json_object *obj, const char *type, const char *reason, const char *message);

/* httpd.c */
int httpd_start(const char *listen);
void httpd_stop(void);

/* metrics.c */
void ctl_metrics_reconcile(const char *result, double seconds);
void ctl_metrics_api(const char *verb, long code);
void ctl_metrics_write(void);
int ctl_metrics_render(struct fo_buf *out);

/* A write is about to be sent: logs it (identity, verb, object) and counts it. Returns false when
 * this process must not write (not the leader). */
bool ctl_write_allowed(const char *verb, const char *what, const char *key);

#endif

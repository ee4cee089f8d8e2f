/* controller.h - the controller process: its options and its state (struct ctl, owned by main.c
 * and passed to whoever needs it: no module reaches for it), leader election, the HTTP endpoints
 * and the metrics.
 *
 * Threads: one informer thread per watched resource and namespace; `workers` reconcile threads
 * (each with its own Kubernetes client); the leader-election thread; libmicrohttpd's thread for
 * /healthz, /readyz, /metrics and /debug/cache; the main thread waits for a signal. A key is never
 * reconciled by two workers at once (the queue guarantees it) and no worker writes unless this
 * process holds the lease (leader_valid(), checked by the gate on every write). */
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
  char *config;             /* operator default Flink configuration */
  char *flink_url_template; /* {name}, {namespace} */
  bool savepoint_on_deletion;
  char *log_level;
  char *artifacts_dir;
};

#define CTL_MAX_INFORMERS 64

struct ctl {
  struct ctl_config cfg;
  struct fo_kube_config kube;
  struct queue *queue;
  struct retry_policy backoff;                      /* the retry settings the queue was made with */
  struct informer *fd_informers[CTL_MAX_INFORMERS]; /* FlinkDeployments, one per namespace */
  size_t n_fd;
  struct informer *owned_informers[CTL_MAX_INFORMERS]; /* JobManager Deployments we created */
  size_t n_owned;
  struct informer *sj_informers[CTL_MAX_INFORMERS]; /* FlinkSessionJobs, one per namespace */
  size_t n_sj;
  struct informer *snap_informers[CTL_MAX_INFORMERS]; /* FlinkStateSnapshots, one per namespace */
  size_t n_snap;
  json_object *default_conf; /* read-only after start; workers deep-copy it */
  double canary_timeout_s;   /* kubernetes.operator.health.canary.resource.timeout */
  atomic_bool stopping;
};

/* main.c: whether every cache of `c` (FlinkDeployments, their JobManager Deployments, session
 * jobs, snapshots; all namespaces) holds its first full list. When not, *ret_kind (if given) names
 * the first that does not (a static string). */
bool ctl_caches_synced(struct ctl *c, const char **ret_kind);

/* leader.c */
int leader_start(struct ctl *c);
/* Stops renewing and releases the lease if held. Call it after the workers have stopped: until
 * then the lease stays ours, so no other replica acts while one of our passes still writes. */
void leader_stop(void);
/* True while this process may act: it holds the lease and renewed it within renew_deadline
 * (always true without --leader-elect). */
bool leader_valid(void);
bool leader_is_leader(void);
/* Called once when leadership is gained (enqueue everything), with the leader_start ctl. */
void leader_on_elected(void (*fn)(struct ctl *c));

/* httpd.c: /healthz, /readyz, /metrics, /debug/cache for `c` (borrowed until httpd_stop). */
int httpd_start(struct ctl *c, const char *listen);
void httpd_stop(void);

/* metrics.c (process-wide counters, atomics) */
void ctl_metrics_reconcile(const char *result, double seconds);
void ctl_metrics_api(const char *verb, long code);
void ctl_metrics_write(void);
/* A failed pass, by reconcile_failure_class(). */
void ctl_metrics_failure(const char *cls);
int ctl_metrics_render(struct ctl *c, struct fo_buf *out);

#endif

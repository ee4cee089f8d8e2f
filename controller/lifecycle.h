/* lifecycle.h - the job lifecycle of one FlinkDeployment as a state machine: deploy, suspend,
 * restore, upgrade by upgradeMode, savepoints on demand (cleanup on delete is cleanup.h).
 *
 * The status is the source of truth. A pass derives the phase from the status and the cluster
 * (lc_phase_of), performs one step of it, and every change of phase goes through one function
 * that logs "phase A => phase B" with the reason. Before every destructive step the status says
 * what is about to happen (the crash-resume rule; the table in lifecycle.c), so a controller
 * killed between any two writes finishes the transition on its next pass without a second
 * savepoint or a start from empty state.
 * Threading: the pass's (one worker). */
#ifndef FLINKOP_CONTROLLER_LIFECYCLE_H
#define FLINKOP_CONTROLLER_LIFECYCLE_H

#include <stdbool.h>
#include <stdint.h>

#include <stddef.h>

#include "pass.h"

enum lc_phase {
  LC_NEW,            /* nothing recorded yet */
  LC_SUSPENDED,      /* recorded suspended, no cluster */
  LC_RUNNING,        /* deployed: the JobManager and the job are observed */
  LC_SAVEPOINT,      /* a manual savepoint in flight: nothing else starts meanwhile */
  LC_STOP_SAVEPOINT, /* a transition, savepoint mode: the stop-with-savepoint (needs a running job)
                      */
  LC_STOP_CLUSTER,   /* a transition: the old cluster goes (with its HA data but in last-state) */
  LC_STOPPED,        /* a transition to suspended: no cluster left, the suspend is recorded */
  LC_START,   /* a transition to running: the job id and the restore point are recorded, then the
                 cluster is applied */
  LC_STARTED, /* our cluster runs the spec in hand: it is recorded as deployed */
  LC_PHASE_COUNT
};

/* "NEW", "SUSPENDED", ... */
const char *lc_phase_name(enum lc_phase p);

/* What the cluster looks like, as far as the phase depends on it. */
struct lc_cluster {
  bool jm_deployment;     /* the JobManager Deployment exists */
  bool jm_deleting;       /* and is being deleted (its pods are stopping) */
  bool jm_generation_set; /* it carries the generation annotation: the spec generation it runs */
  int64_t jm_generation;
  bool jm_rollback;      /* it runs the last stable spec (a rollback's cluster) */
  int64_t jm_transition; /* the transition that made it (its annotation; 0: none, an older one) */
  char jm_job_id[33];    /* the job id it runs, as its annotation says ("": not said) */
  bool left; /* with no JobManager Deployment, something of a cluster is left: a standalone
              * TaskManager Deployment, or pods still stopping */
};

/* `cl` as a JobManager Deployment (borrowed) says it: the Deployment's part of lc_cluster. */
void lc_cluster_of(json_object *dep, struct lc_cluster *cl);

/* The phase of `p` (loaded) given its cluster: a pure function of the status, the spec and `cl`. */
enum lc_phase lc_phase_of(const struct pass *p, const struct lc_cluster *cl);

/* One step for a FlinkDeployment with a job, our finalizer and a valid spec. Returns 0 or a
 * negative errno; *ret_again is the seconds until the next look (0: only a change wakes it). */
int lifecycle_reconcile(struct pass *p, double *ret_again);

struct fo_flink;

/* ---- shared by the lifecycle's files (lifecycle.c, observe.c, cleanup.c) ---- */

#define LC_POLL 1.0   /* seconds between looks while something is in flight */
#define LC_STEADY 5.0 /* seconds between observations of a running job */
/* seconds between looks at a JobManager Deployment being deleted (its watch event wakes the pass)
 */
#define LC_GOING_BACKSTOP 5.0
#define LC_UPGRADE_ERROR "org.apache.flink.kubernetes.operator.exception.UpgradeFailureException"

/* A pass's step: the phase it is in (then moved to) and when to look again. */
struct lc_step {
  enum lc_phase phase;
  double again;
  const char *mode; /* the mode of a transition this step began (NULL: the recorded one) */
};
/* The one way a phase changes: logs "phase" with from, to, the reason and the mode. */
void lc_go(const struct pass *p, struct lc_step *s, enum lc_phase to, const char *reason);
bool lc_is(const char *a, const char *b); /* both set and equal */
/* The length of s's first line, at most max: how much of Flink's failure text (a stack trace,
 * often) a message quotes. */
int lc_first_line(const char *s, int max);

/* observe.c: a deployed cluster observed (JobManager readiness and pod failures, the job's state,
 * the manual savepoint), and the status written. */
int lc_observe(struct pass *p, struct fo_flink *f, struct lc_step *s);
/* The job's state from Flink into `state` (its name and start time into the status), or NULL
 * when the JobManager cannot say; *ret_rest (may be NULL) is then the REST call's error (0: it
 * answered, without this job). */
const char *lc_observe_job(struct pass *p, struct fo_flink *f, char *state, size_t n,
                           int *ret_rest);

/* The JobManager Deployment became available since it was made: it is now, or its rollout
 * completed (condition Progressing, reason NewReplicaSetAvailable, which the deployment controller
 * keeps once set). A JobManager that ran and then stopped answering (hung, crash-looping) is not
 * one that never started. False when there is no Deployment; true when it cannot be read (it
 * may have run). */
bool lc_jm_was_available(struct pass *p);

/* A periodic snapshot is due: the interval at `key` of the configuration (a Duration; unset or 0:
 * never) has passed since `last` (the last periodic trigger), or since the resource was made, as
 * the reference counts it; or, the value a Quartz cron schedule (cron.h), it fired since then. */
bool lc_periodic_due(struct pass *p, const char *key, struct fo_opt_int last);
/* Records `nonce` as handled: job.<field> in lastReconciledSpec takes its value (the spec's
 * other fields as they were recorded). */
void lc_record_nonce(struct pass *p, const char *field, struct fo_opt_int nonce);

/* The restart of a running job the health check found unhealthy: from its HA data (last-state)
 * or, in stateless mode, empty; a RestartUnhealthyJob Warning saying `why`, the health record
 * dropped, a transition begun. 0 when begun, 1 when nothing could bring the job back (it is left
 * running, logged), or a negative errno. */
int lc_restart_unhealthy(struct pass *p, struct lc_step *s, const char *why);

/* The JobManager Deployment as the owned-objects cache holds it (a new object, the caller's), NULL
 * when the cache has none or there is no cache. It may lag the API server. */
json_object *lc_cached_jm(const struct pass *p);

/* Helpers the cleanup shares. */
struct fo_flink *lc_flink(const struct pass *p);
/* Deletes what is left of the cluster (its JobManager and TaskManager Deployments, in the
 * foreground, unless already being deleted); *ret_left says whether anything of it (a Deployment,
 * deleted or not, or a pod) is still there. 0 or a negative errno. */
int lc_delete_cluster(struct pass *p, bool *ret_left);
/* Deletes the cluster's Kubernetes HA ConfigMaps. */
int lc_delete_ha(struct pass *p);
/* Deletes what the FlinkDeployment owns besides its Deployments (its ConfigMap, Services, Ingress)
 * and any TaskManager pod left, by name rather than through the garbage collector, so a delete
 * never waits on (or is lost by) the collector. Objects it does not own are left. 0 or a negative
 * errno. */
int lc_delete_owned(struct pass *p);
/* The cluster's objects of `res` with the label `label` ("key=value") too: a new array, or NULL
 * when the list fails. */
json_object *lc_labelled(struct pass *p, const struct fo_kube_resource *res, const char *label);

#endif

/* pass.h - one reconcile pass over one FlinkDeployment: the object read once, and the one rule
 * for writing its status back.
 *
 * The two document models: `obj` is json-c (the informer's copy, handed to the pass; the
 * Kubernetes client reads and writes json-c). The pass reads it once into arena documents
 * (`doc` the whole object, the spec inside it, and the decoded lastReconciledSpec `last`) that
 * the rulebook and the model read without building trees, and decodes the status once into
 * `st`, the typed status this pass changes and writes.
 *
 * Ownership: a pass owns what it loads (pass_unload frees it), and `obj` (the caller hands it
 * over; pass_unload puts it). Borrowed: `env` and the client, which outlive the pass.
 * Threading: one pass, one worker thread. */
#ifndef FLINKOP_CONTROLLER_PASS_H
#define FLINKOP_CONTROLLER_PASS_H

#include <stdbool.h>
#include <stdint.h>

#include "flinkop/arena.h"
#include "flinkop/http.h"
#include "flinkop/json.h"
#include "flinkop/jv.h"
#include "flinkop/kube.h"
#include "flinkop/model.h"
#include "flinkop/status.h"
#include "retry.h"

/* What a pass needs from the process, passed in rather than reached for. */
struct pass_env {
  const char *flink_url_template; /* {name}, {namespace} */
  bool savepoint_on_deletion;
  json_object
      *default_conf; /* the operator's default Flink configuration, read-only, may be NULL */
  /* The JobManager Deployment ns/name from a cache, a new reference or NULL (then the pass reads
   * it from the API server). May be NULL. */
  json_object *(*cached_deployment)(void *ud, const char *key);
  /* A FlinkDeployment ns/name from the cache (a session job's cluster), a new reference or NULL
   * (then the pass reads it from the API server). May be NULL. */
  json_object *(*cached_flinkdeployment)(void *ud, const char *key);
  /* A FlinkStateSnapshot ns/name from the cache, a new reference or NULL. May be NULL. */
  json_object *(*cached_snapshot)(void *ud, const char *key);
  void *cache_ud;
  /* Where session jobs' jars are fetched to before their upload (NULL: the system's temporary
   * directory). */
  const char *artifacts_dir;
  /* Replaces HTTP to the JobManagers (unit tests); NULL for the network. */
  fo_http_transport_fn flink_transport;
  void *flink_transport_ud;
  const struct retry_policy *retry; /* how a step that cannot go on is retried (NULL: defaults) */
};

struct pass {
  const struct pass_env *env;
  struct fo_kube *k;
  json_object *obj;                  /* owned */
  const char *key, *ns, *name, *uid; /* borrowed from obj / the caller */
  int64_t gen;
  struct fo_arena arena;   /* doc, spec and last live here */
  const struct fo_jv *doc; /* the whole object */
  json_object *spec_json;  /* borrowed from obj: the builders copy from it */
  struct fo_spec spec;
  json_object *default_conf; /* this pass's copy of env->default_conf (json-c is not shared) */
  json_object *conf;         /* the effective Flink configuration (owned) */
  struct fo_status st;       /* what this pass will write */
  json_object *last_json;    /* decoded lastReconciledSpec (owned), NULL when none */
  struct fo_spec last;
  const char *recorded_state; /* job.state in st's lastReconciledSpec (kept current by whoever
                                 records one) */
  bool first_deployment;
  /* The first failure to build something (0: none): everything built after one is suspect, so
   * nothing more is written in this pass; it fails and is retried. */
  int oom;
};

/* Loads the pass for `obj` (taken). Returns 0, or -ENOMEM / -EINVAL (not an object); after a
 * failure pass_unload still frees what was loaded. */
int pass_load(struct pass *p, const struct pass_env *env, struct fo_kube *k, json_object *obj,
              const char *key);
void pass_unload(struct pass *p);

/* Records an allocation failure (the first is kept). */
void pass_nomem(struct pass *p);
/* Sets a status string field (copying; NULL clears), recording a failure. */
void pass_set(struct pass *p, char **field, const char *v);
/* status.error as the reference writes it: {"type": <exception class>, "message": msg,
 * "additionalMetadata": {}, "throwableList": []}; NULL clears it. */
void pass_set_error(struct pass *p, const char *type, const char *msg);
/* The same for a step that will be tried again: additionalMetadata says the attempt (1 when the
 * error before was another, else one more than its attempt) and the next one's time, `retry`'s
 * delay away (NULL: retry_default). Returns the delay in seconds. */
double pass_set_error_retry(struct pass *p, const char *type, const char *msg,
                            const struct retry_policy *retry);

/* Whether status.error's message is `msg` (so a repeat is not announced again). */
bool pass_error_is(const struct pass *p, const char *msg);

/* Sets jobStatus.state (and updateTime when it changes). */
void pass_set_job_state(struct pass *p, const char *state);
/* What follows from the rest of the status, before it is written: observedGeneration present,
 * the Running condition (True iff the job runs, reason the job state in CamelCase,
 * lastTransitionTime kept while its status stays), lifecycleState. */
void pass_finish(struct pass *p);

/* Writes this pass's changes to the status (the difference between the status it read and `st`),
 * laid over the newest status known (what the object held, then what this pass wrote or read
 * again), through the status subresource with the resourceVersion as precondition, when that
 * changes anything. On a conflict the status is read again and the changes laid over it, up to 5
 * times: another writer's fields are never lost. The object then carries the written status and
 * its new resourceVersion, so a second write in the same pass follows the first. Nothing is
 * written after an allocation failure. Returns 0 or a negative errno. */
int pass_write_status(struct pass *p);

#endif

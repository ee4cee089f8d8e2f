/* model.h - the FlinkDeployment resource (flink.apache.org/v1beta1) as typed views over a JSON
 * document (jv.h).
 *
 * The document stays the source of truth, so fields this model does not know are kept: views
 * only borrow from it (every `const char *` and `const struct fo_jv *` here points into the
 * document's arena and lives as long as it). A json-c tree is read through fo_jv_from_json. Reading
 * never fails on a wrong type: it records a finding (with the field path) and leaves the field
 * unset, so one pass reports every problem. Thread-safe: no shared state.
 */
#ifndef FLINKOP_MODEL_H
#define FLINKOP_MODEL_H

#include <stdbool.h>
#include <stdint.h>

#include "flinkop/findings.h"
#include "flinkop/json.h"
#include "flinkop/jv.h"

#define FO_API_GROUP "flink.apache.org"
#define FO_API_VERSION "flink.apache.org/v1beta1"
#define FO_KIND "FlinkDeployment"
#define FO_KIND_SESSION_JOB "FlinkSessionJob"
#define FO_KIND_SNAPSHOT "FlinkStateSnapshot"
#define FO_TARGET_SESSION_LABEL "target.session" /* a FlinkSessionJob's session cluster */
#define FO_MANAGED_BY_LABEL "app.kubernetes.io/managed-by"
#define FO_MANAGED_BY_VALUE "flink-operator"

struct fo_opt_int {
  bool set;
  int64_t v;
};

struct fo_resource {
  bool cpu_set;
  double cpu;
  const char *memory;
  const char *ephemeral_storage;
};

struct fo_component {
  bool present;
  struct fo_resource resource;
  const struct fo_jv *resources; /* Kubernetes ResourceRequirements (requests, limits), or NULL */
  struct fo_opt_int replicas;
  const struct fo_jv *pod_template;
};

struct fo_job {
  bool present;
  const char *jar_uri;
  const char *entry_class;
  const struct fo_jv *args; /* array of strings */
  const char *state;        /* NULL = default running */
  const char *upgrade_mode; /* NULL = default stateless */
  const char *initial_savepoint_path;
  struct fo_opt_int parallelism;
  struct fo_opt_int savepoint_trigger_nonce;
  struct fo_opt_int checkpoint_trigger_nonce;
  struct fo_opt_int savepoint_redeploy_nonce;
  bool allow_non_restored_state_set;
  bool allow_non_restored_state;
};

struct fo_spec {
  const char *image;
  const char *image_pull_policy;
  const char *service_account;
  const char *flink_version;
  const char *mode; /* NULL = default native */
  const struct fo_jv *flink_configuration;
  const struct fo_jv *ingress;
  const struct fo_jv *pod_template;
  const struct fo_jv *log_configuration;
  struct fo_component job_manager;
  struct fo_component task_manager;
  struct fo_opt_int restart_nonce;
  struct fo_job job;
  const char *deployment_name; /* a FlinkSessionJob's session cluster */
};

struct fo_deployment {
  const struct fo_jv *root;
  const char *api_version;
  const char *kind;
  const char *name;
  const char *namespace_;
  const struct fo_jv *metadata;
  const struct fo_jv *spec_json;
  const struct fo_jv *status_json;
  struct fo_spec spec;
};

/* Allowed values of the enumerations, NULL-terminated. */
extern const char *const fo_flink_versions[];
extern const char *const fo_job_states[];
extern const char *const fo_upgrade_modes[];
extern const char *const fo_modes[];
extern const char *const fo_pull_policies[];
extern const char *const fo_jm_deployment_statuses[];
extern const char *const fo_lifecycle_states[];
extern const char *const fo_reconciliation_states[];

bool fo_enum_contains(const char *const *values, const char *s);

/* Reads `spec_json` (may be NULL: an empty spec) into `out`. Type errors go to `errs` (may be
 * NULL) under `path_prefix` (e.g. "spec"). Returns 0, or -ENOMEM. */
int fo_spec_read(const struct fo_jv *spec_json, struct fo_spec *out, struct fo_findings *errs,
                 const char *path_prefix);

/* Reads a whole object. Returns 0 (type errors in `errs`), -EINVAL when `root` is not a JSON
 * object, -ENOMEM. */
int fo_deployment_read(const struct fo_jv *root, struct fo_deployment *out,
                       struct fo_findings *errs);

/* True when apiVersion and kind name a FlinkDeployment of our API group (any version). */
bool fo_flinkdeployment_type(const char *api_version, const char *kind);
/* The same for a FlinkSessionJob (a job in a session cluster: spec.deploymentName, spec.job,
 * spec.flinkConfiguration, spec.restartNonce, read by fo_deployment_read as a FlinkDeployment's
 * are). */
bool fo_flinksessionjob_type(const char *api_version, const char *kind);
/* The same for a FlinkStateSnapshot (a savepoint or checkpoint of a job, or one that exists). */
bool fo_flinkstatesnapshot_type(const char *api_version, const char *kind);
bool fo_is_flinkdeployment(json_object *root);

/* A canary resource: the label FO_CANARY_LABEL is "true" (any case). The reference operator's
 * health probe: always admitted as it is, never deployed; the controller only notes that it saw
 * each of its generations (controller/canary.h). */
#define FO_CANARY_LABEL "flink.apache.org/canary"
bool fo_canary_label(const char *value);
bool fo_is_canary(json_object *root);
bool fo_jv_is_canary(const struct fo_jv *root);

/* Effective values with defaults applied. */
static inline const char *fo_job_state(const struct fo_job *j) {
  return j->state ? j->state : "running";
}
static inline const char *fo_job_upgrade_mode(const struct fo_job *j) {
  return j->upgrade_mode ? j->upgrade_mode : "stateless";
}
static inline const char *fo_spec_mode(const struct fo_spec *s) {
  return s->mode ? s->mode : "native";
}
static inline int64_t fo_jm_replicas(const struct fo_spec *s) {
  return s->job_manager.replicas.set ? s->job_manager.replicas.v : 1;
}
/* The minor version of a Flink 1 flinkVersion (v1_14: 14); 1000 for Flink 2, a version not known,
 * or none: what a feature that came with a Flink 1 release asks. */
long fo_flink1_minor(const char *flink_version);

#endif

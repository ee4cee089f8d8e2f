/* cluster.h - the Kubernetes objects a FlinkDeployment's Flink cluster is made of, as pure
 * functions of the spec: the ConfigMap `flink-config-<name>` with the Flink configuration, the
 * JobManager's Services (`<name>-rest` and the headless `<name>`), the JobManager Deployment
 * `<name>`, in standalone mode the TaskManager Deployment `<name>-taskmanager`, and with
 * spec.ingress the Ingress `<name>` (networking.k8s.io/v1) to the REST Service, unless
 * kubernetes.operator.ingress.manage is false (cluster_ingress_wanted). Nothing here
 * talks to a server; the golden cases in tests/cases/cluster pin what is built.
 *
 * Every object carries the labels app=<name>, type, component (where one applies) and
 * app.kubernetes.io/managed-by, and an ownerReference to the FlinkDeployment (so the API server
 * deletes it with its owner). The pod templates are the user's (the component's podTemplate merged
 * over spec.podTemplate as the reference operator merges them, podmerge.h) with the operator's
 * settings on flink-main-container; container arguments are an array: nothing reaches a shell.
 *
 * Ownership: inputs are borrowed; built objects belong to the caller (cluster_objects_free).
 * Thread-safe: no shared state. */
#ifndef FLINKOP_CONTROLLER_CLUSTER_H
#define FLINKOP_CONTROLLER_CLUSTER_H

#include <stdbool.h>
#include <stdint.h>

#include "flinkop/json.h"
#include "flinkop/kube.h"
#include "flinkop/model.h"

/* The annotation on the JobManager Deployment: the spec generation it was built for. */
#define CLUSTER_GEN_ANNOTATION "flinkdeployment.flink.apache.org/generation"
/* "true" on a JobManager Deployment that runs the last stable spec after a rollback */
#define CLUSTER_ROLLBACK_ANNOTATION "flinkdeployment.flink.apache.org/rollback"
/* The transition that made the Deployment (the epoch ms it began, as the status records it in
 * reconciliationStatus.reconciliationTimestamp), and the job id it runs: with them, the status
 * need not be written between the old cluster's going and the new one's making. */
#define CLUSTER_TRANSITION_ANNOTATION "flinkdeployment.flink.apache.org/transition"
#define CLUSTER_JOB_ID_ANNOTATION "flinkdeployment.flink.apache.org/job-id"

struct cluster_input {
  const char *name, *ns, *uid; /* the FlinkDeployment's */
  int64_t generation;
  json_object *spec_json; /* the spec: templates, args and log configuration are copied from it */
  const struct fo_spec *spec;
  json_object *conf;        /* the effective Flink configuration (flat) */
  const char *job_id;       /* $internal.pipeline.job-id */
  const char *restore_path; /* execution.savepoint.path, or NULL */
  bool rollback;            /* the spec is the last stable one, rolled back to */
  int64_t transition; /* > 0: the Deployments carry it and the job id (the annotations above) */
};

/* Flink's default ports, which the cluster's configuration can change (rest.port,
 * jobmanager.rpc.port, blob.server.port, taskmanager.rpc.port: one port each, the rulebook says) */
#define CLUSTER_REST_PORT 8081
#define CLUSTER_RPC_PORT 6123
#define CLUSTER_BLOB_PORT 6124
#define CLUSTER_TM_RPC_PORT 6122

#define CLUSTER_MAX_OBJECTS 6
struct cluster_objects {
  size_t n;
  const struct fo_kube_resource *res[CLUSTER_MAX_OBJECTS];
  json_object *obj[CLUSTER_MAX_OBJECTS]; /* in the order they are applied */
};

/* Builds every object of the cluster. Returns 0, or -ENOMEM, or -E2BIG (a pod template nested
 * beyond the depth limit), or -EINVAL (an ingress template the rulebook refuses); then *ret holds
 * nothing. */
int cluster_build(const struct cluster_input *in, struct cluster_objects *ret);
void cluster_objects_free(struct cluster_objects *o);

/* The Ingress management setting: false when kubernetes.operator.ingress.manage in `conf`
 * (borrowed, flat) is "false" (any case); true otherwise, as in the reference. */
bool cluster_ingress_managed(json_object *conf);

/* The configuration the JobManager starts with: the effective configuration plus what the
 * operator sets (cluster id, namespace, HA cluster id, target, image, service account, jars,
 * parallelism, memory, CPU, job id, restore path). A new object, NULL on ENOMEM. */
json_object *cluster_flink_conf(const struct cluster_input *in);

/* The TaskManagers a spec asks for: taskManager.replicas, else as many as the job's parallelism
 * needs with taskmanager.numberOfTaskSlots of `conf` (borrowed, may be NULL: 1) each, at least one
 * (the reference operator's rule; the standalone TaskManager Deployment's replicas, the scale
 * subresource's status). */
int64_t cluster_tm_count(const struct fo_spec *s, json_object *conf);
/* The job's parallelism: taskManager.replicas times the slots when replicas are given (they win,
 * as in the reference), else job.parallelism; 0 when neither is. */
int64_t cluster_parallelism(const struct fo_spec *s, json_object *conf);

/* "<name><suffix>" (malloc'd), NULL on ENOMEM: the names of a cluster's objects. */
char *cluster_object_name(const char *name, const char *suffix);

#endif

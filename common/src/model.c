#include "flinkop/model.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "flinkop/buf.h"

const char *const fo_flink_versions[] = {"v1_13", "v1_14", "v1_15", "v1_16", "v1_17", "v1_18",
                                         "v1_19", "v1_20", "v2_0",  "v2_1",  "v2_2",  NULL};
const char *const fo_job_states[] = {"running", "suspended", NULL};
const char *const fo_upgrade_modes[] = {"stateless", "savepoint", "last-state", NULL};
const char *const fo_modes[] = {"native", "standalone", NULL};
const char *const fo_pull_policies[] = {"Always", "IfNotPresent", "Never", NULL};
const char *const fo_jm_deployment_statuses[] = {
    "READY", "DEPLOYED_NOT_READY", "DEPLOYING", "MISSING", "ERROR", NULL};
const char *const fo_lifecycle_states[] = {"CREATED",  "SUSPENDED",    "UPGRADING",   "DEPLOYED",
                                           "STABLE",   "ROLLING_BACK", "ROLLED_BACK", "FAILED",
                                           "DELETING", "DELETED",      NULL};
const char *const fo_reconciliation_states[] = {"DEPLOYED", "UPGRADING", "ROLLING_BACK",
                                                "ROLLED_BACK", NULL};

bool fo_enum_contains(const char *const *values, const char *s) {
  if (!s) return false;
  for (; *values; values++)
    if (strcmp(*values, s) == 0) return true;
  return false;
}

/* Reader context: the current path and where type errors go. */
struct rd {
  struct fo_findings *errs;
  struct fo_buf path;
  int rc;
};

static void rd_push(struct rd *r, const char *key, size_t *mark) {
  *mark = r->path.len;
  if ((r->path.len && fo_buf_putc(&r->path, '.') < 0) || fo_buf_puts(&r->path, key) < 0)
    r->rc = -ENOMEM;
}

static void rd_pop(struct rd *r, size_t mark) {
  r->path.len = mark;
  if (r->path.data) r->path.data[mark] = '\0';
}

static void rd_type_error(struct rd *r, const char *key, const char *what) {
  size_t m;
  rd_push(r, key, &m);
  if (r->errs && r->rc == 0 &&
      fo_findings_add(r->errs, r->path.data, "%s must be %s", r->path.data, what) < 0)
    r->rc = -ENOMEM;
  rd_pop(r, m);
}

/* Present and not null. */
static const struct fo_jv *rd_get(const struct fo_jv *o, const char *key) {
  return fo_jv_get(o, key);
}

static const char *rd_string(struct rd *r, const struct fo_jv *o, const char *key) {
  const struct fo_jv *v = rd_get(o, key);
  if (!v) return NULL;
  if (v->type != FO_JSTRING) {
    rd_type_error(r, key, "a string");
    return NULL;
  }
  return v->u.s;
}

static const struct fo_jv *rd_typed(struct rd *r, const struct fo_jv *o, const char *key,
                                    enum fo_jt t, const char *what) {
  const struct fo_jv *v = rd_get(o, key);
  if (!v) return NULL;
  if (v->type != t) {
    rd_type_error(r, key, what);
    return NULL;
  }
  return v;
}

static struct fo_opt_int rd_int(struct rd *r, const struct fo_jv *o, const char *key, int64_t min,
                                int64_t max) {
  struct fo_opt_int res = {false, 0};
  const struct fo_jv *v = rd_get(o, key);
  if (!v) return res;
  int64_t x;
  if (!fo_jv_as_int64(v, &x)) {
    rd_type_error(r, key, "an integer");
    return res;
  }
  if (x < min || x > max) {
    rd_type_error(r, key, "an integer in range");
    return res;
  }
  res.set = true;
  res.v = x;
  return res;
}

static void rd_resource(struct rd *r, const struct fo_jv *o, struct fo_resource *res) {
  const struct fo_jv *v = rd_get(o, "cpu");
  if (v) {
    if (v->type == FO_JINT || v->type == FO_JDOUBLE) {
      res->cpu_set = true;
      res->cpu = fo_jv_number(v);
    } else {
      rd_type_error(r, "cpu", "a number");
    }
  }
  res->memory = rd_string(r, o, "memory");
  res->ephemeral_storage = rd_string(r, o, "ephemeralStorage");
}

static void rd_component(struct rd *r, const struct fo_jv *spec, const char *key,
                         struct fo_component *c) {
  const struct fo_jv *o = rd_typed(r, spec, key, FO_JOBJECT, "an object");
  if (!o) return;
  c->present = true;
  size_t m;
  rd_push(r, key, &m);
  const struct fo_jv *res = rd_typed(r, o, "resource", FO_JOBJECT, "an object");
  if (res) {
    size_t m2;
    rd_push(r, "resource", &m2);
    rd_resource(r, res, &c->resource);
    rd_pop(r, m2);
  }
  c->resources = rd_typed(r, o, "resources", FO_JOBJECT, "an object");
  c->replicas = rd_int(r, o, "replicas", INT32_MIN, INT32_MAX);
  c->pod_template = rd_typed(r, o, "podTemplate", FO_JOBJECT, "an object");
  rd_pop(r, m);
}

static void rd_job(struct rd *r, const struct fo_jv *spec, struct fo_job *j) {
  const struct fo_jv *o = rd_typed(r, spec, "job", FO_JOBJECT, "an object");
  if (!o) return;
  j->present = true;
  size_t m;
  rd_push(r, "job", &m);
  j->jar_uri = rd_string(r, o, "jarURI");
  j->entry_class = rd_string(r, o, "entryClass");
  j->args = rd_typed(r, o, "args", FO_JARRAY, "an array of strings");
  for (uint32_t i = 0; j->args && i < j->args->n; i++) {
    if (j->args->u.items[i].type != FO_JSTRING) {
      rd_type_error(r, "args", "an array of strings");
      j->args = NULL;
    }
  }
  j->state = rd_string(r, o, "state");
  j->upgrade_mode = rd_string(r, o, "upgradeMode");
  j->initial_savepoint_path = rd_string(r, o, "initialSavepointPath");
  j->parallelism = rd_int(r, o, "parallelism", INT32_MIN, INT32_MAX);
  j->savepoint_trigger_nonce = rd_int(r, o, "savepointTriggerNonce", INT64_MIN, INT64_MAX);
  j->checkpoint_trigger_nonce = rd_int(r, o, "checkpointTriggerNonce", INT64_MIN, INT64_MAX);
  j->savepoint_redeploy_nonce = rd_int(r, o, "savepointRedeployNonce", INT64_MIN, INT64_MAX);
  const struct fo_jv *b = rd_typed(r, o, "allowNonRestoredState", FO_JBOOL, "a boolean");
  if (b) {
    j->allow_non_restored_state_set = true;
    j->allow_non_restored_state = b->u.b;
  }
  rd_pop(r, m);
}

int fo_spec_read(const struct fo_jv *spec_json, struct fo_spec *out, struct fo_findings *errs,
                 const char *path_prefix) {
  memset(out, 0, sizeof *out);
  if (!spec_json) return 0;
  struct rd r = {.errs = errs};
  fo_buf_init(&r.path, 4096);
  if (fo_buf_puts(&r.path, path_prefix ? path_prefix : "") < 0) r.rc = -ENOMEM;
  out->image = rd_string(&r, spec_json, "image");
  out->image_pull_policy = rd_string(&r, spec_json, "imagePullPolicy");
  out->service_account = rd_string(&r, spec_json, "serviceAccount");
  out->flink_version = rd_string(&r, spec_json, "flinkVersion");
  out->mode = rd_string(&r, spec_json, "mode");
  out->flink_configuration = rd_typed(&r, spec_json, "flinkConfiguration", FO_JOBJECT, "an object");
  out->ingress = rd_typed(&r, spec_json, "ingress", FO_JOBJECT, "an object");
  out->pod_template = rd_typed(&r, spec_json, "podTemplate", FO_JOBJECT, "an object");
  out->log_configuration = rd_typed(&r, spec_json, "logConfiguration", FO_JOBJECT, "an object");
  for (uint32_t i = 0; out->log_configuration && i < out->log_configuration->n; i++) {
    const struct fo_jm *lm = &out->log_configuration->u.members[i];
    if (lm->v.type != FO_JNULL && lm->v.type != FO_JSTRING) {
      size_t m;
      rd_push(&r, "logConfiguration", &m);
      rd_type_error(&r, lm->key, "a string");
      rd_pop(&r, m);
    }
  }
  rd_component(&r, spec_json, "jobManager", &out->job_manager);
  rd_component(&r, spec_json, "taskManager", &out->task_manager);
  out->restart_nonce = rd_int(&r, spec_json, "restartNonce", INT64_MIN, INT64_MAX);
  out->deployment_name = rd_string(&r, spec_json, "deploymentName");
  rd_job(&r, spec_json, &out->job);
  fo_buf_free(&r.path);
  return r.rc;
}

int fo_deployment_read(const struct fo_jv *root, struct fo_deployment *out,
                       struct fo_findings *errs) {
  memset(out, 0, sizeof *out);
  if (!root || root->type != FO_JOBJECT) return -EINVAL;
  out->root = root;
  out->api_version = fo_jv_get_string(root, "apiVersion");
  out->kind = fo_jv_get_string(root, "kind");
  out->metadata = fo_jv_get_object(root, "metadata");
  out->name = fo_jv_get_string(out->metadata, "name");
  out->namespace_ = fo_jv_get_string(out->metadata, "namespace");
  out->status_json = fo_jv_get_object(root, "status");
  const struct fo_jv *spec = fo_jv_get(root, "spec");
  if (spec && spec->type != FO_JOBJECT) {
    if (errs && fo_findings_add(errs, "spec", "spec must be an object") < 0) return -ENOMEM;
    spec = NULL;
  }
  out->spec_json = spec;
  return fo_spec_read(spec, &out->spec, errs, "spec");
}

static bool our_group(const char *api_version) {
  size_t g = strlen(FO_API_GROUP);
  return api_version && strncmp(api_version, FO_API_GROUP, g) == 0 && api_version[g] == '/';
}

bool fo_flinkdeployment_type(const char *api_version, const char *kind) {
  return kind && strcmp(kind, FO_KIND) == 0 && our_group(api_version);
}

bool fo_flinksessionjob_type(const char *api_version, const char *kind) {
  return kind && strcmp(kind, FO_KIND_SESSION_JOB) == 0 && our_group(api_version);
}

bool fo_flinkstatesnapshot_type(const char *api_version, const char *kind) {
  return kind && strcmp(kind, FO_KIND_SNAPSHOT) == 0 && our_group(api_version);
}

bool fo_is_flinkdeployment(json_object *root) {
  return fo_flinkdeployment_type(fo_json_get_string(root, "apiVersion"),
                                 fo_json_get_string(root, "kind"));
}

bool fo_canary_label(const char *value) { return value && strcasecmp(value, "true") == 0; }

bool fo_is_canary(json_object *root) {
  return fo_canary_label(fo_json_get_string(
      fo_json_get_object(fo_json_get_object(root, "metadata"), "labels"), FO_CANARY_LABEL));
}

bool fo_jv_is_canary(const struct fo_jv *root) {
  return fo_canary_label(fo_jv_get_string(
      fo_jv_path(root, "metadata", "labels", (const char *)NULL), FO_CANARY_LABEL));
}

long fo_flink1_minor(const char *v) {
  if (!v || strncmp(v, "v1_", 3)) return 1000;
  char *end;
  long minor = strtol(v + 3, &end, 10);
  return *end ? 1000 : minor;
}

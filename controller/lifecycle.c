#include "lifecycle.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "controller.h"
#include "informer.h"
#include "flinkop/flinkconf.h"
#include "flinkop/flinkrest.h"
#include "flinkop/log.h"
#include "flinkop/model.h"
#include "flinkop/status.h"

#define GEN_ANNOTATION "flinkdeployment.flink.apache.org/generation"
#define POLL 1.0   /* seconds between looks while something is in flight */
#define STEADY 5.0 /* seconds between observations of a running job */

struct lc {
  struct fo_kube *k;
  json_object *obj;
  const char *key, *ns, *name, *uid;
  int64_t gen;
  json_object *spec_json;
  struct fo_spec spec;
  json_object *conf; /* effective Flink configuration (owned) */
  struct fo_status st; /* what this pass will write */
  json_object *last_json; /* decoded lastReconciledSpec (owned) */
  struct fo_spec last;
  struct fo_arena arena; /* what `spec` and `last` read: copies of spec_json and last_json */
  bool first_deployment;
  /* The first allocation failure of this pass (0: none). Everything built or set after one is
   * suspect, so nothing is written while it is set: the pass fails and is retried. */
  int oom;
};

/* Records an allocation failure (the first failure is kept). */
static void nomem(struct lc *c) {
  if (!c->oom) c->oom = -ENOMEM;
}

static void st_set(struct lc *c, char **field, const char *v) {
  if (fo_status_set_str(field, v) < 0) nomem(c);
}

static int64_t now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void new_id(char out[33]) {
  static const char hex[] = "0123456789abcdef";
  FILE *f = fopen("/dev/urandom", "rb");
  unsigned char b[16] = {0};
  if (f) {
    if (fread(b, 1, sizeof b, f) != sizeof b) memset(b, 0, sizeof b);
    fclose(f);
  }
  for (int i = 0; i < 16; i++) {
    out[2 * i] = hex[b[i] >> 4];
    out[2 * i + 1] = hex[b[i] & 15];
  }
  out[32] = '\0';
}

static const char *mode_of(const struct fo_spec *s) { return fo_job_upgrade_mode(&s->job); }

/* ---- status ---- */

static int write_status(struct lc *c) {
  if (c->oom) return c->oom; /* never write a status built after an allocation failed */
  json_object *want = fo_status_to_json(&c->st);
  if (!want) return -ENOMEM;
  json_object *have = fo_json_get_object(c->obj, "status");
  if (have && json_object_equal(want, have)) {
    json_object_put(want);
    return 0;
  }
  if (fo_json_set(c->obj, "status", want, &c->oom) < 0) return c->oom;
  if (!ctl_write_allowed("update", "status", c->key)) return -EPERM;
  json_object *ret = NULL;
  int r = fo_kube_update(c->k, &fo_res_flinkdeployments, c->ns, c->name, "status", c->obj, &ret);
  if (r == 0 && ret) { /* carry the new resourceVersion for a second write in this pass; only the
                          * version is replaced: c->ns, c->name, c->uid borrow from the metadata */
    const char *rv = fo_json_get_string(fo_json_get_object(ret, "metadata"), "resourceVersion");
    if (rv) fo_json_set(fo_json_get_object(c->obj, "metadata"), "resourceVersion", json_object_new_string(rv), &c->oom);
  }
  json_object_put(ret);
  return r;
}

static char *spec_for_record(struct lc *c, const char *job_state, const char *mode) {
  json_object *copy = NULL;
  if (c->spec_json && json_object_deep_copy(c->spec_json, &copy, NULL) != 0) {
    nomem(c);
    return NULL;
  }
  json_object *job = fo_json_get_object(copy, "job");
  if (job) {
    fo_json_set(job, "state", json_object_new_string(job_state), &c->oom);
    fo_json_set(job, "upgradeMode", json_object_new_string(mode), &c->oom);
    /* the nonce is recorded only once its savepoint was handled */
    json_object *last_job = fo_json_get_object(c->last_json, "job");
    json_object *ln = fo_json_get(last_job, "savepointTriggerNonce");
    json_object_object_del(job, "savepointTriggerNonce");
    if (ln) fo_json_set(job, "savepointTriggerNonce", json_object_get(ln), &c->oom);
  }
  char *s = fo_reconciled_spec_encode(copy, c->first_deployment);
  json_object_put(copy);
  if (!s) nomem(c);
  return s;
}

static void set_job_state(struct lc *c, const char *state) {
  struct fo_job_status *j = &c->st.job_status;
  c->st.has_job_status = true;
  if (j->state && state && !strcmp(j->state, state)) return;
  st_set(c, &j->state, state);
  char t[32];
  snprintf(t, sizeof t, "%lld", (long long)now_ms());
  st_set(c, &j->update_time, t);
}

static void set_error(struct lc *c, const char *msg) {
  if (!msg) {
    st_set(c, &c->st.error, NULL);
    return;
  }
  json_object *e = json_object_new_object();
  fo_json_set(e, "type", json_object_new_string("org.apache.flink.kubernetes.operator.exception.UpgradeFailureException"), &c->oom);
  fo_json_set(e, "message", json_object_new_string(msg), &c->oom);
  char *s = fo_json_dumps(e);
  if (!s) nomem(c);
  st_set(c, &c->st.error, s);
  free(s);
  json_object_put(e);
}

/* The single condition "Running", as the reference writes it: True iff the job runs, reason the
 * job state in CamelCase; lastTransitionTime kept while the status stays the same. */
static void set_conditions(struct lc *c) {
  const char *js = c->st.job_status.state;
  if (!js) return;
  char reason[32];
  size_t k = 0;
  bool up = true;
  for (const char *p = js; *p && k + 1 < sizeof reason; p++) {
    if (*p == '_') {
      up = true;
      continue;
    }
    reason[k++] = up ? *p : (char)(*p >= 'A' && *p <= 'Z' ? *p + 32 : *p);
    up = false;
  }
  reason[k] = '\0';
  const char *status = strcmp(js, "RUNNING") ? "False" : "True";
  json_object *old = c->st.conditions ? json_object_array_get_idx(c->st.conditions, 0) : NULL;
  const char *old_status = fo_json_get_string(old, "status"), *old_time = fo_json_get_string(old, "lastTransitionTime");
  char now[32];
  time_t t = time(NULL);
  struct tm tm;
  gmtime_r(&t, &tm);
  strftime(now, sizeof now, "%Y-%m-%dT%H:%M:%SZ", &tm);
  json_object *cond = json_object_new_object();
  char msg[64];
  snprintf(msg, sizeof msg, "Job status %s", js);
  fo_json_set(cond, "type", json_object_new_string("Running"), &c->oom);
  fo_json_set(cond, "status", json_object_new_string(status), &c->oom);
  fo_json_set(cond, "reason", json_object_new_string(reason), &c->oom);
  fo_json_set(cond, "message", json_object_new_string(msg), &c->oom);
  fo_json_set(cond, "lastTransitionTime",
                         json_object_new_string(old_status && old_time && !strcmp(old_status, status) ? old_time : now), &c->oom);
  json_object *arr = json_object_new_array();
  fo_json_push(arr, cond, &c->oom);
  json_object_put(c->st.conditions);
  c->st.conditions = arr;
}

static void finish_status(struct lc *c) {
  c->st.observed_generation.set = true;
  set_conditions(c);
  st_set(c, &c->st.lifecycle_state, fo_status_lifecycle(&c->st));
}

/* ---- Kubernetes objects ---- */

static json_object *owner_refs(struct lc *c) {
  json_object *a = json_object_new_array(), *o = json_object_new_object();
  fo_json_set(o, "apiVersion", json_object_new_string(FO_API_VERSION), &c->oom);
  fo_json_set(o, "kind", json_object_new_string(FO_KIND), &c->oom);
  fo_json_set(o, "name", json_object_new_string(c->name), &c->oom);
  fo_json_set(o, "uid", json_object_new_string(c->uid ? c->uid : ""), &c->oom);
  fo_json_set(o, "controller", json_object_new_boolean(1), &c->oom);
  fo_json_set(o, "blockOwnerDeletion", json_object_new_boolean(1), &c->oom);
  fo_json_push(a, o, &c->oom);
  return a;
}

static json_object *labels(struct lc *c, const char *component) {
  json_object *l = json_object_new_object();
  fo_json_set(l, "app", json_object_new_string(c->name), &c->oom);
  fo_json_set(l, "type", json_object_new_string(strcmp(fo_spec_mode(&c->spec), "standalone") ? "flink-native-kubernetes" : "flink-standalone-kubernetes"), &c->oom);
  if (component) fo_json_set(l, "component", json_object_new_string(component), &c->oom);
  fo_json_set(l, FO_MANAGED_BY_LABEL, json_object_new_string(FO_MANAGED_BY_VALUE), &c->oom);
  return l;
}

static json_object *meta(struct lc *c, const char *name, const char *component) {
  json_object *m = json_object_new_object();
  fo_json_set(m, "name", json_object_new_string(name), &c->oom);
  fo_json_set(m, "namespace", json_object_new_string(c->ns), &c->oom);
  fo_json_set(m, "labels", labels(c, component), &c->oom);
  fo_json_set(m, "ownerReferences", owner_refs(c), &c->oom);
  return m;
}

/* True when every field of `want` is in `have` with the same value (objects recursively, arrays
 * element by element): what the server added (defaults, status) does not count as a change. */
static bool covers(json_object *have, json_object *want) {
  if (json_object_is_type(want, json_type_object)) {
    if (!json_object_is_type(have, json_type_object)) return false;
    json_object_object_foreach(want, k, v) {
      if (!covers(fo_json_get(have, k), v)) return false;
    }
    return true;
  }
  if (json_object_is_type(want, json_type_array)) {
    size_t n = json_object_array_length(want);
    if (!json_object_is_type(have, json_type_array) || json_object_array_length(have) != n) return false;
    for (size_t i = 0; i < n; i++)
      if (!covers(json_object_array_get_idx(have, i), json_object_array_get_idx(want, i))) return false;
    return true;
  }
  return json_object_equal(have, want);
}

/* Creates, or replaces when it exists and differs (keeping its resourceVersion). */
static int apply(struct lc *c, const struct fo_kube_resource *res, json_object *obj) {
  if (c->oom) return c->oom; /* an object built after an allocation failed may lack parts */
  const char *name = fo_json_get_string(fo_json_get_object(obj, "metadata"), "name");
  if (!ctl_write_allowed("create", res->plural, c->key)) return -EPERM;
  int r = fo_kube_create(c->k, res, c->ns, obj, NULL);
  if (r != -EEXIST) return r;
  json_object *cur = NULL;
  r = fo_kube_get(c->k, res, c->ns, name, &cur);
  if (r < 0) return r;
  if (covers(cur, obj)) { /* already as wanted (a redeploy keeps its ConfigMap and Services) */
    json_object_put(cur);
    return 0;
  }
  const char *rv = fo_json_get_string(fo_json_get_object(cur, "metadata"), "resourceVersion");
  fo_json_set(fo_json_get_object(obj, "metadata"), "resourceVersion", json_object_new_string(rv ? rv : ""), &c->oom);
  if (res == &fo_res_services) { /* clusterIP is immutable */
    json_object *ip = fo_json_get(fo_json_get_object(cur, "spec"), "clusterIP");
    if (ip) fo_json_set(fo_json_get_object(obj, "spec"), "clusterIP", json_object_get(ip), &c->oom);
  }
  json_object_put(cur);
  if (c->oom) return c->oom;
  if (!ctl_write_allowed("update", res->plural, c->key)) return -EPERM;
  return fo_kube_update(c->k, res, c->ns, name, NULL, obj, NULL);
}

static void conf_set(struct lc *c, json_object *conf, const char *k, const char *v) {
  if (v) fo_json_set(conf, k, json_object_new_string(v), &c->oom);
}

static void conf_set_int(struct lc *c, json_object *conf, const char *k, int64_t v) {
  char b[32];
  snprintf(b, sizeof b, "%lld", (long long)v);
  conf_set(c, conf, k, b);
}

/* The configuration the JobManager starts with: the effective configuration plus what the
 * operator sets. */
static json_object *flink_conf(struct lc *c, const char *job_id, const char *restore_path) {
  json_object *conf = NULL;
  if (json_object_deep_copy(c->conf, &conf, NULL) != 0 || !conf) {
    json_object_put(conf);
    nomem(c);
    return NULL;
  }
  conf_set(c, conf, "kubernetes.cluster-id", c->name);
  conf_set(c, conf, "kubernetes.namespace", c->ns);
  if (fo_conf_ha_enabled(conf)) conf_set(c, conf, "high-availability.cluster-id", c->name);
  conf_set(c, conf, "execution.target", strcmp(fo_spec_mode(&c->spec), "standalone") ? "kubernetes-application" : "remote");
  if (c->spec.image) conf_set(c, conf, "kubernetes.container.image.ref", c->spec.image);
  if (c->spec.service_account) conf_set(c, conf, "kubernetes.service-account", c->spec.service_account);
  if (c->spec.job.jar_uri) conf_set(c, conf, "pipeline.jars", c->spec.job.jar_uri);
  if (c->spec.job.parallelism.set) conf_set_int(c, conf, "parallelism.default", c->spec.job.parallelism.v);
  if (c->spec.job_manager.resource.memory) conf_set(c, conf, "jobmanager.memory.process.size", c->spec.job_manager.resource.memory);
  if (c->spec.task_manager.resource.memory) conf_set(c, conf, "taskmanager.memory.process.size", c->spec.task_manager.resource.memory);
  char cpu[32];
  if (c->spec.job_manager.resource.cpu_set) {
    snprintf(cpu, sizeof cpu, "%g", c->spec.job_manager.resource.cpu);
    conf_set(c, conf, "kubernetes.jobmanager.cpu.amount", cpu);
  }
  if (c->spec.task_manager.resource.cpu_set) {
    snprintf(cpu, sizeof cpu, "%g", c->spec.task_manager.resource.cpu);
    conf_set(c, conf, "kubernetes.taskmanager.cpu.amount", cpu);
  }
  conf_set(c, conf, "$internal.pipeline.job-id", job_id);
  json_object_object_del(conf, "execution.savepoint.path");
  if (restore_path) conf_set(c, conf, "execution.savepoint.path", restore_path);
  if (c->spec.job.allow_non_restored_state) conf_set(c, conf, "execution.savepoint.ignore-unclaimed-state", "true");
  return conf;
}

static json_object *config_map(struct lc *c, json_object *conf) {
  if (!conf) return NULL; /* flink_conf failed: c->oom is set */
  struct fo_buf b;
  fo_buf_init(&b, 4u << 20);
  int br = fo_buf_append(&b, "", 0);
  json_object_object_foreach(conf, k, v) {
    const char *s = json_object_get_string(v);
    if (br == 0) br = fo_buf_json_string(&b, k, strlen(k));
    if (br == 0) br = fo_buf_puts(&b, ": ");
    if (br == 0) br = fo_buf_json_string(&b, s, strlen(s)); /* JSON strings are YAML: no value is misread */
    if (br == 0) br = fo_buf_putc(&b, '\n');
  }
  if (br < 0) { /* a configuration file cut short must not be deployed */
    if (!c->oom) c->oom = br;
    fo_buf_free(&b);
    return NULL;
  }
  char name[300];
  snprintf(name, sizeof name, "flink-config-%s", c->name);
  json_object *cm = json_object_new_object();
  fo_json_set(cm, "apiVersion", json_object_new_string("v1"), &c->oom);
  fo_json_set(cm, "kind", json_object_new_string("ConfigMap"), &c->oom);
  fo_json_set(cm, "metadata", meta(c, name, NULL), &c->oom);
  json_object *data = json_object_new_object();
  bool v2 = c->spec.flink_version && !strncmp(c->spec.flink_version, "v2_", 3);
  fo_json_set(data, v2 ? "config.yaml" : "flink-conf.yaml", json_object_new_string(b.data), &c->oom);
  json_object *logc = c->spec.log_configuration ? fo_json_get_object(c->spec_json, "logConfiguration") : NULL;
  if (logc) {
    json_object_object_foreach(logc, lk, lv) {
      if (lv) fo_json_set(data, lk, json_object_get(lv), &c->oom);
    }
  }
  fo_json_set(cm, "data", data, &c->oom);
  fo_buf_free(&b);
  return cm;
}

static json_object *service(struct lc *c, const char *name, bool headless) {
  json_object *s = json_object_new_object();
  fo_json_set(s, "apiVersion", json_object_new_string("v1"), &c->oom);
  fo_json_set(s, "kind", json_object_new_string("Service"), &c->oom);
  fo_json_set(s, "metadata", meta(c, name, "jobmanager"), &c->oom);
  json_object *spec = json_object_new_object();
  json_object *sel = json_object_new_object();
  fo_json_set(sel, "app", json_object_new_string(c->name), &c->oom);
  fo_json_set(sel, "component", json_object_new_string("jobmanager"), &c->oom);
  fo_json_set(spec, "selector", sel, &c->oom);
  if (headless) fo_json_set(spec, "clusterIP", json_object_new_string("None"), &c->oom);
  else fo_json_set(spec, "type", json_object_new_string("ClusterIP"), &c->oom);
  json_object *ports = json_object_new_array();
  const char *names[] = {"rest", "jobmanager-rpc", "blobserver"};
  int nums[] = {8081, 6123, 6124};
  for (int i = headless ? 1 : 0; i < (headless ? 3 : 1); i++) {
    json_object *p = json_object_new_object();
    fo_json_set(p, "name", json_object_new_string(names[i]), &c->oom);
    fo_json_set(p, "port", json_object_new_int(nums[i]), &c->oom);
    fo_json_set(p, "targetPort", json_object_new_int(nums[i]), &c->oom);
    fo_json_push(ports, p, &c->oom);
  }
  fo_json_set(spec, "ports", ports, &c->oom);
  fo_json_set(s, "spec", spec, &c->oom);
  return s;
}

/* spec.<component>.podTemplate as json-c (the model checked it is an object), or NULL. */
static json_object *component_template(struct lc *c, const char *component) {
  return fo_json_get_object(fo_json_get_object(c->spec_json, component), "podTemplate");
}

/* The pod template: the user's (spec.podTemplate, then the component's) with our container
 * settings on flink-main-container. Arguments are an array: nothing reaches a shell. */
static json_object *pod_template(struct lc *c, const char *component, json_object *component_tmpl) {
  json_object *t = NULL;
  json_object *user = c->spec.pod_template ? fo_json_get_object(c->spec_json, "podTemplate") : NULL;
  if (user) {
    if (json_object_deep_copy(user, &t, NULL) != 0) t = NULL;
  } else {
    t = json_object_new_object();
  }
  if (!t || !json_object_is_type(t, json_type_object)) {
    json_object_put(t);
    nomem(c);
    return NULL;
  }
  if (component_tmpl) { /* component template over the shared one, member by member */
    json_object_object_foreach(component_tmpl, k, v) {
      json_object *cp = NULL;
      if (v && json_object_deep_copy(v, &cp, NULL) != 0) {
        nomem(c);
        continue;
      }
      if (cp) fo_json_set(t, k, cp, &c->oom);
      else if (json_object_object_add(t, k, NULL) != 0) nomem(c); /* null stays null */
    }
  }
  /* from here each step needs the one before: stop at the first failure (c->oom says so) */
  json_object *m = fo_json_ensure_object(t, "metadata");
  json_object *l = m ? fo_json_ensure_object(m, "labels") : NULL;
  json_object *ours = l ? labels(c, component) : NULL;
  if (!ours) {
    nomem(c);
    return t;
  }
  json_object_object_foreach(ours, lk, lv) fo_json_set(l, lk, json_object_get(lv), &c->oom);
  json_object_put(ours);
  json_object *spec = fo_json_ensure_object(t, "spec");
  if (!spec || c->oom) {
    nomem(c);
    return t;
  }
  if (c->spec.service_account) fo_json_set(spec, "serviceAccountName", json_object_new_string(c->spec.service_account), &c->oom);
  json_object *containers = fo_json_get_array(spec, "containers");
  if (!containers) {
    containers = json_object_new_array();
    if (fo_json_set(spec, "containers", containers, &c->oom) < 0) return t;
  }
  json_object *main = NULL;
  for (size_t i = 0; i < json_object_array_length(containers); i++) {
    json_object *ct = json_object_array_get_idx(containers, i);
    const char *n = fo_json_get_string(ct, "name");
    if (n && !strcmp(n, "flink-main-container")) main = ct;
  }
  if (!main) {
    main = json_object_new_object();
    fo_json_set(main, "name", json_object_new_string("flink-main-container"), &c->oom);
    if (fo_json_push(containers, main, &c->oom) < 0) return t;
  }
  fo_json_set(main, "image", json_object_new_string(c->spec.image ? c->spec.image : "flink:latest"), &c->oom);
  if (c->spec.image_pull_policy) fo_json_set(main, "imagePullPolicy", json_object_new_string(c->spec.image_pull_policy), &c->oom);
  json_object *args = json_object_new_array();
  if (!strcmp(component, "jobmanager")) {
    fo_json_push(args, json_object_new_string(strcmp(fo_spec_mode(&c->spec), "standalone") ? "kubernetes-application" : "standalone-job"), &c->oom);
    if (c->spec.job.entry_class) {
      fo_json_push(args, json_object_new_string("--job-classname"), &c->oom);
      fo_json_push(args, json_object_new_string(c->spec.job.entry_class), &c->oom);
    }
    json_object *user_args = c->spec.job.args ? fo_json_path(c->spec_json, "job", "args", (const char *)NULL) : NULL;
    size_t na = user_args ? json_object_array_length(user_args) : 0;
    for (size_t i = 0; i < na; i++) fo_json_push(args, json_object_get(json_object_array_get_idx(user_args, i)), &c->oom);
  } else {
    fo_json_push(args, json_object_new_string("taskmanager"), &c->oom);
  }
  fo_json_set(main, "args", args, &c->oom);
  json_object *vm = fo_json_get_array(main, "volumeMounts");
  if (!vm) {
    vm = json_object_new_array();
    if (fo_json_set(main, "volumeMounts", vm, &c->oom) < 0) return t;
  }
  json_object *mnt = json_object_new_object();
  fo_json_set(mnt, "name", json_object_new_string("flink-config-volume"), &c->oom);
  fo_json_set(mnt, "mountPath", json_object_new_string("/opt/flink/conf"), &c->oom);
  fo_json_push(vm, mnt, &c->oom);
  json_object *vols = fo_json_get_array(spec, "volumes");
  if (!vols) {
    vols = json_object_new_array();
    if (fo_json_set(spec, "volumes", vols, &c->oom) < 0) return t;
  }
  json_object *vol = json_object_new_object(), *cmv = json_object_new_object();
  char cmn[300];
  snprintf(cmn, sizeof cmn, "flink-config-%s", c->name);
  fo_json_set(vol, "name", json_object_new_string("flink-config-volume"), &c->oom);
  fo_json_set(cmv, "name", json_object_new_string(cmn), &c->oom);
  fo_json_set(vol, "configMap", cmv, &c->oom);
  fo_json_push(vols, vol, &c->oom);
  return t;
}

static json_object *deployment(struct lc *c, const char *name, const char *component, int64_t replicas,
                               json_object *component_tmpl) {
  json_object *d = json_object_new_object();
  fo_json_set(d, "apiVersion", json_object_new_string("apps/v1"), &c->oom);
  fo_json_set(d, "kind", json_object_new_string("Deployment"), &c->oom);
  json_object *m = meta(c, name, component);
  json_object *ann = json_object_new_object();
  char g[32];
  snprintf(g, sizeof g, "%lld", (long long)c->gen);
  fo_json_set(ann, GEN_ANNOTATION, json_object_new_string(g), &c->oom);
  fo_json_set(m, "annotations", ann, &c->oom);
  fo_json_set(d, "metadata", m, &c->oom);
  json_object *spec = json_object_new_object();
  fo_json_set(spec, "replicas", json_object_new_int64(replicas), &c->oom);
  json_object *sel = json_object_new_object(), *ml = json_object_new_object();
  fo_json_set(ml, "app", json_object_new_string(c->name), &c->oom);
  fo_json_set(ml, "component", json_object_new_string(component), &c->oom);
  fo_json_set(sel, "matchLabels", ml, &c->oom);
  fo_json_set(spec, "selector", sel, &c->oom);
  fo_json_set(spec, "template", pod_template(c, component, component_tmpl), &c->oom);
  json_object *strat = json_object_new_object();
  fo_json_set(strat, "type", json_object_new_string("Recreate"), &c->oom);
  fo_json_set(spec, "strategy", strat, &c->oom);
  fo_json_set(d, "spec", spec, &c->oom);
  return d;
}

static int deploy(struct lc *c, const char *job_id, const char *restore_path) {
  json_object *conf = flink_conf(c, job_id, restore_path);
  json_object *objs[5];
  int n = 0;
  objs[n++] = config_map(c, conf);
  char rest[300];
  snprintf(rest, sizeof rest, "%s-rest", c->name);
  objs[n++] = service(c, rest, false);
  objs[n++] = service(c, c->name, true);
  objs[n++] = deployment(c, c->name, "jobmanager", fo_jm_replicas(&c->spec), component_template(c, "jobManager"));
  if (!strcmp(fo_spec_mode(&c->spec), "standalone")) {
    char tm[300];
    snprintf(tm, sizeof tm, "%s-taskmanager", c->name);
    int64_t reps = c->spec.task_manager.replicas.set ? c->spec.task_manager.replicas.v : 1;
    objs[n++] = deployment(c, tm, "taskmanager", reps, component_template(c, "taskManager"));
  }
  const struct fo_kube_resource *res[] = {&fo_res_configmaps, &fo_res_services, &fo_res_services, &fo_res_deployments, &fo_res_deployments};
  int r = 0;
  for (int i = 0; i < n; i++) {
    if (r == 0) r = apply(c, res[i], objs[i]);
    json_object_put(objs[i]);
  }
  json_object_put(conf);
  fo_log("info", "deployed", "\"object\":\"%s\",\"jobId\":\"%s\",\"restoreFrom\":\"%s\",\"generation\":%lld,\"result\":%d", c->key,
         job_id, restore_path ? restore_path : "", (long long)c->gen, r);
  return r;
}

static int delete_cluster(struct lc *c) {
  if (!ctl_write_allowed("delete", "deployments", c->key)) return -EPERM;
  int r = fo_kube_delete(c->k, &fo_res_deployments, c->ns, c->name, "Background");
  char tm[300];
  snprintf(tm, sizeof tm, "%s-taskmanager", c->name);
  int r2 = fo_kube_delete(c->k, &fo_res_deployments, c->ns, tm, "Background");
  if (r == -ENOENT) r = 0;
  if (r == 0 && r2 < 0 && r2 != -ENOENT) r = r2;
  return r;
}

/* This cluster's objects of `res` carrying the label `label` too ("key=value"): a new array, or
 * NULL when the list fails. */
static json_object *labelled(struct lc *c, const struct fo_kube_resource *res, const char *label) {
  char sel[400];
  snprintf(sel, sizeof sel, "app=%s,%s", c->name, label);
  json_object *items = NULL;
  char *rv = NULL;
  if (fo_kube_list(c->k, res, c->ns, sel, 100, &items, &rv) < 0) items = NULL;
  free(rv);
  return items;
}

static json_object *ha_config_maps(struct lc *c) {
  return labelled(c, &fo_res_configmaps, "configmap-type=high-availability");
}

/* HA metadata a last-state restore can use: a job's ConfigMap holding a checkpoint pointer. */
static bool ha_has_checkpoint(struct lc *c) {
  json_object *items = ha_config_maps(c);
  bool found = false;
  size_t n = items ? json_object_array_length(items) : 0;
  for (size_t i = 0; i < n && !found; i++) {
    json_object *cm = json_object_array_get_idx(items, i);
    const char *name = fo_json_get_string(fo_json_get_object(cm, "metadata"), "name");
    size_t len = name ? strlen(name) : 0;
    if (len < 11 || strcmp(name + len - 11, "-config-map") || strstr(name, "-cluster-config-map")) continue;
    json_object_object_foreach(fo_json_get_object(cm, "data"), dk, dv) {
      (void)dv;
      if (!strncmp(dk, "checkpointID-", 13)) found = true;
    }
  }
  json_object_put(items);
  return found;
}

static int ha_delete(struct lc *c) {
  json_object *items = ha_config_maps(c);
  size_t n = items ? json_object_array_length(items) : 0;
  int r = 0;
  for (size_t i = 0; i < n; i++) {
    const char *name = fo_json_get_string(fo_json_get_object(json_object_array_get_idx(items, i), "metadata"), "name");
    if (!name || !ctl_write_allowed("delete", "ha-configmap", c->key)) continue;
    int d = fo_kube_delete(c->k, &fo_res_configmaps, c->ns, name, NULL);
    if (d < 0 && d != -ENOENT) r = d;
  }
  json_object_put(items);
  return r;
}

/* ---- Flink ---- */

static struct fo_flink *flink(struct lc *c) {
  struct fo_buf u;
  fo_buf_init(&u, 4096);
  fo_flink_url(&u, g_ctl->cfg.flink_url_template, c->name, c->ns);
  struct fo_flink *f = fo_flink_new(u.data, 5000);
  fo_buf_free(&u);
  return f;
}

/* The job's state from Flink, or NULL (JobManager unreachable, job unknown). */
static const char *observe_job(struct lc *c, struct fo_flink *f, char *state, size_t n) {
  const char *jid = c->st.job_status.job_id;
  if (!jid) return NULL;
  struct fo_flink_jobs jobs;
  if (fo_flink_jobs_overview(f, &jobs) < 0) return NULL;
  const char *res = NULL;
  for (size_t i = 0; i < jobs.n; i++)
    if (!strcmp(jobs.jobs[i].jid, jid)) {
      snprintf(state, n, "%s", fo_flink_job_effective_state(&jobs.jobs[i]));
      st_set(c, &c->st.job_status.job_name, jobs.jobs[i].name);
      char t[32];
      snprintf(t, sizeof t, "%lld", (long long)jobs.jobs[i].start_time);
      st_set(c, &c->st.job_status.start_time, t);
      res = state;
    }
  fo_flink_jobs_free(&jobs);
  return res;
}

static struct fo_savepoint_info *spi(struct lc *c) {
  c->st.has_job_status = true;
  c->st.job_status.has_savepoint_info = true;
  return &c->st.job_status.savepoint_info;
}

static void record_savepoint(struct lc *c, const char *location, const char *type, struct fo_opt_int nonce) {
  if (!location) return; /* COMPLETED always carries one (flinkrest.c); never record a NULL */
  struct fo_savepoint_info *s = spi(c);
  struct fo_savepoint sp = {0};
  sp.time_stamp = s->trigger_timestamp.set ? s->trigger_timestamp : (struct fo_opt_int){true, now_ms()};
  sp.location = strdup(location);
  sp.trigger_type = strdup(type);
  sp.format_type = strdup("CANONICAL");
  sp.trigger_nonce = nonce;
  free(s->last.location);
  free(s->last.trigger_type);
  free(s->last.format_type);
  s->has_last = true;
  s->last.time_stamp = sp.time_stamp;
  s->last.location = strdup(location);
  s->last.trigger_type = strdup(type);
  s->last.format_type = strdup("CANONICAL");
  s->last.trigger_nonce = nonce;
  /* a savepoint recorded without its location, or left out of the history, would be lost */
  if ((!sp.location || !sp.trigger_type || !sp.format_type || !s->last.location || !s->last.trigger_type ||
       !s->last.format_type))
    nomem(c);
  struct fo_savepoint *h = realloc(s->history, (s->n_history + 1) * sizeof *h);
  if (!h) nomem(c);
  if (h) {
    s->history = h;
    s->history[s->n_history++] = sp;
  } else {
    free(sp.location);
    free(sp.trigger_type);
    free(sp.format_type);
  }
  s->has_history = true;
}

static void clear_trigger(struct lc *c) {
  struct fo_savepoint_info *s = spi(c);
  st_set(c, &s->trigger_id, NULL);
  st_set(c, &s->trigger_type, NULL);
  s->trigger_timestamp.set = false;
}

static int send_savepoint(struct lc *c, struct fo_flink *f, bool stop);

/* Polls the savepoint in flight. Returns 1 done (location in *ret_loc, or failure), 0 pending,
 * < 0 error. A trigger Flink does not know (we died before sending it) is sent again with the
 * same id. */
static int poll_savepoint(struct lc *c, struct fo_flink *f, bool stop, char **ret_loc, char **ret_fail) {
  struct fo_savepoint_info *s = spi(c);
  struct fo_flink_savepoint_status ss;
  *ret_loc = *ret_fail = NULL;
  int r = fo_flink_savepoint_status(f, c->st.job_status.job_id, s->trigger_id, &ss);
  if (r == -ENOENT) {
    /* Flink does not know it: we died before sending it. Flink accepts the caller's triggerId,
     * so sending it now asks for that one savepoint, never a second one. */
    r = send_savepoint(c, f, stop);
    return r < 0 ? r : 0;
  }
  if (r < 0) return r;
  int done = 0;
  if (ss.state == FO_FLINK_OP_COMPLETED) {
    *ret_loc = ss.location;
    ss.location = NULL;
    done = 1;
  } else if (ss.state == FO_FLINK_OP_FAILED) {
    *ret_fail = ss.failure_cause ? ss.failure_cause : strdup("savepoint failed");
    ss.failure_cause = NULL;
    done = 1;
  }
  fo_flink_savepoint_status_free(&ss);
  return done;
}

/* Sends a savepoint request carrying our own trigger id (written to the status first). */
static int send_savepoint(struct lc *c, struct fo_flink *f, bool stop) {
  struct fo_savepoint_info *s = spi(c);
  const char *dir = fo_conf_savepoint_dir(c->conf);
  char *t = NULL;
  int r = stop ? fo_flink_stop_with_savepoint(f, c->st.job_status.job_id, dir, false, s->trigger_id, &t)
               : fo_flink_trigger_savepoint(f, c->st.job_status.job_id, dir, false, s->trigger_id, &t);
  free(t);
  return r;
}

/* ---- the state machine ---- */

/* Fields whose change is an upgrade (everything but the nonces, the desired state and the mode). */
static json_object *comparable(json_object *spec) {
  json_object *c = NULL;
  if (!spec || json_object_deep_copy(spec, &c, NULL) != 0 || !json_object_is_type(c, json_type_object)) return c;
  json_object *job = fo_json_get_object(c, "job");
  const char *drop[] = {"state", "upgradeMode", "savepointTriggerNonce", "savepointRedeployNonce", "initialSavepointPath",
                        "allowNonRestoredState"};
  for (size_t i = 0; job && i < sizeof drop / sizeof drop[0]; i++) json_object_object_del(job, drop[i]);
  json_object_object_del(c, "restartNonce");
  return c;
}

static bool spec_changed(struct lc *c) {
  json_object *a = comparable(c->spec_json), *b = comparable(c->last_json);
  if ((c->spec_json && !a) || (c->last_json && !b)) { /* no memory to compare: no change seen */
    json_object_put(a);
    json_object_put(b);
    nomem(c);
    return false;
  }
  bool changed = !json_object_equal(a, b);
  json_object_put(a);
  json_object_put(b);
  if (c->spec.restart_nonce.set && (!c->last.restart_nonce.set || c->last.restart_nonce.v != c->spec.restart_nonce.v)) changed = true;
  return changed;
}

/* Starts a transition: the record says which spec and mode, written before anything is stopped. */
static int begin_transition(struct lc *c, const char *mode, bool job_running) {
  struct fo_reconciliation_status *rs = &c->st.reconciliation_status;
  if (c->last_json) c->first_deployment = false; /* only the very first record says so */
  c->st.has_reconciliation_status = true;
  char *rec = spec_for_record(c, "suspended", mode);
  st_set(c, &rs->last_reconciled_spec, rec);
  free(rec);
  st_set(c, &rs->state, "UPGRADING");
  rs->reconciliation_timestamp = (struct fo_opt_int){true, now_ms()};
  c->st.observed_generation = (struct fo_opt_int){true, c->gen};
  if (job_running) st_set(c, &c->st.job_status.upgrade_savepoint_path, NULL); /* a fresh one will be taken */
  set_error(c, NULL);
  event_record(c->k, c->obj, "Normal", job_running ? "Suspended" : "Submit",
               job_running ? "Suspending existing deployment." : "Starting deployment");
  finish_status(c);
  return write_status(c);
}

/* The mode the transition in flight uses (recorded in lastReconciledSpec). */
static const char *recorded_mode(struct lc *c) { return fo_job_upgrade_mode(&c->last.job); }

static double fail_wait(struct lc *c, const char *reason, const char *msg) {
  set_error(c, msg);
  event_record(c->k, c->obj, "Warning", reason, msg);
  finish_status(c);
  write_status(c);
  return 10.0;
}

/* Moves an UPGRADING transition one step on. */
static double step_transition(struct lc *c, struct fo_flink *f) {
  const char *mode = recorded_mode(c);
  bool want_running = c->spec.job.present && !strcmp(fo_job_state(&c->spec.job), "running");
  json_object *dep = NULL;
  int r = fo_kube_get(c->k, &fo_res_deployments, c->ns, c->name, &dep);
  if (r < 0 && r != -ENOENT) return -1;
  if (dep) {
    const char *g = fo_json_get_string(fo_json_get_object(fo_json_get_object(dep, "metadata"), "annotations"), GEN_ANNOTATION);
    char want[32];
    snprintf(want, sizeof want, "%lld", (long long)c->st.observed_generation.v);
    /* Deployed already, and for the spec in hand: the transition is done. A deployment of an
     * older generation (the spec changed again while it was being deployed) is the old cluster
     * of a new transition: recording the newer spec as reconciled would leave it never applied. */
    bool ours = g && !strcmp(g, want) && c->st.job_status.state && !strcmp(c->st.job_status.state, "RECONCILING") &&
                c->st.observed_generation.v == c->gen;
    json_object_put(dep);
    if (ours) { /* deployed already: the transition is done */
      struct fo_reconciliation_status *rs = &c->st.reconciliation_status;
      char *rec = spec_for_record(c, "running", mode);
      st_set(c, &rs->last_reconciled_spec, rec);
      free(rec);
      st_set(c, &rs->state, "DEPLOYED");
      st_set(c, &c->st.jm_deployment_status, "DEPLOYING");
      finish_status(c);
      return write_status(c) < 0 ? -1 : POLL;
    }
    /* the old cluster is still there: suspend it with the mode's mechanism */
    bool never_ran = false;
    if (!strcmp(mode, "savepoint") && !c->st.job_status.upgrade_savepoint_path) {
      struct fo_savepoint_info *s = spi(c);
      if (s->trigger_id) {
        char *loc, *fail;
        int p = poll_savepoint(c, f, true, &loc, &fail);
        if (p < 0) return POLL;
        if (p == 0) return POLL;
        if (fail) {
          clear_trigger(c);
          double d = fail_wait(c, "SavepointError", "Savepoint for the upgrade failed; retrying");
          free(fail);
          return d;
        }
        st_set(c, &c->st.job_status.upgrade_savepoint_path, loc);
        record_savepoint(c, loc, "UPGRADE", (struct fo_opt_int){false, 0});
        clear_trigger(c);
        set_job_state(c, "FINISHED");
        free(loc);
        finish_status(c);
        return write_status(c) < 0 ? -1 : 0.05;
      }
      char st[16];
      const char *js = observe_job(c, f, st, sizeof st);
      /* A job that never ran (still RECONCILING, its JobManager never ready: a crash loop the new
       * spec fixes, say) made no state newer than what it was started from, which the restore
       * below uses again: there is no savepoint to wait for, and none could be taken. */
      never_ran = (!js || strcmp(js, "RUNNING")) && c->st.job_status.state &&
                  !strcmp(c->st.job_status.state, "RECONCILING") &&
                  (!c->st.jm_deployment_status || strcmp(c->st.jm_deployment_status, "READY"));
      if (never_ran) {
        fo_log("info", "upgrade without a savepoint: the job never ran", "\"object\":\"%s\",\"restoreFrom\":\"%s\"",
               c->key, c->st.job_status.savepoint_info.has_last && c->st.job_status.savepoint_info.last.location
                           ? c->st.job_status.savepoint_info.last.location : "");
      } else if (!js || strcmp(js, "RUNNING")) {
        set_error(c, "Job is not running: the savepoint upgrade waits for it (upgradeMode savepoint needs a running job)");
        finish_status(c);
        write_status(c);
        return POLL * 2;
      }
    }
    if (!strcmp(mode, "savepoint") && !c->st.job_status.upgrade_savepoint_path && !never_ran) {
      struct fo_savepoint_info *s = spi(c);
      char id[33];
      new_id(id);
      st_set(c, &s->trigger_id, id);
      st_set(c, &s->trigger_type, "UPGRADE");
      s->trigger_timestamp = (struct fo_opt_int){true, now_ms()};
      finish_status(c);
      if (write_status(c) < 0) return -1; /* the id is recorded before the request */
      send_savepoint(c, f, true);
      return POLL / 2;
    }
    if (!strcmp(mode, "stateless")) {
      if (c->st.job_status.job_id) fo_flink_cancel(f, c->st.job_status.job_id); /* best effort */
    }
    if (delete_cluster(c) < 0) return -1;
    if (strcmp(mode, "last-state")) ha_delete(c); /* stateless and savepoint restart without HA state */
    set_job_state(c, strcmp(mode, "stateless") ? "FINISHED" : "CANCELED");
    st_set(c, &c->st.jm_deployment_status, "MISSING");
    finish_status(c);
    return write_status(c) < 0 ? -1 : POLL / 2;
  }
  /* no cluster */
  if (!want_running) {
    struct fo_reconciliation_status *rs = &c->st.reconciliation_status;
    st_set(c, &rs->state, "DEPLOYED");
    char *rec = spec_for_record(c, "suspended", mode);
    st_set(c, &rs->last_reconciled_spec, rec);
    st_set(c, &rs->last_stable_spec, rec); /* a requested suspend is stable at once */
    free(rec);
    st_set(c, &c->st.jm_deployment_status, "MISSING");
    if (!c->st.job_status.state || strcmp(c->st.job_status.state, "CANCELED")) set_job_state(c, "FINISHED");
    finish_status(c);
    return write_status(c) < 0 ? -1 : 0;
  }
  /* restore: decide what the job starts from and its id, record both, then deploy */
  const char *restore = NULL;
  bool first = c->first_deployment;
  if (!strcmp(mode, "savepoint")) {
    restore = c->st.job_status.upgrade_savepoint_path;
    if (!restore && c->st.job_status.savepoint_info.has_last) restore = c->st.job_status.savepoint_info.last.location;
  } else if (!strcmp(mode, "last-state") && !first) {
    if (!ha_has_checkpoint(c))
      return fail_wait(c, "RestoreFailed",
                       "HA metadata is not available to restore from last state.It is possible that the job has finished or "
                       "terminally failed, or the configmaps have been deleted. Manual restore required.");
  }
  if (c->st.observed_generation.v != c->gen) {
    /* the spec changed while the old cluster went away: start the newest one, and say so */
    char *rec = spec_for_record(c, "suspended", mode);
    st_set(c, &c->st.reconciliation_status.last_reconciled_spec, rec);
    free(rec);
    c->st.observed_generation = (struct fo_opt_int){true, c->gen};
    finish_status(c);
    if (write_status(c) < 0) return -1;
  }
  if (!c->st.job_status.state || strcmp(c->st.job_status.state, "RECONCILING")) {
    if (strcmp(mode, "last-state") || !c->st.job_status.job_id) {
      char id[33];
      new_id(id);
      st_set(c, &c->st.job_status.job_id, id);
    }
    set_job_state(c, "RECONCILING");
    st_set(c, &c->st.jm_deployment_status, "DEPLOYING");
    finish_status(c);
    if (write_status(c) < 0) return -1; /* the job id is recorded before anything runs */
  }
  if (deploy(c, c->st.job_status.job_id, restore) < 0) return -1;
  return 0.2;
}

/* A JobManager pod whose container cannot run: "[container] message" and the reason (as the
 * reference reports CrashLoopBackOff, ImagePullBackOff, ErrImagePull, ...). NULL when none. */
static char *jm_pod_failure(struct lc *c, char *reason, size_t n) {
  static const char *const bad[] = {"CrashLoopBackOff", "ImagePullBackOff", "ErrImagePull", "RunContainerError",
                                    "CreateContainerConfigError", "OOMKilled", NULL};
  json_object *pods = labelled(c, &fo_res_pods, "component=jobmanager");
  char *res = NULL;
  size_t np = pods ? json_object_array_length(pods) : 0;
  for (size_t i = 0; i < np && !res; i++) {
    json_object *cs = fo_json_get_array(fo_json_get_object(json_object_array_get_idx(pods, i), "status"), "containerStatuses");
    size_t nc = cs ? json_object_array_length(cs) : 0;
    for (size_t j = 0; j < nc && !res; j++) {
      json_object *ct = json_object_array_get_idx(cs, j);
      json_object *w = fo_json_path(ct, "state", "waiting", (const char *)NULL);
      const char *why = fo_json_get_string(w, "reason");
      if (!why || !fo_enum_contains(bad, why)) continue;
      const char *msg = fo_json_get_string(w, "message");
      const char *last = fo_json_get_string(fo_json_path(ct, "lastState", "terminated", (const char *)NULL), "message");
      struct fo_buf b;
      fo_buf_init(&b, 4096);
      fo_buf_printf(&b, "[%s] %s%s%s", fo_json_get_string(ct, "name") ? fo_json_get_string(ct, "name") : "container",
                    msg ? msg : why, last ? ": " : "", last ? last : "");
      res = fo_buf_steal(&b);
      snprintf(reason, n, "%s", why);
    }
  }
  json_object_put(pods);
  return res;
}

static json_object *cached_jm_deployment(struct lc *c) {
  char key[512];
  snprintf(key, sizeof key, "%s/%s", c->ns, c->name);
  for (size_t i = 0; i < g_ctl->n_owned; i++) {
    json_object *d = informer_get(g_ctl->owned_informers[i], key);
    if (d) return d;
  }
  return NULL;
}

/* Observes a deployed cluster: JobManager readiness, the job, a manual savepoint. */
static double observe(struct lc *c, struct fo_flink *f) {
  c->st.observed_generation = (struct fo_opt_int){true, c->gen}; /* changes that need no action */
  /* The informer's copy (it wakes us on every change of it); a GET only when the cache has none
   * yet (just created, or not synced): the steady state costs the API server nothing. */
  json_object *dep = cached_jm_deployment(c);
  if (!dep) {
    int r = fo_kube_get(c->k, &fo_res_deployments, c->ns, c->name, &dep);
    if (r < 0 && r != -ENOENT) return -1;
  }
  const char *jm = "MISSING";
  if (dep) {
    int64_t ready = 0;
    fo_json_as_int64(fo_json_get(fo_json_get_object(dep, "status"), "readyReplicas"), &ready);
    jm = ready > 0 ? "READY" : "DEPLOYING";
  }
  json_object_put(dep);
  char reason[64];
  char *pod_failure = !strcmp(jm, "DEPLOYING") ? jm_pod_failure(c, reason, sizeof reason) : NULL;
  if (pod_failure) {
    jm = "ERROR";
    if (!c->st.error || !strstr(c->st.error, pod_failure)) event_record(c->k, c->obj, "Warning", reason, pod_failure);
    set_error(c, pod_failure);
    free(pod_failure);
  }
  bool jm_changed = !c->st.jm_deployment_status || strcmp(c->st.jm_deployment_status, jm);
  st_set(c, &c->st.jm_deployment_status, jm);
  if (jm_changed && !strcmp(jm, "MISSING")) event_record(c->k, c->obj, "Warning", "Missing", "Missing JobManager deployment");
  double next = STEADY;
  char st[16];
  if (!strcmp(jm, "READY")) {
    const char *js = observe_job(c, f, st, sizeof st);
    if (js && (!c->st.job_status.state || strcmp(c->st.job_status.state, js))) {
      char msg[96];
      snprintf(msg, sizeof msg, "Job status changed from %s to %s", c->st.job_status.state ? c->st.job_status.state : "none", js);
      event_record(c->k, c->obj, !strcmp(js, "FAILED") ? "Warning" : "Normal", "JobStatusChanged", msg);
      set_job_state(c, js);
    }
    if (js && !strcmp(js, "FAILED")) {
      char *ex = NULL;
      fo_flink_latest_exception(f, c->st.job_status.job_id, &ex);
      set_error(c, ex ? ex : "Job failed");
      free(ex);
    }
    if (js && !strcmp(js, "RUNNING")) {
      set_error(c, NULL);
      st_set(c, &c->st.reconciliation_status.last_stable_spec, c->st.reconciliation_status.last_reconciled_spec);
    }
    if (!js) next = POLL;
  } else {
    next = POLL;
  }
  /* the manual savepoint: trigger on a new nonce, poll while in flight */
  struct fo_savepoint_info *s = spi(c);
  if (s->trigger_id && s->trigger_type && !strcmp(s->trigger_type, "MANUAL")) {
    char *loc = NULL, *fail = NULL;
    int p = poll_savepoint(c, f, false, &loc, &fail);
    if (p == 1) {
      struct fo_opt_int nonce = c->spec.job.savepoint_trigger_nonce;
      if (loc) record_savepoint(c, loc, "MANUAL", nonce);
      if (fail) {
        char msg[128];
        snprintf(msg, sizeof msg, "Savepoint failed for savepointTriggerNonce: %lld", (long long)nonce.v);
        event_record(c->k, c->obj, "Warning", "SavepointError", msg);
      }
      clear_trigger(c);
      /* the nonce counts as handled either way: record it */
      json_object *last = c->last_json;
      json_object *ljob = fo_json_get_object(last, "job");
      if (ljob && nonce.set) fo_json_set(ljob, "savepointTriggerNonce", json_object_new_int64(nonce.v), &c->oom);
      char *rec = fo_reconciled_spec_encode(last, c->first_deployment);
      st_set(c, &c->st.reconciliation_status.last_reconciled_spec, rec);
      free(rec);
    }
    free(loc);
    free(fail);
    next = POLL / 2;
  } else if (c->spec.job.savepoint_trigger_nonce.set && c->st.job_status.state && !strcmp(c->st.job_status.state, "RUNNING") &&
             (!c->last.job.savepoint_trigger_nonce.set || c->last.job.savepoint_trigger_nonce.v != c->spec.job.savepoint_trigger_nonce.v)) {
    char id[33];
    new_id(id);
    st_set(c, &s->trigger_id, id);
    st_set(c, &s->trigger_type, "MANUAL");
    s->trigger_timestamp = (struct fo_opt_int){true, now_ms()};
    finish_status(c);
    if (write_status(c) < 0) return -1;
    send_savepoint(c, f, false);
    return POLL / 2;
  }
  finish_status(c);
  return write_status(c) < 0 ? -1 : next;
}

static int load(struct lc *c, struct fo_kube *k, json_object *obj, const char *key) {
  memset(c, 0, sizeof *c);
  c->k = k;
  c->obj = obj;
  c->key = key;
  json_object *m = fo_json_get_object(obj, "metadata");
  c->ns = fo_json_get_string(m, "namespace");
  c->name = fo_json_get_string(m, "name");
  c->uid = fo_json_get_string(m, "uid");
  fo_json_as_int64(fo_json_get(m, "generation"), &c->gen);
  c->spec_json = fo_json_get_object(obj, "spec");
  fo_arena_init(&c->arena, SIZE_MAX);
  const struct fo_jv *spec = NULL;
  if (c->spec_json && fo_jv_from_json(&c->arena, c->spec_json, &spec) < 0) return -ENOMEM;
  fo_spec_read(spec, &c->spec, NULL, "spec");
  json_object *defaults = NULL;
  if (g_ctl->default_conf && json_object_deep_copy(g_ctl->default_conf, &defaults, NULL) != 0) return -ENOMEM;
  c->conf = fo_conf_effective_new(defaults, c->spec.flink_configuration ? fo_json_get_object(c->spec_json, "flinkConfiguration") : NULL);
  json_object_put(defaults);
  if (fo_status_read(fo_json_get_object(obj, "status"), &c->st) < 0 || !c->conf) return -ENOMEM;
  const char *rec = c->st.reconciliation_status.last_reconciled_spec;
  if (rec) {
    struct fo_parse_error pe = {0};
    if (fo_reconciled_spec_decode(rec, &c->last_json, &c->first_deployment, &pe) < 0) c->last_json = NULL;
    fo_parse_error_clear(&pe);
    const struct fo_jv *last = NULL;
    if (c->last_json && fo_jv_from_json(&c->arena, c->last_json, &last) < 0) return -ENOMEM;
    fo_spec_read(last, &c->last, NULL, "");
  }
  return 0;
}

static void unload(struct lc *c) {
  fo_arena_free(&c->arena);
  json_object_put(c->conf);
  json_object_put(c->last_json);
  fo_status_free(&c->st);
}

double lifecycle_reconcile(struct fo_kube *k, json_object *obj, const char *key) {
  struct lc c;
  if (load(&c, k, obj, key) < 0) {
    unload(&c);
    return -1;
  }
  double next = 0;
  struct fo_flink *f = flink(&c);
  struct fo_reconciliation_status *rs = &c.st.reconciliation_status;
  if (!c.spec.job.present) {
    c.st.observed_generation = (struct fo_opt_int){true, c.gen}; /* session clusters: no job lifecycle yet */
    finish_status(&c);
    next = write_status(&c) < 0 ? -1 : 0;
  } else if (!c.last_json) {
    /* never deployed */
    c.first_deployment = true;
    const char *initial = c.spec.job.initial_savepoint_path;
    if (!strcmp(fo_job_state(&c.spec.job), "suspended")) {
      c.st.has_reconciliation_status = true;
      char *r = spec_for_record(&c, "suspended", mode_of(&c.spec));
      st_set(&c, &rs->last_reconciled_spec, r);
      st_set(&c, &rs->last_stable_spec, r);
      free(r);
      st_set(&c, &rs->state, "DEPLOYED");
      rs->reconciliation_timestamp = (struct fo_opt_int){true, now_ms()};
      c.st.observed_generation = (struct fo_opt_int){true, c.gen};
      st_set(&c, &c.st.jm_deployment_status, "MISSING");
      finish_status(&c);
      next = write_status(&c) < 0 ? -1 : 0;
    } else {
      if (initial) st_set(&c, &c.st.job_status.upgrade_savepoint_path, initial);
      c.st.has_job_status = true;
      next = begin_transition(&c, initial ? "savepoint" : "stateless", false) < 0 ? -1 : 0.05;
    }
  } else if (rs->state && !strcmp(rs->state, "UPGRADING")) {
    next = step_transition(&c, f);
  } else if (c.st.job_status.savepoint_info.trigger_id) {
    next = observe(&c, f); /* no upgrade or suspend starts while a savepoint is in flight */
  } else {
    bool last_running = !strcmp(fo_job_state(&c.last.job), "running");
    bool want_running = !strcmp(fo_job_state(&c.spec.job), "running");
    const char *mode = mode_of(&c.spec);
    if (last_running && (!want_running || spec_changed(&c))) {
      next = begin_transition(&c, mode, true) < 0 ? -1 : 0.05;
    } else if (!last_running && want_running) {
      /* restore with the mechanism the job was suspended with (stateless always starts empty) */
      const char *rmode = !strcmp(mode, "stateless") ? "stateless" : recorded_mode(&c);
      next = begin_transition(&c, rmode, false) < 0 ? -1 : 0.05;
    } else if (last_running) {
      next = observe(&c, f);
    } else {
      c.st.observed_generation = (struct fo_opt_int){true, c.gen}; /* suspended: recorded for later */
      finish_status(&c);
      next = write_status(&c) < 0 ? -1 : 0;
    }
  }
  fo_flink_free(f);
  unload(&c);
  return next;
}

#define CLEANUP_TIMEOUT_S 60

/* True while JobManager pods of the deleted cluster still exist, up to CLEANUP_TIMEOUT_S after the
 * FlinkDeployment's deletionTimestamp (then the HA data goes anyway, as the reference operator's
 * cleanup timeout does). */
static bool jm_pods_linger(struct lc *c, json_object *obj) {
  json_object *pods = labelled(c, &fo_res_pods, "component=jobmanager");
  size_t n = pods ? json_object_array_length(pods) : 0;
  json_object_put(pods);
  if (n == 0) return false;
  const char *dts = fo_json_get_string(fo_json_get_object(obj, "metadata"), "deletionTimestamp");
  struct tm tm = {0};
  if (dts && strptime(dts, "%Y-%m-%dT%H:%M:%SZ", &tm) && time(NULL) - timegm(&tm) > CLEANUP_TIMEOUT_S) {
    fo_log("warning", "JobManager pods still present after the cleanup timeout; deleting the HA data",
           "\"object\":\"%s\",\"pods\":%zu", c->key, n);
    return false;
  }
  return true;
}

int lifecycle_cleanup(struct fo_kube *k, json_object *obj, const char *key) {
  struct lc c;
  if (load(&c, k, obj, key) < 0) {
    unload(&c);
    return -1;
  }
  if (!c.st.lifecycle_state || strcmp(c.st.lifecycle_state, "DELETING")) {
    st_set(&c, &c.st.lifecycle_state, "DELETING");
    write_status(&c);
    event_record(k, obj, "Normal", "Cleanup", "Cleaning up FlinkDeployment");
  }
  struct fo_flink *f = flink(&c);
  /* --savepoint-on-deletion: a running job is stopped with a savepoint first (our trigger id,
   * recorded before the request, so a restart asks for the same one) */
  if (g_ctl->cfg.savepoint_on_deletion && c.st.job_status.job_id && c.st.job_status.state &&
      !strcmp(c.st.job_status.state, "RUNNING") && fo_conf_savepoint_dir(c.conf)) {
    struct fo_savepoint_info *s = spi(&c);
    if (!s->trigger_id) {
      char id[33];
      new_id(id);
      st_set(&c, &s->trigger_id, id);
      st_set(&c, &s->trigger_type, "UPGRADE");
      s->trigger_timestamp = (struct fo_opt_int){true, now_ms()};
      if (write_status(&c) == 0) send_savepoint(&c, f, true);
      fo_flink_free(f);
      unload(&c);
      return 0;
    }
    char *loc = NULL, *fail = NULL;
    int p = poll_savepoint(&c, f, true, &loc, &fail);
    if (p == 0 || (p < 0 && p != -ECONNREFUSED)) {
      fo_flink_free(f);
      unload(&c);
      return 0; /* in flight: look again */
    }
    if (loc) {
      record_savepoint(&c, loc, "UPGRADE", (struct fo_opt_int){false, 0});
      fo_log("info", "savepoint on deletion", "\"object\":\"%s\",\"location\":\"%s\"", key, loc);
    }
    if (fail) event_record(k, obj, "Warning", "SavepointError", "Savepoint on deletion failed");
    clear_trigger(&c);
    set_job_state(&c, "FINISHED");
    write_status(&c);
    free(loc);
    free(fail);
  } else if (c.st.job_status.job_id) {
    fo_flink_cancel(f, c.st.job_status.job_id); /* best effort: the cluster goes anyway */
  }
  fo_flink_free(f);
  int r = delete_cluster(&c);
  if (r == 0 && jm_pods_linger(&c, obj)) {
    unload(&c);
    return 0; /* a stopping JobManager could still write HA data: delete it once the pods are gone */
  }
  if (r == 0) r = ha_delete(&c); /* HA ConfigMaps have no owner: they go explicitly */
  unload(&c);
  return r < 0 ? r : 1;
}

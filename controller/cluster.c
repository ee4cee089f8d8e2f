#include "cluster.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "flinkop/buf.h"
#include "flinkop/flinkconf.h"

/* A build in progress: the first allocation failure is kept, and an object built after one is
 * dropped by cluster_build. */
struct b {
  const struct cluster_input *in;
  int oom;
};

char *cluster_object_name(const char *name, const char *suffix) {
  size_t n = strlen(name) + strlen(suffix) + 1;
  char *s = malloc(n);
  if (s) snprintf(s, n, "%s%s", name, suffix);
  return s;
}

static bool standalone(const struct b *b) {
  return !strcmp(fo_spec_mode(b->in->spec), "standalone");
}

static json_object *str(const char *s) { return json_object_new_string(s); }

static json_object *owner_refs(struct b *b) {
  json_object *a = json_object_new_array(), *o = json_object_new_object();
  fo_json_set(o, "apiVersion", str(FO_API_VERSION), &b->oom);
  fo_json_set(o, "kind", str(FO_KIND), &b->oom);
  fo_json_set(o, "name", str(b->in->name), &b->oom);
  fo_json_set(o, "uid", str(b->in->uid ? b->in->uid : ""), &b->oom);
  fo_json_set(o, "controller", json_object_new_boolean(1), &b->oom);
  fo_json_set(o, "blockOwnerDeletion", json_object_new_boolean(1), &b->oom);
  fo_json_push(a, o, &b->oom);
  return a;
}

static json_object *labels(struct b *b, const char *component) {
  json_object *l = json_object_new_object();
  fo_json_set(l, "app", str(b->in->name), &b->oom);
  fo_json_set(l, "type",
              str(standalone(b) ? "flink-standalone-kubernetes" : "flink-native-kubernetes"),
              &b->oom);
  if (component) fo_json_set(l, "component", str(component), &b->oom);
  fo_json_set(l, FO_MANAGED_BY_LABEL, str(FO_MANAGED_BY_VALUE), &b->oom);
  return l;
}

static json_object *meta(struct b *b, const char *name, const char *component) {
  json_object *m = json_object_new_object();
  fo_json_set(m, "name", str(name), &b->oom);
  fo_json_set(m, "namespace", str(b->in->ns), &b->oom);
  fo_json_set(m, "labels", labels(b, component), &b->oom);
  fo_json_set(m, "ownerReferences", owner_refs(b), &b->oom);
  return m;
}

static void conf_set(struct b *b, json_object *conf, const char *k, const char *v) {
  if (v) fo_json_set(conf, k, str(v), &b->oom);
}

static void conf_set_cpu(struct b *b, json_object *conf, const char *k, double v) {
  char t[64];
  snprintf(t, sizeof t, "%g", v);
  conf_set(b, conf, k, t);
}

static json_object *flink_conf(struct b *b) {
  const struct cluster_input *in = b->in;
  const struct fo_spec *s = in->spec;
  json_object *conf = NULL;
  if (!in->conf || json_object_deep_copy(in->conf, &conf, NULL) != 0 || !conf) {
    json_object_put(conf);
    b->oom = -ENOMEM;
    return NULL;
  }
  conf_set(b, conf, "kubernetes.cluster-id", in->name);
  conf_set(b, conf, "kubernetes.namespace", in->ns);
  if (fo_conf_ha_enabled(conf)) conf_set(b, conf, "high-availability.cluster-id", in->name);
  conf_set(b, conf, "execution.target", standalone(b) ? "remote" : "kubernetes-application");
  conf_set(b, conf, "kubernetes.container.image.ref", s->image);
  conf_set(b, conf, "kubernetes.service-account", s->service_account);
  conf_set(b, conf, "pipeline.jars", s->job.jar_uri);
  if (s->job.parallelism.set) {
    char t[32];
    snprintf(t, sizeof t, "%lld", (long long)s->job.parallelism.v);
    conf_set(b, conf, "parallelism.default", t);
  }
  conf_set(b, conf, "jobmanager.memory.process.size", s->job_manager.resource.memory);
  conf_set(b, conf, "taskmanager.memory.process.size", s->task_manager.resource.memory);
  if (s->job_manager.resource.cpu_set)
    conf_set_cpu(b, conf, "kubernetes.jobmanager.cpu.amount", s->job_manager.resource.cpu);
  if (s->task_manager.resource.cpu_set)
    conf_set_cpu(b, conf, "kubernetes.taskmanager.cpu.amount", s->task_manager.resource.cpu);
  conf_set(b, conf, "$internal.pipeline.job-id", in->job_id);
  json_object_object_del(conf, "execution.savepoint.path");
  conf_set(b, conf, "execution.savepoint.path", in->restore_path);
  if (s->job.allow_non_restored_state)
    conf_set(b, conf, "execution.savepoint.ignore-unclaimed-state", "true");
  return conf;
}

json_object *cluster_flink_conf(const struct cluster_input *in) {
  struct b b = {in, 0};
  json_object *conf = flink_conf(&b);
  if (b.oom) {
    json_object_put(conf);
    return NULL;
  }
  return conf;
}

static json_object *config_map(struct b *b, json_object *conf) {
  if (!conf) return NULL;
  struct fo_buf t;
  fo_buf_init(&t, 4u << 20);
  int br = fo_buf_append(&t, "", 0);
  json_object_object_foreach(conf, k, v) {
    const char *s = json_object_get_string(v);
    if (br == 0) br = fo_buf_json_string(&t, k, strlen(k));
    if (br == 0) br = fo_buf_puts(&t, ": ");
    if (br == 0)
      br = fo_buf_json_string(&t, s, strlen(s)); /* JSON strings are YAML: no value is misread */
    if (br == 0) br = fo_buf_putc(&t, '\n');
  }
  json_object *cm = NULL;
  if (br == 0) { /* a configuration file cut short must not be deployed */
    char *cmn = cluster_object_name("flink-config-", b->in->name);
    cm = json_object_new_object();
    fo_json_set(cm, "apiVersion", str("v1"), &b->oom);
    fo_json_set(cm, "kind", str("ConfigMap"), &b->oom);
    fo_json_set(cm, "metadata", cmn ? meta(b, cmn, NULL) : NULL, &b->oom);
    if (!cmn) b->oom = -ENOMEM;
    free(cmn);
    json_object *data = json_object_new_object();
    const char *fv = b->in->spec->flink_version;
    bool v2 = fv && !strncmp(fv, "v2_", 3);
    fo_json_set(data, v2 ? "config.yaml" : "flink-conf.yaml", str(t.data), &b->oom);
    json_object *logc = b->in->spec->log_configuration
                            ? fo_json_get_object(b->in->spec_json, "logConfiguration")
                            : NULL;
    if (logc) {
      json_object_object_foreach(logc, lk, lv) {
        if (lv) fo_json_set(data, lk, json_object_get(lv), &b->oom);
      }
    }
    fo_json_set(cm, "data", data, &b->oom);
  } else {
    b->oom = br;
  }
  fo_buf_free(&t);
  return cm;
}

static json_object *service(struct b *b, const char *name, bool headless) {
  json_object *s = json_object_new_object();
  fo_json_set(s, "apiVersion", str("v1"), &b->oom);
  fo_json_set(s, "kind", str("Service"), &b->oom);
  fo_json_set(s, "metadata", meta(b, name, "jobmanager"), &b->oom);
  json_object *spec = json_object_new_object();
  json_object *sel = json_object_new_object();
  fo_json_set(sel, "app", str(b->in->name), &b->oom);
  fo_json_set(sel, "component", str("jobmanager"), &b->oom);
  fo_json_set(spec, "selector", sel, &b->oom);
  if (headless) fo_json_set(spec, "clusterIP", str("None"), &b->oom);
  else fo_json_set(spec, "type", str("ClusterIP"), &b->oom);
  json_object *ports = json_object_new_array();
  static const char *const names[] = {"rest", "jobmanager-rpc", "blobserver"};
  static const int nums[] = {8081, 6123, 6124};
  for (int i = headless ? 1 : 0; i < (headless ? 3 : 1); i++) {
    json_object *p = json_object_new_object();
    fo_json_set(p, "name", str(names[i]), &b->oom);
    fo_json_set(p, "port", json_object_new_int(nums[i]), &b->oom);
    fo_json_set(p, "targetPort", json_object_new_int(nums[i]), &b->oom);
    fo_json_push(ports, p, &b->oom);
  }
  fo_json_set(spec, "ports", ports, &b->oom);
  fo_json_set(s, "spec", spec, &b->oom);
  return s;
}

/* The container arguments: the entry point of the official image, then the job's. */
static json_object *container_args(struct b *b, const char *component) {
  const struct fo_spec *s = b->in->spec;
  json_object *args = json_object_new_array();
  if (strcmp(component, "jobmanager")) {
    fo_json_push(args, str("taskmanager"), &b->oom);
    return args;
  }
  fo_json_push(args, str(standalone(b) ? "standalone-job" : "kubernetes-application"), &b->oom);
  if (s->job.entry_class) {
    fo_json_push(args, str("--job-classname"), &b->oom);
    fo_json_push(args, str(s->job.entry_class), &b->oom);
  }
  json_object *user =
      s->job.args ? fo_json_path(b->in->spec_json, "job", "args", (const char *)NULL) : NULL;
  size_t n = user ? json_object_array_length(user) : 0;
  for (size_t i = 0; i < n; i++)
    fo_json_push(args, json_object_get(json_object_array_get_idx(user, i)), &b->oom);
  return args;
}

/* flink-main-container in `containers`, made when absent. Borrowed, NULL on ENOMEM. */
static json_object *main_container(struct b *b, json_object *containers) {
  for (size_t i = 0; i < json_object_array_length(containers); i++) {
    json_object *ct = json_object_array_get_idx(containers, i);
    const char *n = fo_json_get_string(ct, "name");
    if (n && !strcmp(n, "flink-main-container")) return ct;
  }
  json_object *m = json_object_new_object();
  fo_json_set(m, "name", str("flink-main-container"), &b->oom);
  return fo_json_push(containers, m, &b->oom) < 0 ? NULL : m;
}

/* The array at `key` of `o`, made when absent. Borrowed, NULL on ENOMEM. */
static json_object *ensure_array(struct b *b, json_object *o, const char *key) {
  json_object *a = fo_json_get_array(o, key);
  if (a) return a;
  a = json_object_new_array();
  return fo_json_set(o, key, a, &b->oom) < 0 ? NULL : a;
}

static json_object *pod_template(struct b *b, const char *component, json_object *component_tmpl) {
  const struct fo_spec *s = b->in->spec;
  json_object *t = NULL;
  json_object *user = s->pod_template ? fo_json_get_object(b->in->spec_json, "podTemplate") : NULL;
  if (user) {
    if (json_object_deep_copy(user, &t, NULL) != 0) t = NULL;
  } else {
    t = json_object_new_object();
  }
  if (!t || !json_object_is_type(t, json_type_object)) {
    json_object_put(t);
    b->oom = -ENOMEM;
    return NULL;
  }
  if (component_tmpl) { /* the component's template over the shared one, member by member */
    json_object_object_foreach(component_tmpl, k, v) {
      json_object *cp = NULL;
      if (v && json_object_deep_copy(v, &cp, NULL) != 0) {
        b->oom = -ENOMEM;
        continue;
      }
      if (cp) fo_json_set(t, k, cp, &b->oom);
      else if (json_object_object_add(t, k, NULL) != 0) b->oom = -ENOMEM; /* null stays null */
    }
  }
  /* from here each step needs the one before: stop at the first failure (b->oom says so) */
  json_object *m = fo_json_ensure_object(t, "metadata");
  json_object *l = m ? fo_json_ensure_object(m, "labels") : NULL;
  json_object *ours = l ? labels(b, component) : NULL;
  if (!ours) {
    b->oom = -ENOMEM;
    return t;
  }
  json_object_object_foreach(ours, lk, lv) fo_json_set(l, lk, json_object_get(lv), &b->oom);
  json_object_put(ours);
  json_object *spec = fo_json_ensure_object(t, "spec");
  json_object *containers = spec && !b->oom ? ensure_array(b, spec, "containers") : NULL;
  json_object *main = containers ? main_container(b, containers) : NULL;
  if (!main) {
    b->oom = -ENOMEM;
    return t;
  }
  if (s->service_account) fo_json_set(spec, "serviceAccountName", str(s->service_account), &b->oom);
  fo_json_set(main, "image", str(s->image ? s->image : "flink:latest"), &b->oom);
  if (s->image_pull_policy)
    fo_json_set(main, "imagePullPolicy", str(s->image_pull_policy), &b->oom);
  fo_json_set(main, "args", container_args(b, component), &b->oom);
  json_object *vm = ensure_array(b, main, "volumeMounts");
  json_object *vols = ensure_array(b, spec, "volumes");
  char *cmn = cluster_object_name("flink-config-", b->in->name);
  if (!vm || !vols || !cmn) {
    free(cmn);
    b->oom = -ENOMEM;
    return t;
  }
  json_object *mnt = json_object_new_object();
  fo_json_set(mnt, "name", str("flink-config-volume"), &b->oom);
  fo_json_set(mnt, "mountPath", str("/opt/flink/conf"), &b->oom);
  fo_json_push(vm, mnt, &b->oom);
  json_object *vol = json_object_new_object(), *cmv = json_object_new_object();
  fo_json_set(vol, "name", str("flink-config-volume"), &b->oom);
  fo_json_set(cmv, "name", str(cmn), &b->oom);
  fo_json_set(vol, "configMap", cmv, &b->oom);
  fo_json_push(vols, vol, &b->oom);
  free(cmn);
  return t;
}

static json_object *deployment(struct b *b, const char *name, const char *component,
                               int64_t replicas, json_object *component_tmpl) {
  json_object *d = json_object_new_object();
  fo_json_set(d, "apiVersion", str("apps/v1"), &b->oom);
  fo_json_set(d, "kind", str("Deployment"), &b->oom);
  json_object *m = meta(b, name, component);
  json_object *ann = json_object_new_object();
  char g[32];
  snprintf(g, sizeof g, "%lld", (long long)b->in->generation);
  fo_json_set(ann, CLUSTER_GEN_ANNOTATION, str(g), &b->oom);
  fo_json_set(m, "annotations", ann, &b->oom);
  fo_json_set(d, "metadata", m, &b->oom);
  json_object *spec = json_object_new_object();
  fo_json_set(spec, "replicas", json_object_new_int64(replicas), &b->oom);
  json_object *sel = json_object_new_object(), *ml = json_object_new_object();
  fo_json_set(ml, "app", str(b->in->name), &b->oom);
  fo_json_set(ml, "component", str(component), &b->oom);
  fo_json_set(sel, "matchLabels", ml, &b->oom);
  fo_json_set(spec, "selector", sel, &b->oom);
  fo_json_set(spec, "template", pod_template(b, component, component_tmpl), &b->oom);
  json_object *strat = json_object_new_object();
  fo_json_set(strat, "type", str("Recreate"), &b->oom);
  fo_json_set(spec, "strategy", strat, &b->oom);
  fo_json_set(d, "spec", spec, &b->oom);
  return d;
}

/* spec.<component>.podTemplate as json-c (the model checked it is an object), or NULL. */
static json_object *component_template(struct b *b, const char *component) {
  return fo_json_get_object(fo_json_get_object(b->in->spec_json, component), "podTemplate");
}

void cluster_objects_free(struct cluster_objects *o) {
  for (size_t i = 0; i < o->n; i++) json_object_put(o->obj[i]);
  o->n = 0;
}

int cluster_build(const struct cluster_input *in, struct cluster_objects *ret) {
  struct b b = {in, 0};
  memset(ret, 0, sizeof *ret);
  json_object *conf = flink_conf(&b);
  char *rest = cluster_object_name(in->name, "-rest"),
       *tm = cluster_object_name(in->name, "-taskmanager");
  if (!rest || !tm) b.oom = -ENOMEM;
  ret->res[ret->n] = &fo_res_configmaps;
  ret->obj[ret->n++] = config_map(&b, conf);
  ret->res[ret->n] = &fo_res_services;
  ret->obj[ret->n++] = rest ? service(&b, rest, false) : NULL;
  ret->res[ret->n] = &fo_res_services;
  ret->obj[ret->n++] = service(&b, in->name, true);
  ret->res[ret->n] = &fo_res_deployments;
  ret->obj[ret->n++] = deployment(&b, in->name, "jobmanager", fo_jm_replicas(in->spec),
                                  component_template(&b, "jobManager"));
  if (standalone(&b)) {
    int64_t reps = in->spec->task_manager.replicas.set ? in->spec->task_manager.replicas.v : 1;
    ret->res[ret->n] = &fo_res_deployments;
    ret->obj[ret->n++] =
        tm ? deployment(&b, tm, "taskmanager", reps, component_template(&b, "taskManager")) : NULL;
  }
  json_object_put(conf);
  free(rest);
  free(tm);
  for (size_t i = 0; i < ret->n; i++)
    if (!ret->obj[i]) b.oom = -ENOMEM;
  if (b.oom) { /* an object built after a failure may lack parts: none is handed out */
    cluster_objects_free(ret);
    return b.oom;
  }
  return 0;
}

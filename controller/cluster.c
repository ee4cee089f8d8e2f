#include "cluster.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "flinkop/buf.h"
#include "flinkop/compres.h"
#include "flinkop/flinkconf.h"
#include "flinkop/ingress.h"
#include "flinkop/podmerge.h"

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

/* The module options Flink needs on Java 17 (as Flink's distribution configures them). */
static const char *const java17_opts =
    "--add-exports=java.base/sun.net.util=ALL-UNNAMED "
    "--add-exports=java.rmi/sun.rmi.registry=ALL-UNNAMED "
    "--add-exports=jdk.compiler/com.sun.tools.javac.api=ALL-UNNAMED "
    "--add-exports=jdk.compiler/com.sun.tools.javac.file=ALL-UNNAMED "
    "--add-exports=jdk.compiler/com.sun.tools.javac.parser=ALL-UNNAMED "
    "--add-exports=jdk.compiler/com.sun.tools.javac.tree=ALL-UNNAMED "
    "--add-exports=jdk.compiler/com.sun.tools.javac.util=ALL-UNNAMED "
    "--add-exports=java.security.jgss/sun.security.krb5=ALL-UNNAMED "
    "--add-opens=java.base/java.lang=ALL-UNNAMED "
    "--add-opens=java.base/java.net=ALL-UNNAMED --add-opens=java.base/java.io=ALL-UNNAMED "
    "--add-opens=java.base/java.nio=ALL-UNNAMED --add-opens=java.base/sun.nio.ch=ALL-UNNAMED "
    "--add-opens=java.base/java.lang.reflect=ALL-UNNAMED "
    "--add-opens=java.base/java.text=ALL-UNNAMED "
    "--add-opens=java.base/java.time=ALL-UNNAMED --add-opens=java.base/java.util=ALL-UNNAMED "
    "--add-opens=java.base/java.util.concurrent=ALL-UNNAMED "
    "--add-opens=java.base/java.util.concurrent.atomic=ALL-UNNAMED "
    "--add-opens=java.base/java.util.concurrent.locks=ALL-UNNAMED";

#define TM_TEMPLATE_FILE "taskmanager-pod-template.yaml"

static json_object *user_template(struct b *b, json_object *component_tmpl);

/* spec.<component>.podTemplate as json-c (the model checked it is an object), or NULL. */
static json_object *component_template(struct b *b, const char *component) {
  return fo_json_get_object(fo_json_get_object(b->in->spec_json, component), "podTemplate");
}

/* Native mode with a pod template for the TaskManagers (spec.podTemplate or the component's):
 * Flink's JobManager reads it from a file (JSON is YAML) in its configuration directory. */
static bool extra_resources(struct b *b, const struct fo_compres *cr, json_object *res);
static json_object *main_container(struct b *b, json_object *containers);
static json_object *ensure_array(struct b *b, json_object *o, const char *key);

/* The component's resources ("jobmanager", "taskmanager"): compres.h. */
static void comp_res(const struct b *b, const char *component, struct fo_compres *out) {
  fo_compres_read(
      !strcmp(component, "jobmanager") ? &b->in->spec->job_manager : &b->in->spec->task_manager,
      out);
}

static bool has_tm_template(struct b *b) {
  struct fo_compres cr;
  comp_res(b, "taskmanager", &cr);
  return !standalone(b) && (b->in->spec->pod_template || component_template(b, "taskManager") ||
                            extra_resources(b, &cr, NULL));
}

/* The minor version of the spec's Flink 1 (model.h). */
static long flink1_minor(const struct b *b) { return fo_flink1_minor(b->in->spec->flink_version); }

/* Flink before 1.19 reads flink-conf.yaml with its own line parser ("key: value", no quoting, '#'
 * starts a comment); 1.19 and later read config.yaml as YAML. */
static bool legacy_conf(const struct b *b) { return flink1_minor(b) < 19; }

/* A port of the configuration (`def` when not set, or 0: a random port, which Flink's Kubernetes
 * client replaces by its fixed default; the rulebook refuses one that is not a port): the same in
 * Flink's configuration, the container's ports, the Services and the Ingress. */
static int conf_port(const struct b *b, const char *key, int def) {
  return (int)fo_conf_whole(b->in->conf, key, 1, 65535, def);
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
  conf_set(b, conf, "execution.target",
           standalone(b)    ? "remote"
           : s->job.present ? "kubernetes-application"
                            : "kubernetes-session");
  conf_set(b, conf, "kubernetes.container.image.ref", s->image);
  /* (Flink before 1.18 reads the image of its TaskManager pods as kubernetes.container.image, and
   * without it pulls apache/flink:<its version>) */
  if (flink1_minor(b) < 18) conf_set(b, conf, "kubernetes.container.image", s->image);
  conf_set(b, conf, "kubernetes.service-account", s->service_account);
  /* Without spec.serviceAccount, the TaskManagers' pod template's (serviceAccountName, or the older
   * serviceAccount: the seed's examples name it there): Flink overwrites a pod's service account
   * with its configuration's, "default" when none, which cannot read the HA ConfigMaps */
  if (!s->service_account && !standalone(b) &&
      !fo_conf_get(conf, "kubernetes.taskmanager.service-account")) {
    json_object *tm = user_template(b, component_template(b, "taskManager"));
    json_object *ps = fo_json_get_object(tm, "spec");
    const char *sa = fo_json_get_string(ps, "serviceAccountName");
    if (!sa || !*sa) sa = fo_json_get_string(ps, "serviceAccount");
    if (sa && *sa) conf_set(b, conf, "kubernetes.taskmanager.service-account", sa);
    json_object_put(tm);
  }
  /* the job's jar: native reads pipeline.jars; a standalone application cluster finds the jar on
   * its classpath (pipeline.classpaths), where local: is file: (as the reference operator does) */
  if (!standalone(b)) {
    conf_set(b, conf, "pipeline.jars", s->job.jar_uri);
  } else if (s->job.jar_uri) {
    const char *u = s->job.jar_uri;
    char *f = NULL;
    if (!strncmp(u, "local:", 6) && (f = malloc(strlen(u) + 1))) {
      snprintf(f, strlen(u) + 1, "file:%s", u + 6);
      u = f;
    } else if (!strncmp(u, "local:", 6)) {
      b->oom = -ENOMEM;
    }
    json_object *cp = json_object_new_array_ext(1);
    fo_json_push(cp, str(u), &b->oom);
    fo_json_set(conf, "pipeline.classpaths", cp, &b->oom);
    free(f);
  }
  /* an application cluster stays when its job ends (the operator observes the end, then decides),
   * and a job whose main method fails is submitted as a failed job so its error can be read */
  if (s->job.present) {
    conf_set(b, conf, "execution.shutdown-on-application-finish", "false");
    if (!fo_conf_get(conf, "execution.submit-failed-job-on-application-error"))
      conf_set(b, conf, "execution.submit-failed-job-on-application-error", "true");
    /* checkpoints outlive a failed or cancelled job, so a job that ended can be brought back */
    if (!fo_conf_get(conf, "execution.checkpointing.externalized-checkpoint-retention"))
      conf_set(b, conf, "execution.checkpointing.externalized-checkpoint-retention",
               "RETAIN_ON_CANCELLATION");
  }
  int64_t par = s->job.present ? cluster_parallelism(s, in->conf) : 0;
  if (par > 0) { /* (taskManager.replicas times the slots when given) */
    char t[32];
    snprintf(t, sizeof t, "%lld", (long long)par);
    conf_set(b, conf, "parallelism.default", t);
  }
  /* the process memory and CPU from spec.<component>.resources, else .resource (compres.h), as
   * Flink reads them (a Kubernetes quantity such as 2Gi as bytes); limit factors from the
   * ResourceRequirements' limits. Flink before 1.18 knows the CPU as kubernetes.<component>.cpu
   * (no ".amount"): without that key Flink 1.14 gave each TaskManager pod as many cores as it has
   * slots */
  bool old_cpu_keys = flink1_minor(b) < 18;
  static const char *const comps[] = {"jobmanager", "taskmanager"};
  for (size_t i = 0; i < 2; i++) {
    struct fo_compres cr;
    comp_res(b, comps[i], &cr);
    char key[80];
    snprintf(key, sizeof key, "%s.memory.process.size", comps[i]);
    if (cr.memory_set) conf_set(b, conf, key, cr.memory);
    snprintf(key, sizeof key, "kubernetes.%s.cpu.amount", comps[i]);
    if (cr.cpu_set) conf_set_cpu(b, conf, key, cr.cpu);
    snprintf(key, sizeof key, "kubernetes.%s.cpu", comps[i]);
    if (cr.cpu_set && old_cpu_keys) conf_set_cpu(b, conf, key, cr.cpu);
    snprintf(key, sizeof key, "kubernetes.%s.cpu.limit-factor", comps[i]);
    if (cr.cpu_factor_set) conf_set_cpu(b, conf, key, cr.cpu_factor);
    snprintf(key, sizeof key, "kubernetes.%s.memory.limit-factor", comps[i]);
    if (cr.memory_factor_set) conf_set_cpu(b, conf, key, cr.memory_factor);
  }
  conf_set(b, conf, "$internal.pipeline.job-id", in->job_id);
  json_object_object_del(conf, "execution.savepoint.path");
  conf_set(b, conf, "execution.savepoint.path", in->restore_path);
  conf_set(b, conf, "kubernetes.container.image.pull-policy", s->image_pull_policy);
  /* the addresses and ports the Services publish; without HA the JobManager is found through the
   * headless Service (with HA, Flink advertises the pod's IP itself) */
  size_t fqn = strlen(in->name) + strlen(in->ns) + 2;
  char *fq = malloc(fqn);
  if (fq) snprintf(fq, fqn, "%s.%s", in->name, in->ns);
  else b->oom = -ENOMEM;
  if (fq && !fo_conf_ha_enabled(conf) && !fo_conf_get(conf, "jobmanager.rpc.address"))
    conf_set(b, conf, "jobmanager.rpc.address", fq);
  free(fq);
  /* Java 17 needs these module options, which the Flink distribution's own configuration carries
   * and this ConfigMap replaces: the default JVM options (1.19+, for administrators, beneath the
   * user's env.java.opts.all) or, before 1.19, env.java.opts.all unless the user set it */
  const char *jkey = legacy_conf(b) ? "env.java.opts.all" : "env.java.default-opts.all";
  if (!fo_conf_get(conf, jkey)) conf_set(b, conf, jkey, java17_opts);
  static const struct {
    const char *key;
    int def;
  } ports[] = {{"jobmanager.rpc.port", CLUSTER_RPC_PORT},
               {"blob.server.port", CLUSTER_BLOB_PORT},
               {"taskmanager.rpc.port", CLUSTER_TM_RPC_PORT},
               {"rest.port", CLUSTER_REST_PORT}};
  char v[16];
  for (size_t i = 0; i < sizeof ports / sizeof ports[0]; i++) {
    snprintf(v, sizeof v, "%d", conf_port(b, ports[i].key, ports[i].def));
    conf_set(b, conf, ports[i].key, v);
  }
  /* with HA the JobManager's RPC port is this one (Flink's default, 0, a random one), which Flink's
   * client sets to the RPC port: the Service and the container expose that one */
  if (fo_conf_ha_enabled(conf)) {
    snprintf(v, sizeof v, "%d",
             conf_port(b, "high-availability.jobmanager.port",
                       conf_port(b, "jobmanager.rpc.port", CLUSTER_RPC_PORT)));
    conf_set(b, conf, "high-availability.jobmanager.port", v);
  }
  if (has_tm_template(b))
    conf_set(b, conf, "kubernetes.pod-template-file.taskmanager",
             "/opt/flink/conf/" TM_TEMPLATE_FILE);
  if (!standalone(b)) { /* application mode reads the job's entry point and arguments here */
    conf_set(b, conf, "$internal.application.main", s->job.entry_class);
    json_object *args =
        s->job.args ? fo_json_path(in->spec_json, "job", "args", (const char *)NULL) : NULL;
    if (args && json_object_array_length(args))
      fo_json_set(conf, "$internal.application.program-args", json_object_get(args), &b->oom);
  }
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

/* One "key: value" line of flink-conf.yaml as Flink < 1.19 parses it: the value as it is, a list
 * as ';'-separated items quoted with ' ('' inside). A line break or '#' cannot be written there:
 * -EINVAL (the rulebook refuses such a configuration first). */
static int legacy_line(struct fo_buf *t, const char *k, json_object *v) {
  int br = fo_buf_printf(t, "%s: ", k);
  if (strpbrk(k, "\n\r#")) return -EINVAL;
  if (json_object_is_type(v, json_type_array)) {
    for (size_t i = 0; br == 0 && i < json_object_array_length(v); i++) {
      const char *item = json_object_get_string(json_object_array_get_idx(v, i));
      if (strpbrk(item, "\n\r#")) return -EINVAL;
      br = fo_buf_puts(t, i ? ";'" : "'");
      for (const char *c = item; br == 0 && *c; c++)
        br = *c == '\'' ? fo_buf_puts(t, "''") : fo_buf_putc(t, *c);
      if (br == 0) br = fo_buf_putc(t, '\'');
    }
  } else {
    const char *val = json_object_get_string(v);
    if (strpbrk(val, "\n\r#")) return -EINVAL;
    if (br == 0) br = fo_buf_puts(t, val);
  }
  return br == 0 ? fo_buf_putc(t, '\n') : br;
}

/* One line of config.yaml: the key and the value as JSON (a JSON string is a YAML string, a list a
 * YAML flow sequence), so no value is misread and none adds a key. */
static int yaml_line(struct fo_buf *t, const char *k, json_object *v) {
  int br = fo_buf_json_string(t, k, strlen(k));
  if (br == 0) br = fo_buf_puts(t, ": ");
  if (br == 0 && json_object_is_type(v, json_type_array)) {
    br = fo_buf_putc(t, '[');
    for (size_t i = 0; br == 0 && i < json_object_array_length(v); i++) {
      const char *item = json_object_get_string(json_object_array_get_idx(v, i));
      if (i) br = fo_buf_puts(t, ", ");
      if (br == 0) br = fo_buf_json_string(t, item, strlen(item));
    }
    if (br == 0) br = fo_buf_putc(t, ']');
  } else if (br == 0) {
    const char *val = json_object_get_string(v);
    br = fo_buf_json_string(t, val, strlen(val));
  }
  return br == 0 ? fo_buf_putc(t, '\n') : br;
}

/* The logging configuration when the spec gives none: INFO to the console, which kubectl logs
 * shows (Flink's scripts use log4j-console.properties in the foreground). */
static const char *const default_log4j =
    "rootLogger.level = INFO\n"
    "rootLogger.appenderRef.console.ref = ConsoleAppender\n"
    "logger.pekko.name = org.apache.pekko\n"
    "logger.pekko.level = WARN\n"
    "logger.zookeeper.name = org.apache.zookeeper\n"
    "logger.zookeeper.level = WARN\n"
    "appender.console.name = ConsoleAppender\n"
    "appender.console.type = CONSOLE\n"
    "appender.console.layout.type = PatternLayout\n"
    "appender.console.layout.pattern = %d{yyyy-MM-dd HH:mm:ss,SSS} %-5p %-60c %x - %m%n\n";

static json_object *config_map(struct b *b, json_object *conf) {
  if (!conf) return NULL;
  bool legacy = legacy_conf(b);
  struct fo_buf t;
  fo_buf_init(&t, 4u << 20);
  int br = fo_buf_append(&t, "", 0);
  json_object_object_foreach(conf, k, v) {
    if (br == 0) br = legacy ? legacy_line(&t, k, v) : yaml_line(&t, k, v);
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
    fo_json_set(data, legacy ? "flink-conf.yaml" : "config.yaml", str(t.data), &b->oom);
    json_object *logc = b->in->spec->log_configuration
                            ? fo_json_get_object(b->in->spec_json, "logConfiguration")
                            : NULL;
    if (logc) {
      json_object_object_foreach(logc, lk, lv) {
        if (lv) fo_json_set(data, lk, json_object_get(lv), &b->oom);
      }
    }
    if (has_tm_template(b)) { /* native: Flink's JobManager makes its TaskManager pods from it */
      json_object *tm = user_template(b, component_template(b, "taskManager"));
      struct fo_compres cr;
      comp_res(b, "taskmanager", &cr);
      if (tm && extra_resources(b, &cr, NULL)) { /* (CPU and memory reach Flink as options) */
        json_object *sp = fo_json_ensure_object(tm, "spec");
        json_object *cs = sp ? ensure_array(b, sp, "containers") : NULL;
        json_object *mc = cs ? main_container(b, cs) : NULL;
        json_object *res = mc ? fo_json_ensure_object(mc, "resources") : NULL;
        if (res) extra_resources(b, &cr, res);
        else b->oom = -ENOMEM;
      }
      char *text = tm ? fo_json_dumps(tm) : NULL;
      if (text) fo_json_set(data, TM_TEMPLATE_FILE, str(text), &b->oom);
      else if (tm) b->oom = -ENOMEM; /* without tm, user_template said why */
      free(text);
      json_object_put(tm);
    }
    if (!fo_json_get(data, "log4j-console.properties") && !fo_json_get(data, "logback-console.xml"))
      fo_json_set(data, "log4j-console.properties", str(default_log4j), &b->oom);
    fo_json_set(cm, "data", data, &b->oom);
  } else {
    b->oom = br;
  }
  fo_buf_free(&t);
  return cm;
}

static void conf_map_into(struct b *b, json_object *o, const char *into, const char *key);

static json_object *service(struct b *b, const char *name, bool headless) {
  json_object *s = json_object_new_object();
  fo_json_set(s, "apiVersion", str("v1"), &b->oom);
  fo_json_set(s, "kind", str("Service"), &b->oom);
  json_object *m = meta(b, name, "jobmanager");
  if (!headless) /* the REST Service's annotations, as Flink's decorator adds them */
    conf_map_into(b, m, "annotations", "kubernetes.rest-service.annotations");
  fo_json_set(s, "metadata", m, &b->oom);
  json_object *spec = json_object_new_object();
  json_object *sel = json_object_new_object();
  fo_json_set(sel, "app", str(b->in->name), &b->oom);
  fo_json_set(sel, "component", str("jobmanager"), &b->oom);
  fo_json_set(spec, "selector", sel, &b->oom);
  /* the REST Service as kubernetes.rest-service.exposed.type says (Flink's default ClusterIP) */
  const char *type =
      headless
          ? "Headless_ClusterIP"
          : fo_rest_service_type(fo_conf_get(b->in->conf, "kubernetes.rest-service.exposed.type"));
  if (!type) type = "ClusterIP";
  if (!strcmp(type, "Headless_ClusterIP")) fo_json_set(spec, "clusterIP", str("None"), &b->oom);
  else fo_json_set(spec, "type", str(type), &b->oom);
  json_object *ports = json_object_new_array();
  static const char *const names[] = {"rest", "jobmanager-rpc", "blobserver"};
  const int nums[] = {conf_port(b, "rest.port", CLUSTER_REST_PORT),
                      conf_port(b, "jobmanager.rpc.port", CLUSTER_RPC_PORT),
                      conf_port(b, "blob.server.port", CLUSTER_BLOB_PORT)};
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

bool cluster_ingress_managed(json_object *conf) {
  const char *v = fo_conf_get(conf, "kubernetes.operator.ingress.manage");
  return !v || strcasecmp(v, "false");
}

/* A string-to-string map of spec.ingress (labels, annotations) into `to`, whose members win. */
static void string_map(struct b *b, json_object *to, json_object *from) {
  if (!json_object_is_type(from, json_type_object)) return;
  json_object_object_foreach(from, k, v) {
    if (json_object_is_type(v, json_type_string) && !fo_json_get(to, k))
      fo_json_set(to, k, json_object_get(v), &b->oom);
  }
}

/* The Ingress of spec.ingress, as the reference builds it: one rule to `<name>-rest` on the REST
 * port, its host and path from the template (pathType ImplementationSpecific), the class, the TLS
 * entries, the user's annotations, the user's labels under the operator's (component=ingress).
 * NULL (b->oom -EINVAL) for a template the rulebook refuses. */
static json_object *ingress(struct b *b, json_object *spec_ing, const char *rest) {
  const char *tmpl = fo_json_get_string(spec_ing, "template");
  struct fo_ingress_url u;
  char why[600];
  int r = tmpl ? fo_ingress_render(tmpl, b->in->name, b->in->ns, &u, why, sizeof why) : -EINVAL;
  if (r < 0) {
    b->oom = r == -ENOMEM ? r : -EINVAL;
    return NULL;
  }
  json_object *o = json_object_new_object();
  fo_json_set(o, "apiVersion", str("networking.k8s.io/v1"), &b->oom);
  fo_json_set(o, "kind", str("Ingress"), &b->oom);
  json_object *m = meta(b, b->in->name, "ingress");
  string_map(b, fo_json_get_object(m, "labels"), fo_json_get_object(spec_ing, "labels"));
  json_object *ann = json_object_new_object();
  string_map(b, ann, fo_json_get_object(spec_ing, "annotations"));
  if (json_object_object_length(ann)) fo_json_set(m, "annotations", ann, &b->oom);
  else json_object_put(ann);
  fo_json_set(o, "metadata", m, &b->oom);
  json_object *spec = json_object_new_object();
  const char *cls = fo_json_get_string(spec_ing, "className");
  if (cls) fo_json_set(spec, "ingressClassName", str(cls), &b->oom);
  json_object *port = json_object_new_object(), *svc = json_object_new_object(),
              *backend = json_object_new_object(), *path = json_object_new_object(),
              *paths = json_object_new_array(), *http = json_object_new_object(),
              *rule = json_object_new_object(), *rules = json_object_new_array();
  fo_json_set(port, "number", json_object_new_int(conf_port(b, "rest.port", CLUSTER_REST_PORT)),
              &b->oom);
  fo_json_set(svc, "name", str(rest), &b->oom);
  fo_json_set(svc, "port", port, &b->oom);
  fo_json_set(backend, "service", svc, &b->oom);
  if (u.path) fo_json_set(path, "path", str(u.path), &b->oom);
  fo_json_set(path, "pathType", str("ImplementationSpecific"), &b->oom);
  fo_json_set(path, "backend", backend, &b->oom);
  fo_json_push(paths, path, &b->oom);
  fo_json_set(http, "paths", paths, &b->oom);
  if (u.host) fo_json_set(rule, "host", str(u.host), &b->oom);
  fo_json_set(rule, "http", http, &b->oom);
  fo_json_push(rules, rule, &b->oom);
  fo_json_set(spec, "rules", rules, &b->oom);
  json_object *tls = fo_json_get(spec_ing, "tls");
  if (json_object_is_type(tls, json_type_array) && json_object_array_length(tls)) {
    json_object *copy = NULL;
    if (json_object_deep_copy(tls, &copy, NULL) != 0) b->oom = -ENOMEM;
    else fo_json_set(spec, "tls", copy, &b->oom);
  }
  fo_json_set(o, "spec", spec, &b->oom);
  fo_ingress_url_free(&u);
  return o;
}

/* The JobManager's and TaskManager's command line, as the Flink image's entry point
 * (/docker-entrypoint.sh) takes it:
 *   native      bash -c "kubernetes-jobmanager.sh kubernetes-application", as Flink's own
 *               CmdJobManagerDecorator gives it (a fixed text: the job's entry point and arguments
 *               go through the configuration, never a shell); a session cluster (no job):
 *               "kubernetes-jobmanager.sh kubernetes-session"; Flink starts its TaskManagers
 *   standalone  standalone-job [--job-classname C] [--allowNonRestoredState] [--fromSavepoint P]
 *               [-D jobmanager.rpc.address=$(_POD_IP_ADDRESS) with HA] ARGS..., as the reference
 *               operator's standalone decorator gives it; a session cluster: jobmanager [-D ...
 *               with HA] (the image's session JobManager); the TaskManagers: taskmanager */
static json_object *container_args(struct b *b, const char *component) {
  const struct fo_spec *s = b->in->spec;
  json_object *args = json_object_new_array();
  if (strcmp(component, "jobmanager")) {
    fo_json_push(args, str("taskmanager"), &b->oom);
    return args;
  }
  if (!standalone(b)) {
    fo_json_push(args, str("bash"), &b->oom);
    fo_json_push(args, str("-c"), &b->oom);
    /* CmdJobManagerDecorator's text: the script, the target, kubernetes.jobmanager.entrypoint.args
     */
    const char *extra =
        b->in->conf ? fo_conf_get(b->in->conf, "kubernetes.jobmanager.entrypoint.args") : NULL;
    struct fo_buf line;
    fo_buf_init(&line, (extra ? strlen(extra) : 0) + 64);
    if (fo_buf_printf(&line, "kubernetes-jobmanager.sh %s%s%s",
                      s->job.present ? "kubernetes-application" : "kubernetes-session",
                      extra && *extra ? " " : "", extra ? extra : "") < 0)
      b->oom = -ENOMEM;
    else fo_json_push(args, json_object_new_string_len(line.data, (int)line.len), &b->oom);
    fo_buf_free(&line);
    return args;
  }
  if (!s->job.present) {
    fo_json_push(args, str("jobmanager"), &b->oom);
    if (fo_conf_ha_enabled(b->in->conf)) {
      fo_json_push(args, str("-D"), &b->oom);
      fo_json_push(args, str("jobmanager.rpc.address=$(_POD_IP_ADDRESS)"), &b->oom);
    }
    return args;
  }
  fo_json_push(args, str("standalone-job"), &b->oom);
  if (s->job.entry_class) {
    fo_json_push(args, str("--job-classname"), &b->oom);
    fo_json_push(args, str(s->job.entry_class), &b->oom);
  }
  if (s->job.allow_non_restored_state) fo_json_push(args, str("--allowNonRestoredState"), &b->oom);
  if (b->in
          ->restore_path) { /* as the reference operator passes it (the configuration has it too) */
    fo_json_push(args, str("--fromSavepoint"), &b->oom);
    fo_json_push(args, str(b->in->restore_path), &b->oom);
  }
  if (fo_conf_ha_enabled(b->in->conf)) {
    fo_json_push(args, str("-D"), &b->oom);
    fo_json_push(args, str("jobmanager.rpc.address=$(_POD_IP_ADDRESS)"), &b->oom);
  }
  json_object *user =
      s->job.args ? fo_json_path(b->in->spec_json, "job", "args", (const char *)NULL) : NULL;
  size_t n = user ? json_object_array_length(user) : 0;
  for (size_t i = 0; i < n; i++)
    fo_json_push(args, json_object_get(json_object_array_get_idx(user, i)), &b->oom);
  return args;
}

/* {"name": n, "containerPort": p, "protocol": "TCP"} appended to `ports`. */
static void port(struct b *b, json_object *ports, const char *name, int p) {
  json_object *o = json_object_new_object();
  fo_json_set(o, "name", str(name), &b->oom);
  fo_json_set(o, "containerPort", json_object_new_int(p), &b->oom);
  fo_json_set(o, "protocol", str("TCP"), &b->oom);
  fo_json_push(ports, o, &b->oom);
}

/* A limit factor of the configuration (kubernetes.<component>.<what>.limit-factor); 1 when not
 * set or not one (the rulebook refuses those). */
static double limit_factor(struct b *b, const char *component, const char *what) {
  char key[96];
  snprintf(key, sizeof key, "kubernetes.%s.%s.limit-factor", component, what);
  double f;
  fo_limit_factor_parse(b->in->conf ? fo_conf_get(b->in->conf, key) : NULL, &f);
  return f;
}

/* Requests and limits as Flink's decorators set them: the process memory (a Flink size such as
 * 2048m, written as MiB) and the CPU, the limits those times the component's limit factors
 * (kubernetes.jobmanager.cpu.limit-factor, ...memory.limit-factor; 1 by default). */
static json_object *resources(struct b *b, const char *component) {
  struct fo_compres cr;
  comp_res(b, component, &cr);
  json_object *res = json_object_new_object(), *q = json_object_new_object();
  json_object *lim = json_object_new_object();
  if (cr.memory_set && cr.memory_bytes) {
    char m[32];
    unsigned long long mib = (cr.memory_bytes + (1u << 20) - 1) >> 20;
    double f = cr.memory_factor_set ? cr.memory_factor : limit_factor(b, component, "memory");
    snprintf(m, sizeof m, "%lluMi", mib);
    fo_json_set(q, "memory", str(m), &b->oom);
    snprintf(m, sizeof m, "%lluMi", (unsigned long long)((double)mib * f));
    fo_json_set(lim, "memory", str(m), &b->oom);
  }
  if (cr.cpu_set) {
    char c[32];
    double f = cr.cpu_factor_set ? cr.cpu_factor : limit_factor(b, component, "cpu");
    snprintf(c, sizeof c, "%g", cr.cpu);
    fo_json_set(q, "cpu", str(c), &b->oom);
    snprintf(c, sizeof c, "%g", cr.cpu * f);
    fo_json_set(lim, "cpu", str(c), &b->oom);
  }
  fo_json_set(res, "requests", q, &b->oom);
  fo_json_set(res, "limits", lim, &b->oom);
  extra_resources(b, &cr, res);
  return res;
}

/* What the main container asks for besides CPU and memory (those reach Flink as options): the
 * ResourceRequirements' other requests and limits as written, or the older resource's
 * ephemeralStorage as both, as the reference puts them in the pod template. Set into `res`
 * ({requests, limits}) when given; true when there is any. */
/* Sets `key` to `val` in res[part], made when absent. */
static void set_part(struct b *b, json_object *res, const char *part, const char *key,
                     const char *val) {
  json_object *dst = fo_json_ensure_object(res, part);
  if (dst) fo_json_set(dst, key, str(val), &b->oom);
  else b->oom = -ENOMEM;
}

static bool extra_resources(struct b *b, const struct fo_compres *cr, json_object *res) {
  bool any = false;
  static const char *const parts[] = {"requests", "limits"};
  for (size_t i = 0; i < 2; i++) {
    const struct fo_jv *m = i ? cr->limits : cr->requests;
    for (uint32_t k = 0; fo_jv_is(m, FO_JOBJECT) && k < m->n; k++) {
      const char *key = m->u.members[k].key;
      const struct fo_jv *v = &m->u.members[k].v;
      char num[48];
      const char *val = NULL;
      if (v->type == FO_JSTRING) {
        val = v->u.s;
      } else if (v->type == FO_JINT || v->type == FO_JDOUBLE) {
        snprintf(num, sizeof num, "%.17g", fo_jv_number(v));
        val = num;
      }
      if (!val || !strcmp(key, "cpu") || !strcmp(key, "memory")) continue;
      any = true;
      if (res) set_part(b, res, parts[i], key, val);
    }
    if (cr->ephemeral_storage) {
      any = true;
      if (res) set_part(b, res, parts[i], "ephemeral-storage", cr->ephemeral_storage);
    }
  }
  return any;
}

/* The pod's IP as _POD_IP_ADDRESS, which Flink reads (and the -D above refers to). */
static json_object *pod_ip_env(struct b *b) {
  json_object *e = json_object_new_object(), *from = json_object_new_object(),
              *ref = json_object_new_object();
  fo_json_set(e, "name", str("_POD_IP_ADDRESS"), &b->oom);
  fo_json_set(ref, "apiVersion", str("v1"), &b->oom);
  fo_json_set(ref, "fieldPath", str("status.podIP"), &b->oom);
  fo_json_set(from, "fieldRef", ref, &b->oom);
  fo_json_set(e, "valueFrom", from, &b->oom);
  return e;
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

/* Arrays in pod templates merge by name: the configuration's FO_PODMERGE_BY_NAME_KEY is "true"
 * in any case, as Flink reads a boolean option (anything else leaves the default, by position). */
static bool merge_by_name(const struct b *b) {
  return fo_conf_bool(b->in->conf, FO_PODMERGE_BY_NAME_KEY, false);
}

/* The user's pod template for a component: the component's merged over spec.podTemplate as the
 * reference operator merges them (podmerge.h). A new object ({} when neither is given), NULL on
 * failure (b->oom says which). */
static json_object *user_template(struct b *b, json_object *component_tmpl) {
  json_object *shared =
      b->in->spec->pod_template ? fo_json_get_object(b->in->spec_json, "podTemplate") : NULL;
  json_object *t = NULL;
  int r = fo_podmerge(shared, component_tmpl, merge_by_name(b), &t);
  if (r) {
    b->oom = r;
    return NULL;
  }
  return t;
}

/* The main container mounts something at or under /opt/flink/usrlib already (the user's). */
static bool mounts_usrlib(json_object *main) {
  json_object *vm = fo_json_get_array(main, "volumeMounts");
  size_t n = vm ? json_object_array_length(vm) : 0;
  for (size_t i = 0; i < n; i++) {
    const char *p = fo_json_get_string(json_object_array_get_idx(vm, i), "mountPath");
    if (p && !strncmp(p, "/opt/flink/usrlib", 17)) return true;
  }
  return false;
}

/* A map option of the configuration (kubernetes.<component>.labels, ...) merged into `into`
 * (made when absent), entries overwriting. A malformed option adds nothing (the rulebook refuses
 * it). */
static void conf_map_into(struct b *b, json_object *o, const char *into, const char *key) {
  const char *v = b->in->conf ? fo_conf_get(b->in->conf, key) : NULL;
  json_object *m = NULL;
  const char *why;
  if (!v || fo_conf_map_parse(v, false, &m, &why) < 0) return;
  json_object *dst = json_object_object_length(m) ? fo_json_ensure_object(o, into) : NULL;
  if (dst) {
    json_object_object_foreach(m, k, mv) fo_json_set(dst, k, json_object_get(mv), &b->oom);
  }
  json_object_put(m);
}

/* What Flink's own decorators (InitJobManagerDecorator, InitTaskManagerDecorator) merge into the
 * pods Flink makes, for the pods the operator makes: the component's labels (before the
 * operator's own, which win), annotations, node selector and tolerations from
 * kubernetes.<component>.*, the image pull secrets of kubernetes.container.image.pull-secrets,
 * and the main container's environment from containerized.master.env.* (the JobManager) or
 * containerized.taskmanager.env.*. Appended to what the pod template has, as Flink does. */
static void flink_pod_options(struct b *b, const char *component, json_object *t, json_object *spec,
                              json_object *main) {
  json_object *conf = b->in->conf;
  if (!conf) return;
  char key[96];
  json_object *md = fo_json_get_object(t, "metadata");
  snprintf(key, sizeof key, "kubernetes.%s.annotations", component);
  conf_map_into(b, md, "annotations", key);
  snprintf(key, sizeof key, "kubernetes.%s.node-selector", component);
  conf_map_into(b, spec, "nodeSelector", key);
  snprintf(key, sizeof key, "kubernetes.%s.tolerations", component);
  const char *v = fo_conf_get(conf, key), *why;
  json_object *tols = NULL;
  if (v && fo_conf_map_parse(v, true, &tols, &why) == 0 && json_object_array_length(tols)) {
    json_object *dst = ensure_array(b, spec, "tolerations");
    for (size_t i = 0; dst && i < json_object_array_length(tols); i++) {
      json_object *tol = json_object_get(json_object_array_get_idx(tols, i));
      const char *secs = fo_json_get_string(tol, "tolerationSeconds");
      char *end = NULL;
      long long n = secs ? strtoll(secs, &end, 10) : 0;
      if (secs && end != secs && !*end) /* a number in the API */
        fo_json_set(tol, "tolerationSeconds", json_object_new_int64(n), &b->oom);
      fo_json_push(dst, tol, &b->oom);
    }
  }
  json_object_put(tols);
  const char *ps = fo_conf_get(conf, "kubernetes.container.image.pull-secrets");
  for (const char *p = ps; p && *p;) {
    size_t n = strcspn(p, ";");
    const char *q = p + n;
    while (n && (*p == ' ' || *p == '\t')) p++, n--;
    while (n && (p[n - 1] == ' ' || p[n - 1] == '\t')) n--;
    json_object *sec = NULL, *arr = n ? ensure_array(b, spec, "imagePullSecrets") : NULL;
    if (arr && (sec = json_object_new_object())) {
      fo_json_set(sec, "name", json_object_new_string_len(p, (int)n), &b->oom);
      fo_json_push(arr, sec, &b->oom);
    }
    p = *q ? q + 1 : q;
  }
  /* kubernetes.secrets ("name:/path,...") mounted as MountSecretsDecorator mounts them, and
   * kubernetes.env.secretKeyRef ("env:E,secret:S,key:K;...") in the environment as
   * EnvSecretsDecorator puts them (the rulebook refuses what Flink could not read) */
  json_object *secrets = NULL;
  v = fo_conf_get(conf, "kubernetes.secrets");
  if (v && fo_conf_map_parse(v, false, &secrets, &why) == 0 && json_object_object_length(secrets)) {
    json_object *vols = ensure_array(b, spec, "volumes"),
                *mounts = ensure_array(b, main, "volumeMounts");
    json_object_object_foreach(secrets, sn, sp) {
      char vol[320];
      snprintf(vol, sizeof vol, "%.300s-volume", sn);
      json_object *vo = json_object_new_object(), *so = json_object_new_object(),
                  *mo = json_object_new_object();
      fo_json_set(so, "secretName", str(sn), &b->oom);
      fo_json_set(vo, "name", str(vol), &b->oom);
      fo_json_set(vo, "secret", so, &b->oom);
      fo_json_push(vols, vo, &b->oom);
      fo_json_set(mo, "name", str(vol), &b->oom);
      fo_json_set(mo, "mountPath", json_object_get(sp), &b->oom);
      fo_json_push(mounts, mo, &b->oom);
    }
  }
  json_object_put(secrets);
  json_object *refs = NULL;
  v = fo_conf_get(conf, "kubernetes.env.secretKeyRef");
  json_object *env_arr = fo_json_get_array(main, "env");
  if (v && env_arr && fo_conf_map_parse(v, true, &refs, &why) == 0) {
    for (size_t i = 0; i < json_object_array_length(refs); i++) {
      json_object *r = json_object_array_get_idx(refs, i);
      const char *en = fo_json_get_string(r, "env"), *sn = fo_json_get_string(r, "secret"),
                 *sk = fo_json_get_string(r, "key");
      if (!en || !sn || !sk) continue;
      json_object *e = json_object_new_object(), *from = json_object_new_object(),
                  *ref = json_object_new_object();
      fo_json_set(ref, "name", str(sn), &b->oom);
      fo_json_set(ref, "key", str(sk), &b->oom);
      fo_json_set(from, "secretKeyRef", ref, &b->oom);
      fo_json_set(e, "name", str(en), &b->oom);
      fo_json_set(e, "valueFrom", from, &b->oom);
      fo_json_push(env_arr, e, &b->oom);
    }
  }
  json_object_put(refs);
  const char *prefix = !strcmp(component, "jobmanager") ? "containerized.master.env."
                                                        : "containerized.taskmanager.env.";
  size_t pl = strlen(prefix);
  json_object *env = fo_json_get_array(main, "env");
  json_object_object_foreach(conf, ck, cv) {
    if (strncmp(ck, prefix, pl) || !ck[pl] || !env) continue;
    json_object *e = json_object_new_object();
    fo_json_set(e, "name", str(ck + pl), &b->oom);
    fo_json_set(e, "value", json_object_get(cv), &b->oom);
    fo_json_push(env, e, &b->oom);
  }
}

static bool host_network(const struct b *b) {
  return b->in->conf && fo_conf_bool(b->in->conf, "kubernetes.hostnetwork.enabled", false);
}

/* The options Flink's decorators apply to the pods it makes, on the pods the operator makes (the
 * JobManager's; in standalone mode the TaskManagers' too, as the reference's standalone factory
 * makes them; a native cluster's TaskManagers get them from Flink itself):
 *   kubernetes.hostnetwork.enabled           the JobManager in the node's network: hostNetwork,
 *                                            dnsPolicy ClusterFirstWithHostNet unless the pod
 *                                            template has one (InitJobManagerDecorator)
 *   kubernetes.flink.log.dir                 FLINK_LOG_DIR in the environment (Init*Decorator)
 *   kubernetes.hadoop.conf.config-map.name   that ConfigMap at /opt/hadoop/conf, HADOOP_CONF_DIR
 *                                            pointing there (HadoopConfMountDecorator; unless
 *                                            kubernetes.decorator.hadoop-conf-mount.enabled is
 *                                            false) */
static void flink_pod_extras(struct b *b, bool jm, json_object *spec, json_object *main) {
  json_object *conf = b->in->conf;
  if (!conf || (!jm && !standalone(b))) return;
  if (jm && host_network(b)) {
    fo_json_set(spec, "hostNetwork", json_object_new_boolean(1), &b->oom);
    if (!fo_json_get_string(spec, "dnsPolicy"))
      fo_json_set(spec, "dnsPolicy", str("ClusterFirstWithHostNet"), &b->oom);
  }
  json_object *env = fo_json_get_array(main, "env");
  const char *log_dir = fo_conf_get(conf, "kubernetes.flink.log.dir");
  if (log_dir && env) {
    json_object *e = json_object_new_object();
    fo_json_set(e, "name", str("FLINK_LOG_DIR"), &b->oom);
    fo_json_set(e, "value", str(log_dir), &b->oom);
    fo_json_push(env, e, &b->oom);
  }
  const char *hadoop = fo_conf_get(conf, "kubernetes.hadoop.conf.config-map.name");
  if (hadoop && *hadoop &&
      fo_conf_bool(conf, "kubernetes.decorator.hadoop-conf-mount.enabled", true)) {
    json_object *vols = ensure_array(b, spec, "volumes"),
                *mounts = ensure_array(b, main, "volumeMounts");
    if (!vols || !mounts || !env) return;
    json_object *vo = json_object_new_object(), *cm = json_object_new_object(),
                *mo = json_object_new_object(), *e = json_object_new_object();
    fo_json_set(cm, "name", str(hadoop), &b->oom);
    fo_json_set(vo, "name", str("hadoop-config-volume"), &b->oom);
    fo_json_set(vo, "configMap", cm, &b->oom);
    fo_json_push(vols, vo, &b->oom);
    fo_json_set(mo, "name", str("hadoop-config-volume"), &b->oom);
    fo_json_set(mo, "mountPath", str("/opt/hadoop/conf"), &b->oom);
    fo_json_push(mounts, mo, &b->oom);
    fo_json_set(e, "name", str("HADOOP_CONF_DIR"), &b->oom);
    fo_json_set(e, "value", str("/opt/hadoop/conf"), &b->oom);
    fo_json_push(env, e, &b->oom);
  }
}

/* The template's ports without those named or numbered as one of `ours` (which replace them). */
static json_object *ports_merged(struct b *b, json_object *main, json_object *ours) {
  json_object *res = json_object_new_array(), *have = fo_json_get_array(main, "ports");
  for (size_t i = 0; res && have && i < json_object_array_length(have); i++) {
    json_object *p = json_object_array_get_idx(have, i);
    const char *n = fo_json_get_string(p, "name");
    int64_t num = -1;
    fo_json_as_int64(fo_json_get(p, "containerPort"), &num);
    bool dup = false;
    for (size_t j = 0; j < json_object_array_length(ours); j++) {
      json_object *o = json_object_array_get_idx(ours, j);
      int64_t on = -2;
      fo_json_as_int64(fo_json_get(o, "containerPort"), &on);
      const char *oname = fo_json_get_string(o, "name");
      if ((n && oname && !strcmp(n, oname)) || num == on) dup = true;
    }
    if (!dup) fo_json_push(res, json_object_get(p), &b->oom);
  }
  for (size_t j = 0; res && j < json_object_array_length(ours); j++)
    fo_json_push(res, json_object_get(json_object_array_get_idx(ours, j)), &b->oom);
  json_object_put(ours);
  return res;
}

/* The template's resources with the process's CPU and memory set over them (requests and
 * limits), others (ephemeral-storage, extended resources) kept, as Flink's decorators do. */
static json_object *resources_merged(struct b *b, json_object *main, json_object *ours) {
  json_object *have = fo_json_get_object(main, "resources");
  if (!have || !ours) return ours;
  json_object *res = NULL;
  if (json_object_deep_copy(have, &res, NULL) || !json_object_is_type(res, json_type_object)) {
    json_object_put(res);
    return ours;
  }
  static const char *const parts[] = {"requests", "limits"};
  for (size_t i = 0; i < 2; i++) {
    json_object *dst = fo_json_ensure_object(res, parts[i]);
    json_object *src = fo_json_get_object(ours, parts[i]);
    if (!dst) continue;
    json_object_object_foreach(src, k, v) fo_json_set(dst, k, json_object_get(v), &b->oom);
  }
  json_object_put(ours);
  return res;
}

static json_object *pod_template(struct b *b, const char *component, json_object *component_tmpl) {
  const struct fo_spec *s = b->in->spec;
  json_object *t = user_template(b, component_tmpl);
  if (!t) return NULL;
  /* from here each step needs the one before: stop at the first failure (b->oom says so) */
  json_object *m = fo_json_ensure_object(t, "metadata");
  json_object *l = m ? fo_json_ensure_object(m, "labels") : NULL;
  char lkey[96];
  snprintf(lkey, sizeof lkey, "kubernetes.%s.labels", component);
  if (m) conf_map_into(b, m, "labels", lkey); /* Flink's option, under the operator's own */
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
  /* kubernetes.<component>.service-account, as Flink's decorators read it, else the spec's */
  char sa_key[64];
  snprintf(sa_key, sizeof sa_key, "kubernetes.%s.service-account", component);
  const char *sa = b->in->conf ? fo_conf_get(b->in->conf, sa_key) : NULL;
  if (!sa) sa = s->service_account;
  if (sa) fo_json_set(spec, "serviceAccountName", str(sa), &b->oom);
  fo_json_set(main, "image", str(s->image ? s->image : "flink:latest"), &b->oom);
  if (s->image_pull_policy)
    fo_json_set(main, "imagePullPolicy", str(s->image_pull_policy), &b->oom);
  /* kubernetes.entry.path, as Flink's Cmd decorators and the reference's standalone ones read it */
  const char *entry = b->in->conf ? fo_conf_get(b->in->conf, "kubernetes.entry.path") : NULL;
  fo_json_set(main, "command", json_object_new_array_ext(1), &b->oom);
  fo_json_push(fo_json_get_array(main, "command"), str(entry ? entry : "/docker-entrypoint.sh"),
               &b->oom);
  fo_json_set(main, "args", container_args(b, component), &b->oom);
  bool jm = !strcmp(component, "jobmanager");
  fo_json_set(main, "resources", resources_merged(b, main, resources(b, component)), &b->oom);
  json_object *env = ensure_array(b, main, "env"), *ports = json_object_new_array();
  flink_pod_options(b, component, t, spec, main);
  if (env) fo_json_push(env, pod_ip_env(b), &b->oom);
  flink_pod_extras(b, jm, spec, main);
  if (jm && host_network(b)) {
    /* Flink's InitJobManagerDecorator lists no port on a JobManager in the host's network (its
     * JobManager points the Services' target ports at the ports it bound) */
  } else if (jm) {
    port(b, ports, "rest", conf_port(b, "rest.port", CLUSTER_REST_PORT));
    port(b, ports, "jobmanager-rpc", conf_port(b, "jobmanager.rpc.port", CLUSTER_RPC_PORT));
    port(b, ports, "blobserver", conf_port(b, "blob.server.port", CLUSTER_BLOB_PORT));
  } else {
    port(b, ports, "taskmanager-rpc", conf_port(b, "taskmanager.rpc.port", CLUSTER_TM_RPC_PORT));
  }
  fo_json_set(main, "ports", ports_merged(b, main, ports), &b->oom);
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
  if (jm && !standalone(b) && has_tm_template(b)) {
    /* Flink's PodTemplateMountDecorator: the JobManager makes its TaskManager pods from
     * /opt/flink/pod-template/taskmanager-pod-template.yaml, and from nowhere else (the
     * kubernetes.pod-template-file.taskmanager key is read by Flink's client only) */
    json_object *pm = json_object_new_object(), *pv = json_object_new_object(),
                *pc = json_object_new_object(), *items = json_object_new_array(),
                *item = json_object_new_object();
    fo_json_set(pm, "name", str("pod-template-volume"), &b->oom);
    fo_json_set(pm, "mountPath", str("/opt/flink/pod-template"), &b->oom);
    fo_json_push(vm, pm, &b->oom);
    fo_json_set(item, "key", str(TM_TEMPLATE_FILE), &b->oom);
    fo_json_set(item, "path", str(TM_TEMPLATE_FILE), &b->oom);
    fo_json_push(items, item, &b->oom);
    fo_json_set(pc, "name", str(cmn), &b->oom);
    fo_json_set(pc, "items", items, &b->oom);
    fo_json_set(pv, "name", str("pod-template-volume"), &b->oom);
    fo_json_set(pv, "configMap", pc, &b->oom);
    fo_json_push(vols, pv, &b->oom);
  }
  free(cmn);
  if (jm && standalone(b) && s->job.jar_uri && !mounts_usrlib(main) &&
      !strstr(s->job.jar_uri, "/opt/flink/usrlib/")) {
    /* the reference operator's UserLibMountDecorator: an empty /opt/flink/usrlib, so the job is
     * the one jar on pipeline.classpaths and not whatever the image keeps there; unlike it, not
     * when the job's jar is in usrlib itself (the empty folder would hide it) */
    json_object *um = json_object_new_object(), *uv = json_object_new_object();
    fo_json_set(um, "name", str("user-lib-dir"), &b->oom);
    fo_json_set(um, "mountPath", str("/opt/flink/usrlib"), &b->oom);
    fo_json_push(vm, um, &b->oom);
    fo_json_set(uv, "name", str("user-lib-dir"), &b->oom);
    fo_json_set(uv, "emptyDir", json_object_new_object(), &b->oom);
    fo_json_push(vols, uv, &b->oom);
  }
  return t;
}

static int64_t tm_slots(json_object *conf) {
  return fo_conf_whole(conf, "taskmanager.numberOfTaskSlots", 1, 1000000, 1);
}

int64_t cluster_tm_count(const struct fo_spec *s, json_object *conf) {
  if (s->task_manager.replicas.set) return s->task_manager.replicas.v;
  int64_t slots = tm_slots(conf);
  long long par = s->job.parallelism.set && s->job.parallelism.v > 0 ? s->job.parallelism.v : 1;
  return (par + slots - 1) / slots;
}

int64_t cluster_parallelism(const struct fo_spec *s, json_object *conf) {
  if (s->task_manager.replicas.set && s->task_manager.replicas.v > 0 &&
      s->task_manager.replicas.v <= 1000000)
    return s->task_manager.replicas.v * tm_slots(conf);
  return s->job.parallelism.set ? s->job.parallelism.v : 0;
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
  if (b->in->rollback) fo_json_set(ann, CLUSTER_ROLLBACK_ANNOTATION, str("true"), &b->oom);
  if (b->in->transition > 0) {
    snprintf(g, sizeof g, "%lld", (long long)b->in->transition);
    fo_json_set(ann, CLUSTER_TRANSITION_ANNOTATION, str(g), &b->oom);
    if (b->in->job_id) fo_json_set(ann, CLUSTER_JOB_ID_ANNOTATION, str(b->in->job_id), &b->oom);
  }
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
    int64_t reps = cluster_tm_count(in->spec, in->conf);
    ret->res[ret->n] = &fo_res_deployments;
    ret->obj[ret->n++] =
        tm ? deployment(&b, tm, "taskmanager", reps, component_template(&b, "taskManager")) : NULL;
  }
  json_object *spec_ing = fo_json_get_object(in->spec_json, "ingress");
  if (spec_ing && cluster_ingress_managed(in->conf)) {
    ret->res[ret->n] = &fo_res_ingresses;
    ret->obj[ret->n++] = rest ? ingress(&b, spec_ing, rest) : NULL;
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

#include "flinkop/rules.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <arpa/inet.h>

#include "flinkop/artifact.h"
#include "flinkop/buf.h"
#include "flinkop/compres.h"
#include "flinkop/cron.h"
#include "flinkop/flinkconf.h"
#include "flinkop/ingress.h"
#include "flinkop/model.h"
#include "flinkop/status.h"

#define MSG_NAME                                                                                 \
  "The FlinkDeployment name: %s is invalid, must consist of lower case alphanumeric characters " \
  "or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. "    \
  "'my-name',  or 'abc-123'), and the length must be no more than 45 characters."

bool fo_rules_name_valid(const char *name) {
  /* [a-z]([-a-z0-9]{0,43}[a-z0-9])? */
  if (!name) return false;
  size_t n = strlen(name);
  if (n < 1 || n > 45) return false;
  if (name[0] < 'a' || name[0] > 'z') return false;
  for (size_t i = 1; i < n; i++) {
    char c = name[i];
    bool alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
    if (!alnum && !(c == '-' && i + 1 < n)) return false;
  }
  return true;
}

/* Adds "Invalid value ... Allowed values: a, b" for an enum field. */
static int enum_check(struct fo_findings *e, const char *path, const char *v,
                      const char *const *allowed) {
  if (!v || fo_enum_contains(allowed, v)) return 0;
  struct fo_buf b;
  fo_buf_init(&b, 4096);
  int r = 0;
  for (const char *const *a = allowed; r == 0 && *a; a++) {
    if (a != allowed) r = fo_buf_puts(&b, ", ");
    if (r == 0) r = fo_buf_puts(&b, *a);
  }
  if (r == 0)
    r = fo_findings_add(e, path, "Invalid value \"%s\" for %s, allowed values are [%s]", v, path,
                        b.data);
  fo_buf_free(&b);
  return r < 0 ? -ENOMEM : 0;
}

static int check_memory(struct fo_findings *e, const char *who, const char *path,
                        const struct fo_resource *res) {
  const char *why;
  uint64_t bytes;
  double q;
  int r = 0;
  if (res->memory && fo_memory_parse(res->memory, &bytes, &why) < 0)
    r = fo_findings_add(e, path, "%s resource memory parse error: '%s' is %s", who, res->memory,
                        why);
  if (r == 0 && res->ephemeral_storage && fo_quantity_parse(res->ephemeral_storage, &q, &why) < 0)
    r = fo_findings_add(e, path, "%s resource ephemeral storage parse error: '%s': %s", who,
                        res->ephemeral_storage, why);
  return r;
}

/* A periodic snapshot's schedule: a Duration (1h, 30 min) or a Quartz cron expression. */
static int check_schedule(struct fo_findings *e, struct fo_conf_view *cv, const char *key) {
  const char *v = fo_conf_view_get(cv, key);
  int64_t every;
  struct fo_cron c;
  char why[256];
  if (!v || !*v || fo_duration_parse(v, &every) == 0 || fo_cron_parse(v, &c, why, sizeof why) == 0)
    return 0;
  return fo_findings_add(e, "spec.flinkConfiguration",
                         "%s must be a duration such as 1h or a Quartz cron expression such as "
                         "\"0 0 * * * ?\", not \"%.256s\" (as a cron expression: %s)",
                         key, v, why);
}

/* The autoscaler's option `key` (job.autoscaler.<key>, or the older
 * kubernetes.operator.job.autoscaler.<key>), NULL when unset. */
static const char *autoscaler_opt(struct fo_conf_view *cv, const char *key, char *full, size_t n) {
  snprintf(full, n, "job.autoscaler.%s", key);
  const char *v = fo_conf_view_get(cv, full);
  if (v) return v;
  char old[160];
  snprintf(old, sizeof old, "kubernetes.operator.job.autoscaler.%s", key);
  return fo_conf_view_get(cv, old);
}

/* A number as Java's Double.toString writes it (0.0, 0.7, 1.0, 100000.0, 1.0E-4). */
static void java_double(double d, char *out, size_t n) {
  double a = d < 0 ? -d : d;
  if (a != 0 && (a < 1e-3 || a >= 1e7)) {
    char m[28];
    int e = 0;
    for (int prec = 1; prec <= 17; prec++) {
      snprintf(m, sizeof m, "%.*e", prec - 1, d);
      if (strtod(m, NULL) == d) break;
    }
    char *ep = strchr(m, 'e');
    if (ep) {
      e = (int)strtol(ep + 1, NULL, 10);
      *ep = '\0';
    }
    snprintf(out, n, "%s%sE%d", m, strchr(m, '.') ? "" : ".0", e);
    return;
  }
  for (int prec = 1; prec <= 17; prec++) {
    snprintf(out, n, "%.*g", prec, d);
    if (strtod(out, NULL) == d) break;
  }
  if (!strchr(out, '.')) snprintf(out + strlen(out), n - strlen(out), ".0");
}

/* A number the way Flink reads a double option: the whole (trimmed) text. */
static bool parse_double(const char *v, double *ret) {
  while (*v == ' ' || *v == '\t') v++;
  char *end = NULL;
  *ret = strtod(v, &end);
  if (!end || end == v) return false;
  while (*end == ' ' || *end == '\t') end++;
  return !*end;
}

/* One autoscaler option within [lo, hi] (NaN bound: unbounded); unset counts as its default,
 * which always is. */
static int autoscaler_range(struct fo_findings *e, struct fo_conf_view *cv, const char *key,
                            double lo, double hi) {
  char full[160];
  const char *v = autoscaler_opt(cv, key, full, sizeof full);
  if (!v) return 0;
  double d;
  if (!parse_double(v, &d))
    return fo_findings_add(e, "spec.flinkConfiguration",
                           "Invalid value in the autoscaler config %s", full);
  if ((lo == lo && d < lo) || (hi == hi && d > hi)) {
    char a[64] = "-Infinity", b[64] = "+Infinity";
    if (lo == lo) java_double(lo, a, sizeof a);
    if (hi == hi) java_double(hi, b, sizeof b);
    return fo_findings_add(e, "spec.flinkConfiguration",
                           "The AutoScalerOption %s is invalid, it should be a value within the "
                           "range [%s, %s]",
                           full, a, b);
  }
  return 0;
}

/* A Duration as Java's Duration.toString writes it (PT15M, PT1M30S, PT0.5S). */
static void java_duration(int64_t ms, char *out, size_t n) {
  int64_t h = ms / 3600000, m = ms / 60000 % 60, s = ms / 1000 % 60, f = ms % 1000;
  int k = snprintf(out, n, "PT");
  if (h) k += snprintf(out + k, n - (size_t)k, "%lldH", (long long)h);
  if (m) k += snprintf(out + k, n - (size_t)k, "%lldM", (long long)m);
  if (s || f || (!h && !m)) {
    k += snprintf(out + k, n - (size_t)k, "%lld", (long long)s);
    if (f) {
      char frac[8];
      snprintf(frac, sizeof frac, "%03lld", (long long)f);
      for (int i = 2; i > 0 && frac[i] == '0'; i--) frac[i] = '\0';
      k += snprintf(out + k, n - (size_t)k, ".%s", frac);
    }
    snprintf(out + k, n - (size_t)k, "S");
  }
}

/* A daily period "HH:MM-HH:MM", its start before its end. */
static bool daily_period(const char *s, size_t n) {
  int h1, m1, h2, m2, used = 0;
  char buf[32];
  if (n >= sizeof buf) return false;
  snprintf(buf, sizeof buf, "%.*s", (int)n, s);
  if (sscanf(buf, " %2d:%2d-%2d:%2d %n", &h1, &m1, &h2, &m2, &used) != 4 || buf[used]) return false;
  if (h1 < 0 || h1 > 23 || h2 < 0 || h2 > 23 || m1 < 0 || m1 > 59 || m2 < 0 || m2 > 59)
    return false;
  return h1 * 60 + m1 < h2 * 60 + m2;
}

static bool cron_period(const char *s, size_t n) {
  char buf[FO_CRON_MAX + 1];
  if (n > FO_CRON_MAX) return false;
  snprintf(buf, sizeof buf, "%.*s", (int)n, s);
  struct fo_cron c;
  char why[128];
  return fo_cron_parse(buf, &c, why, sizeof why) == 0;
}

/* job.autoscaler.excluded.periods: ';'-separated daily periods, cron expressions, or a daily
 * period && a cron expression, in the reference's words. */
static int check_excluded_periods(struct fo_findings *e, const char *key, const char *v) {
  for (const char *p = v; *p;) {
    size_t n = strcspn(p, ";");
    const char *and = NULL;
    for (size_t i = 0; i + 1 < n; i++)
      if (p[i] == '&' && p[i + 1] == '&') and = p + i;
    bool ok;
    const char *why = "the value is neither a valid daily expression nor a valid cron expression";
    if (and) {
      size_t a = (size_t)(and-p), b = n - a - 2;
      bool d1 = daily_period(p, a), c1 = cron_period(p, a), d2 = daily_period(and+2, b),
           c2 = cron_period(and+2, b);
      ok = (d1 && c2) || (c1 && d2);
      if (!ok && ((d1 && d2) || (c1 && c2)))
        why =
            "the value can not be configured as dailyExpression && dailyExpression or "
            "cronExpression && cronExpression";
    } else {
      ok = daily_period(p, n) || cron_period(p, n);
    }
    if (!ok)
      return fo_findings_add(e, "spec.flinkConfiguration",
                             "Invalid value %.*s in the autoscaler config %s, %s", (int)n, p, key,
                             why);
    p += n + (p[n] ? 1 : 0);
  }
  return 0;
}

/* The reference's autoscaler option rules, when job.autoscaler.enabled (the autoscaler itself is
 * not part of this operator; its options are validated so a manifest is judged as there). */
static int check_autoscaler(struct fo_findings *e, struct fo_conf_view *cv) {
  char full[160];
  const char *en = autoscaler_opt(cv, "enabled", full, sizeof full);
  if (!en || strcasecmp(en, "true")) return 0;
  double target = 0.7;
  const char *tv = autoscaler_opt(cv, "utilization.target", full, sizeof full);
  if (tv) parse_double(tv, &target);
  /* (a target out of its own range is said once: the bounds measured from it would say nothing) */
  bool target_ok = target >= 0 && target <= 1;
  static const struct {
    const char *key;
    double lo, hi;
    const char *when; /* the feature it belongs to, or NULL */
  } opts[] = {
      {"scale-down.max-factor", 0, NAN, NULL},
      {"scale-up.max-factor", 0, NAN, NULL},
      {"utilization.target", 0, 1, NULL},
      {"target.utilization.boundary", 0, NAN, NULL},
      {"utilization.max", -1, 1, NULL}, /* from the target: below */
      {"utilization.min", 0, -1, NULL}, /* to the target: below */
      {"memory.gc-pressure.threshold", 0, 1, NULL},
      {"memory.heap-usage.threshold", 0, 1, NULL},
      {"observed-scalability.coefficient-min", 0.01, 1, "observed-scalability.enabled"},
      {"scaling.effectiveness.threshold", 0, 1, "scaling.effectiveness.detection.enabled"},
      {"memory.tuning.overhead", 0, 1, "memory.tuning.enabled"},
  };
  int r = 0;
  for (size_t i = 0; r == 0 && i < sizeof opts / sizeof opts[0]; i++) {
    if (opts[i].when) {
      const char *w = autoscaler_opt(cv, opts[i].when, full, sizeof full);
      if (!w || strcasecmp(w, "true")) continue;
    }
    if ((opts[i].lo == -1 || opts[i].hi == -1) && !target_ok) continue;
    double lo = opts[i].lo == -1 ? target : opts[i].lo, hi = opts[i].hi == -1 ? target : opts[i].hi;
    r = autoscaler_range(e, cv, opts[i].key, lo, hi);
  }
  const char *ex = autoscaler_opt(cv, "excluded.periods", full, sizeof full);
  if (r == 0 && ex) r = check_excluded_periods(e, full, ex);
  /* at least two metric samples within the window: not smaller than the reconcile interval */
  int64_t window = 15 * 60000, interval = 60000;
  const char *wv = autoscaler_opt(cv, "metrics.window", full, sizeof full);
  const char *iv = fo_conf_view_get(cv, "kubernetes.operator.reconcile.interval");
  if (wv) fo_duration_parse(wv, &window);
  if (iv) fo_duration_parse(iv, &interval);
  if (r == 0 && window < interval) {
    char a[40], b[40];
    java_duration(window, a, sizeof a);
    java_duration(interval, b, sizeof b);
    r = fo_findings_add(e, "spec.flinkConfiguration",
                        "The autoscaler metric window (job.autoscaler.metrics.window=%s) must not "
                        "be smaller than the operator reconcile interval "
                        "(kubernetes.operator.reconcile.interval=%s), otherwise fewer than two "
                        "metric samples are retained and autoscaling is never applied.",
                        a, b);
  }
  return r;
}

/* A boolean option as Flink reads it ("true"/"false" in any case); `def` when unset or neither. */
/* `v` is a whole number (decimal digits, an optional sign) from min to max. */
static bool whole_in(const char *v, long min, long max) {
  char *end = NULL;
  errno = 0;
  long n = strtol(v, &end, 10);
  return !errno && end != v && !*end && n >= min && n <= max;
}

/* NULL, empty or only whitespace, as Java's StringUtils.isBlank says. */
static bool blank(const char *v) {
  while (v && (*v == ' ' || *v == '\t' || *v == '\n' || *v == '\r' || *v == '\f' || *v == '\v'))
    v++;
  return !v || !*v;
}

static bool conf_true(struct fo_conf_view *cv, const char *key, bool def) {
  const char *v = fo_conf_view_get(cv, key);
  if (v && !strcasecmp(v, "true")) return true;
  if (v && !strcasecmp(v, "false")) return false;
  return def;
}

/* The component's memory is in the spec: resource.memory (not blank; one of another type is said
 * as such), or a memory request or limit in resources. `raw`: the component's object. */
static bool memory_defined(const struct fo_component *c, const struct fo_jv *raw) {
  const char *m = c->resource.memory;
  if (m && m[strspn(m, " \t")]) return true;
  const struct fo_jv *given = fo_jv_get(fo_jv_get(raw, "resource"), "memory");
  if (given && !fo_jv_is(given, FO_JSTRING)) return true; /* said: not a string */
  const struct fo_jv *res = c->resources;
  return fo_jv_get(fo_jv_get_object(res, "requests"), "memory") ||
         fo_jv_get(fo_jv_get_object(res, "limits"), "memory");
}

/* Flink derives the JobManager's process memory from its configuration: the heap (also as the
 * older jobmanager.heap.size), the total Flink memory or the total process memory. */
static bool jm_memory_configured(struct fo_conf_view *cv) {
  static const char *const keys[] = {"jobmanager.memory.heap.size", "jobmanager.heap.size",
                                     "jobmanager.memory.flink.size",
                                     "jobmanager.memory.process.size"};
  for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
    if (fo_conf_view_get(cv, keys[i])) return true;
  return false;
}

/* ... and the TaskManager's: the task heap with the managed memory, the total Flink memory (also
 * as the older taskmanager.heap.size) or the total process memory. */
static bool tm_memory_configured(struct fo_conf_view *cv) {
  if (fo_conf_view_get(cv, "taskmanager.memory.task.heap.size") &&
      fo_conf_view_get(cv, "taskmanager.memory.managed.size"))
    return true;
  static const char *const keys[] = {"taskmanager.memory.flink.size", "taskmanager.heap.size",
                                     "taskmanager.memory.process.size"};
  for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
    if (fo_conf_view_get(cv, keys[i])) return true;
  return false;
}

/* Flink 1.13 to 1.18 (flink-conf.yaml, its line parser). */
static bool legacy_flink(const char *v) { return fo_flink1_minor(v) < 19; }

static bool memchr_any(const char *s, size_t n, const char *set) {
  for (size_t i = 0; i < n; i++)
    if (s[i] && strchr(set, s[i])) return true;
  return false;
}

/* Every key (flattened with '.') and string value of `o` under `prefix`. */
static int legacy_conf_check(struct fo_findings *e, const struct fo_jv *o, const char *prefix,
                             size_t plen) {
  if (!o || o->type != FO_JOBJECT) return 0;
  int r = 0;
  for (uint32_t i = 0; r == 0 && i < o->n; i++) {
    const struct fo_jm *m = &o->u.members[i];
    struct fo_buf key;
    fo_buf_init(&key, 1u << 16);
    r = prefix ? fo_buf_printf(&key, "%.*s.%s", (int)plen, prefix, m->key)
               : fo_buf_puts(&key, m->key);
    if (r == 0 && !key.data) r = fo_buf_append(&key, "", 0);
    if (r == 0 && m->v.type == FO_JOBJECT) {
      r = legacy_conf_check(e, &m->v, key.data, key.len);
    } else if (r == 0 && (memchr_any(key.data, key.len, "\n\r#") ||
                          (m->v.type == FO_JSTRING && memchr_any(m->v.u.s, m->v.n, "\n\r#")))) {
      r = fo_findings_add(e, "spec.flinkConfiguration",
                          "Flink configuration %s cannot contain a line break or '#' with Flink "
                          "before 1.19 (flink-conf.yaml has no quoting)",
                          key.data);
    }
    fo_buf_free(&key);
  }
  return r < 0 ? -ENOMEM : 0;
}

static const char *const forbidden_keys[] = {"kubernetes.namespace", "kubernetes.cluster-id",
                                             "high-availability.cluster-id", NULL};
/* The limit factors of Flink's Kubernetes decorators (limits = requests times the factor). */
static const struct map_key {
  const char *key;
  bool list; /* a list of maps, separated by ';' */
} map_keys[] = {{"kubernetes.jobmanager.labels", false},
                {"kubernetes.taskmanager.labels", false},
                {"kubernetes.jobmanager.annotations", false},
                {"kubernetes.taskmanager.annotations", false},
                {"kubernetes.jobmanager.node-selector", false},
                {"kubernetes.taskmanager.node-selector", false},
                {"kubernetes.jobmanager.tolerations", true},
                {"kubernetes.taskmanager.tolerations", true},
                {"kubernetes.secrets", false},
                {"kubernetes.rest-service.annotations", false},
                {"kubernetes.env.secretKeyRef", true},
                {NULL, false}};

static const char *const limit_factor_keys[] = {
    "kubernetes.jobmanager.cpu.limit-factor", "kubernetes.jobmanager.memory.limit-factor",
    "kubernetes.taskmanager.cpu.limit-factor", "kubernetes.taskmanager.memory.limit-factor", NULL};

static const char *const log_keys[] = {"log4j-console.properties", "logback-console.xml", NULL};

/* What those rules read of the last deployed spec (either stored form: {spec, resource_metadata}
 * or the spec itself): the job's presence, state, upgrade mode and redeploy nonce, the mode and
 * the Flink version. The rest is checked as JSON but not built. */
static const struct fo_json_filter last_job[] = {{"state", NULL, false},
                                                 {"upgradeMode", NULL, false},
                                                 {"savepointRedeployNonce", NULL, false},
                                                 {NULL, NULL, false}};
static const struct fo_json_filter last_spec[] = {{"job", last_job, false},
                                                  {"mode", NULL, false},
                                                  {"flinkVersion", NULL, false},
                                                  {"deploymentName", NULL, false},
                                                  {NULL, NULL, false}};
static const struct fo_json_filter last_record[] = {
    {"spec", last_spec, false},      {"resource_metadata", NULL, false},
    {"job", last_job, false},        {"mode", NULL, false},
    {"flinkVersion", NULL, false},   {"apiVersion", NULL, false},
    {"deploymentName", NULL, false}, {NULL, NULL, false}};

/* Rules that compare with the last deployed spec (status.reconciliationStatus.lastReconciledSpec).
 * The record is read into `arena`. */
/* The last deployed spec (status.reconciliationStatus.lastReconciledSpec) read into *last from
 * `arena`: 1 when there is one, 0 when none, or negative errno (a record that cannot be read is a
 * finding, and 0). */
static int read_last(struct fo_findings *e, const struct fo_jv *status, struct fo_arena *arena,
                     struct fo_spec *last) {
  const char *text =
      fo_jv_get_string(fo_jv_get_object(status, "reconciliationStatus"), "lastReconciledSpec");
  if (!text || !*text) return 0;
  const struct fo_jv *last_json;
  bool first;
  struct fo_parse_error pe = {0};
  int r = fo_reconciled_spec_read(text, last_record, arena, &last_json, &first, &pe);
  if (r == -ENOMEM) {
    fo_parse_error_clear(&pe);
    return r;
  }
  if (r < 0) {
    r = fo_findings_add(e, "status.reconciliationStatus.lastReconciledSpec",
                        "status.reconciliationStatus.lastReconciledSpec cannot be read: %s",
                        pe.message ? pe.message : "invalid JSON");
    fo_parse_error_clear(&pe);
    return r;
  }
  r = fo_spec_read(last_json, last, NULL, "");
  return r < 0 ? r : 1;
}

static int check_against_last(struct fo_findings *e, const struct fo_spec *s,
                              const struct fo_jv *status, struct fo_arena *arena) {
  struct fo_spec last;
  int r = read_last(e, status, arena, &last);
  if (r <= 0) return r;
  r = 0;
  if (r == 0 && !last.job.present && s->job.present)
    r = fo_findings_add(e, "spec.job", "Cannot switch from session to job cluster");
  if (r == 0 && last.job.present && !s->job.present)
    r = fo_findings_add(e, "spec.job", "Cannot switch from job to session cluster");
  const char *lm = fo_spec_mode(&last), *nm = fo_spec_mode(s);
  if (r == 0 && strcmp(lm, "native") == 0 && strcmp(nm, "standalone") == 0)
    r = fo_findings_add(e, "spec.mode",
                        "Cannot switch from native kubernetes to standalone kubernetes cluster");
  if (r == 0 && strcmp(lm, "standalone") == 0 && strcmp(nm, "native") == 0)
    r = fo_findings_add(e, "spec.mode",
                        "Cannot switch from standalone kubernetes to native kubernetes cluster");
  if (r == 0 && last.job.present && s->job.present &&
      strcmp(fo_job_upgrade_mode(&s->job), "stateless") != 0 &&
      strcmp(fo_job_state(&last.job), "suspended") == 0 &&
      strcmp(fo_job_upgrade_mode(&last.job), "last-state") == 0 &&
      !(last.flink_version && s->flink_version &&
        strcmp(last.flink_version, s->flink_version) == 0))
    r = fo_findings_add(e, "spec.flinkVersion",
                        "Changing flinkVersion after last-state suspend is not allowed. Restore "
                        "your cluster with the current flinkVersion and perform the version "
                        "upgrade afterwards.");
  if (r == 0 && last.job.present && s->job.present && s->job.savepoint_redeploy_nonce.set &&
      !(last.job.savepoint_redeploy_nonce.set &&
        last.job.savepoint_redeploy_nonce.v == s->job.savepoint_redeploy_nonce.v) &&
      blank(s->job.initial_savepoint_path))
    r = fo_findings_add(e, "spec.job.initialSavepointPath",
                        "InitialSavepointPath must not be empty for savepoint redeployment");
  return r;
}

const char *fo_rules_pending_savepoint(const struct fo_jv *status) {
  const char *trigger = fo_jv_get_string(
      fo_jv_path(status, "jobStatus", "savepointInfo", (const char *)NULL), "triggerId");
  return trigger && *trigger ? trigger : NULL;
}

static int warn_pending_savepoint(struct fo_findings *w, const struct fo_jv *spec,
                                  const struct fo_jv *old_obj, const struct fo_jv *status) {
  const char *trigger = fo_rules_pending_savepoint(status);
  if (!trigger || !old_obj) return 0;
  const struct fo_jv *old_spec = fo_jv_get(old_obj, "spec");
  if (old_spec && spec && fo_jv_equal(old_spec, spec)) return 0;
  return fo_findings_add(w, "spec",
                         "A savepoint is in progress (trigger %s): the controller applies this "
                         "change after the savepoint completes or fails",
                         trigger);
}

/* What a job's upgrade mode and snapshot options need of the checkpoint and savepoint
 * directories (the reference's validateJobSpec, its words), for a FlinkDeployment's job and a
 * FlinkSessionJob's alike. */
static int check_snapshot_dirs(struct fo_findings *e, const struct fo_job *job,
                               struct fo_conf_view *conf) {
  const char *mode = fo_job_upgrade_mode(job);
  bool last_state = strcmp(mode, "last-state") == 0, savepoint = strcmp(mode, "savepoint") == 0;
  const char *cp_dir = fo_conf_view_checkpoint_dir(conf);
  const char *sp_dir = fo_conf_view_savepoint_dir(conf);
  int r = 0;
  if ((last_state || savepoint) && !cp_dir)
    r = fo_findings_add(e, "spec.flinkConfiguration",
                        "Checkpoint directory[execution.checkpointing.dir] must be defined for "
                        "last-state and savepoint upgrade modes");
  if (r == 0 && savepoint && !sp_dir)
    r = fo_findings_add(e, "spec.flinkConfiguration",
                        "Job could not be upgraded with savepoint while config "
                        "key[execution.checkpointing.savepoint-dir] is not set");
  if (r == 0 && job->savepoint_trigger_nonce.set && !sp_dir)
    r = fo_findings_add(e, "spec.job.savepointTriggerNonce",
                        "Savepoint could not be manually triggered for the running job while "
                        "config key[execution.checkpointing.savepoint-dir] is not set");
  const char *periodic = fo_conf_view_get(conf, "kubernetes.operator.periodic.savepoint.interval");
  if (r == 0 && periodic && !sp_dir && !savepoint && !job->savepoint_trigger_nonce.set)
    r = fo_findings_add(e, "spec.flinkConfiguration",
                        "Periodic savepoints cannot be enabled when config "
                        "key[execution.checkpointing.savepoint-dir] is not set");
  if (r == 0 && !sp_dir && !savepoint && !job->savepoint_trigger_nonce.set && !periodic &&
      fo_conf_view_get(conf,
                       "kubernetes.operator.job.upgrade.last-state.max.allowed."
                       "checkpoint.age"))
    r = fo_findings_add(e, "spec.flinkConfiguration",
                        "In order to use max-checkpoint age functionality config "
                        "key[execution.checkpointing.savepoint-dir] must be set to allow "
                        "triggering savepoint upgrades.");
  return r;
}

/* ---- FlinkSessionJob ---- */

/* A jarURI's parts as the rules read them: the scheme (borrowed span) and, after "//", the host
 * (a copy in `host`, without userinfo, port or IPv6 brackets; "" when none). 0, or -EINVAL with
 * *why: a character no URI has, or an authority that cannot be read. */
static int jar_uri_split(const char *uri, const char **scheme, size_t *scheme_n, char *host,
                         size_t host_n, const char **why) {
  *scheme = NULL;
  *scheme_n = 0;
  host[0] = '\0';
  for (const char *c = uri; *c; c++)
    if ((unsigned char)*c <= ' ' || (unsigned char)*c >= 0x7f || strchr("\"<>\\^`{|}", *c)) {
      *why =
          "it holds a character a URI cannot have (a space, a control character, or one of "
          "\"<>\\^`{|})";
      return -EINVAL;
    }
  size_t n = strspn(uri, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+.-");
  if (n == 0 || uri[n] != ':' || !((uri[0] | 0x20) >= 'a' && (uri[0] | 0x20) <= 'z'))
    return 0; /* no scheme */
  *scheme = uri;
  *scheme_n = n;
  const char *rest = uri + n + 1;
  if (strncmp(rest, "//", 2) != 0) return 0;
  rest += 2;
  size_t a = strcspn(rest, "/?#");
  const char *at = memchr(rest, '@', a);
  const char *h = at ? at + 1 : rest;
  size_t hn = a - (size_t)(h - rest);
  if (hn > 0 && h[0] == '[') {
    const char *close = memchr(h, ']', hn);
    if (!close) {
      *why = "an IPv6 address without its closing ']'";
      return -EINVAL;
    }
    hn = (size_t)(close - h) - 1;
    h++;
  } else {
    const char *colon = memchr(h, ':', hn);
    if (colon) hn = (size_t)(colon - h);
  }
  if (hn >= host_n) {
    *why = "its host is too long";
    return -EINVAL;
  }
  memcpy(host, h, hn);
  host[hn] = '\0';
  return 0;
}

/* Loopback, link-local, site-local (private), any-local or multicast, as Java's InetAddress
 * tells them, for an address literal or a name that is the local host; other names are looked up
 * by the controller when it fetches the jar (kubernetes.operator.user.artifacts.*), not here. */
static bool restricted_host(const char *host) {
  size_t n = strlen(host);
  if (!strcasecmp(host, "localhost") || (n > 10 && !strcasecmp(host + n - 10, ".localhost")))
    return true;
  unsigned char a[16];
  bool literal = inet_pton(AF_INET, host, a) == 1 || inet_pton(AF_INET6, host, a) == 1;
  return literal && fo_artifact_restricted_ip(host);
}

/* The reference's validateJarURI: the scheme in the operator's allowlist
 * (kubernetes.operator.user.artifacts.allowed-schemes, ';'-separated, https by default; read from
 * the operator's configuration only: a resource cannot widen it), and for http(s) a host that is
 * not restricted (unless kubernetes.operator.user.artifacts.disallow-restricted-hosts is false). */
static int check_jar_uri(struct fo_findings *e, const char *uri, json_object *default_conf) {
  if (!uri) return 0; /* the session cluster's classpath holds the entry class */
  const char *scheme, *why = NULL;
  size_t sn;
  char host[256];
  if (jar_uri_split(uri, &scheme, &sn, host, sizeof host, &why) < 0)
    return fo_findings_add(e, "spec.job.jarURI", "jarURI is not a valid URI: %s: %.1024s", why,
                           uri);
  if (!scheme) return fo_findings_add(e, "spec.job.jarURI", "jarURI must include a scheme");
  const char *allowed =
      fo_json_get_string(default_conf, "kubernetes.operator.user.artifacts.allowed-schemes");
  struct fo_buf list;
  fo_buf_init(&list, 4096);
  int r = fo_artifact_scheme_allowed(allowed, scheme, sn, &list);
  bool ok = r == 1;
  if (r > 0) r = 0;
  if (r == 0 && !ok)
    r = fo_findings_add(e, "spec.job.jarURI",
                        "jarURI scheme '%.*s' is not in the allowlist %s. Configure '%s' to extend "
                        "the allowlist.",
                        (int)sn, scheme, list.data,
                        "kubernetes.operator.user.artifacts.allowed-schemes");
  fo_buf_free(&list);
  bool http =
      (sn == 4 && !strncasecmp(scheme, "http", 4)) || (sn == 5 && !strncasecmp(scheme, "https", 5));
  const char *dis = fo_json_get_string(
      default_conf, "kubernetes.operator.user.artifacts.disallow-restricted-hosts");
  if (r == 0 && ok && http && !(dis && !strcasecmp(dis, "false"))) {
    if (!*host)
      r = fo_findings_add(e, "spec.job.jarURI",
                          "jarURI must include a host for http/https schemes");
    else if (restricted_host(host))
      r = fo_findings_add(e, "spec.job.jarURI", "jarURI host '%s' resolves to a restricted address",
                          host);
  }
  return r;
}

/* A FlinkSessionJob: the rules that need nothing but the resource (the reference's
 * validateSessionJobOnly); those that read the session cluster (it is one, not an application
 * cluster; the checkpoint and savepoint directories the upgrade mode needs; the parallelism) are
 * the controller's, which has it. */
static int validate_session_job(const struct fo_deployment *d, const struct fo_jv *status,
                                json_object *default_conf, struct fo_findings *e,
                                struct fo_arena *arena) {
  const struct fo_spec *s = &d->spec;
  int r = 0;
  if (!fo_rules_name_valid(d->name))
    r = fo_findings_add(e, "metadata.name", MSG_NAME, d->name ? d->name : "null");
  if (r == 0 && !s->deployment_name)
    r = fo_findings_add(e, "spec.deploymentName",
                        "The deploymentName (the session cluster's FlinkDeployment) must be "
                        "defined");
  else if (r == 0 && !fo_rules_name_valid(s->deployment_name))
    r = fo_findings_add(e, "spec.deploymentName", MSG_NAME, s->deployment_name);
  if (r == 0 && !s->job.present)
    r = fo_findings_add(e, "spec.job", "The job spec should not be empty");
  if (r == 0) r = enum_check(e, "spec.job.state", s->job.state, fo_job_states);
  if (r == 0) r = enum_check(e, "spec.job.upgradeMode", s->job.upgrade_mode, fo_upgrade_modes);
  struct fo_spec last = {0};
  int lr = r == 0 ? read_last(e, status, arena, &last) : 0;
  if (lr < 0) r = lr;
  if (r == 0 && lr == 1 && last.deployment_name && s->deployment_name &&
      strcmp(last.deployment_name, s->deployment_name) != 0)
    r = fo_findings_add(e, "spec.deploymentName", "The deploymentName can't be changed");
  if (r == 0 && s->job.present) r = check_jar_uri(e, s->job.jar_uri, default_conf);
  return r;
}

/* The reference's validateSessionJobWithCluster: what a FlinkSessionJob needs of the session
 * cluster it names (the configuration it runs with is the operator's defaults, the cluster's, then
 * the job's own). */
static int validate_session_job_cluster(const struct fo_deployment *d,
                                        const struct fo_deployment *session,
                                        json_object *default_conf, struct fo_findings *e,
                                        struct fo_arena *arena) {
  const struct fo_spec *s = &d->spec;
  int r = 0;
  if (session->spec.job.present)
    r = fo_findings_add(e, "spec.deploymentName",
                        "Can not submit session job to application cluster");
  if (r == 0 &&
      !(session->name && s->deployment_name && strcmp(session->name, s->deployment_name) == 0))
    r = fo_findings_add(e, "spec.deploymentName",
                        "The session job's cluster id is not match with the session cluster");
  json_object *cluster_conf = NULL;
  if (r == 0 && session->spec.flink_configuration &&
      fo_jv_to_json(session->spec.flink_configuration, &cluster_conf) < 0)
    r = -ENOMEM;
  json_object *base = r == 0 ? fo_conf_effective_new(default_conf, cluster_conf) : NULL;
  json_object_put(cluster_conf);
  if (r == 0 && !base) r = -ENOMEM;
  struct fo_conf_view conf = {.spec = s->flink_configuration, .defaults = base, .arena = arena};
  if (r == 0 && s->job.present) r = check_snapshot_dirs(e, &s->job, &conf);
  if (r == 0 && s->job.present && (!s->job.parallelism.set || s->job.parallelism.v < 1))
    r = fo_findings_add(e, "spec.job.parallelism", "Job parallelism must be larger than 0");
  if (r == 0) r = check_autoscaler(e, &conf);
  json_object_put(base);
  if (conf.oom || e->oom) return -ENOMEM;
  return r < 0 ? r : 0;
}

int fo_rules_validate_session_job_cluster(json_object *sj, json_object *session,
                                          json_object *default_conf, struct fo_findings *e) {
  struct fo_arena arena;
  fo_arena_init(&arena, SIZE_MAX);
  const struct fo_jv *o, *c;
  struct fo_deployment d, sd;
  int r = fo_jv_from_json(&arena, sj, &o);
  if (r == 0) r = fo_jv_from_json(&arena, session, &c);
  if (r == 0) r = fo_deployment_read(o, &d, NULL);
  if (r == 0) r = fo_deployment_read(c, &sd, NULL);
  if (r == 0) r = validate_session_job_cluster(&d, &sd, default_conf, e, &arena);
  fo_arena_free(&arena);
  return r == -E2BIG ? -EINVAL : r;
}

/* ---- FlinkStateSnapshot ---- */

/* The reference's validateStateSnapshot, but for the target's existence (the controller's, which
 * watches it): exactly one of savepoint and checkpoint; a savepoint that already exists needs
 * nothing more than its path; anything else names its job. */
static int validate_snapshot(const struct fo_deployment *d, struct fo_findings *e) {
  const struct fo_jv *spec = d->spec_json;
  const struct fo_jv *sp = fo_jv_get(spec, "savepoint"), *cp = fo_jv_get(spec, "checkpoint");
  bool has_sp = sp && sp->type != FO_JNULL, has_cp = cp && cp->type != FO_JNULL;
  int r = 0; /* (its name is the API server's to judge: the operator's own are long) */
  if (has_sp == has_cp)
    return fo_findings_add(e, "spec",
                           "Exactly one of checkpoint or savepoint configurations has to be set.");
  const struct fo_jv *exists = has_sp ? fo_jv_get(sp, "alreadyExists") : NULL;
  if (r == 0 && exists && exists->type == FO_JBOOL && exists->u.b) {
    const char *path = fo_jv_get_string(sp, "path");
    if (blank(path))
      r = fo_findings_add(e, "spec.savepoint.path",
                          "The savepoint path must be set when the savepoint already exists");
    return r;
  }
  const struct fo_jv *ref = fo_jv_get_object(spec, "jobReference");
  if (r == 0 && !ref)
    return fo_findings_add(e, "spec.jobReference",
                           "Job reference must be supplied for this snapshot");
  const char *rname = fo_jv_get_string(ref, "name"), *rkind = fo_jv_get_string(ref, "kind");
  if (r == 0 && blank(rname))
    r = fo_findings_add(e, "spec.jobReference.name",
                        "Job reference must name the FlinkDeployment or FlinkSessionJob");
  static const char *const kinds[] = {"FlinkDeployment", "FlinkSessionJob", NULL};
  if (r == 0) r = enum_check(e, "spec.jobReference.kind", rkind, kinds);
  return r;
}

static int validate(const struct fo_jv *obj, const struct fo_jv *old_obj, json_object *default_conf,
                    struct fo_findings *e, struct fo_findings *w, struct fo_arena *arena) {
  struct fo_deployment d;
  int r = fo_deployment_read(obj, &d, e);
  if (r < 0) return r;
  const struct fo_spec *s = &d.spec;
  const struct fo_jv *status = d.status_json;
  if (!status && old_obj) status = fo_jv_get_object(old_obj, "status");
  if (fo_flinkstatesnapshot_type(d.api_version, d.kind)) {
    r = validate_snapshot(&d, e);
    return e->oom || r == -ENOMEM ? -ENOMEM : 0;
  }
  if (fo_flinksessionjob_type(d.api_version, d.kind)) {
    r = validate_session_job(&d, status, default_conf, e, arena);
    return e->oom || r == -ENOMEM ? -ENOMEM : 0;
  }
  struct fo_conf_view conf = {
      .spec = s->flink_configuration, .defaults = default_conf, .arena = arena};

  /* 1. name */
  if (!fo_rules_name_valid(d.name))
    r = fo_findings_add(e, "metadata.name", MSG_NAME, d.name ? d.name : "null");

  /* 2. flinkVersion */
  if (r == 0 && !s->flink_version && !fo_jv_get(d.spec_json, "flinkVersion"))
    r = fo_findings_add(e, "spec.flinkVersion", "Flink Version must be defined.");
  if (r == 0 && s->flink_version && !fo_enum_contains(fo_flink_versions, s->flink_version))
    r = fo_findings_add(e, "spec.flinkVersion",
                        "Flink version %s is not supported by this operator version. Supported "
                        "versions: v1_13 ... v1_20, v2_0 ... v2_2",
                        s->flink_version);
  if (r == 0 && s->flink_version && fo_enum_contains(fo_flink_versions, s->flink_version) &&
      strcmp(s->flink_version, "v1_19") < 0 && strncmp(s->flink_version, "v1_", 3) == 0)
    r = fo_findings_add(w, "spec.flinkVersion",
                        "Flink version %s is deprecated; upgrade to v1_19 or later",
                        s->flink_version);

  /* 12. enums */
  if (r == 0) r = enum_check(e, "spec.mode", s->mode, fo_modes);
  if (r == 0) r = enum_check(e, "spec.imagePullPolicy", s->image_pull_policy, fo_pull_policies);
  if (r == 0) r = enum_check(e, "spec.job.state", s->job.state, fo_job_states);
  if (r == 0) r = enum_check(e, "spec.job.upgradeMode", s->job.upgrade_mode, fo_upgrade_modes);

  /* 3. forbidden configuration keys */
  for (const char *const *k = forbidden_keys; r == 0 && *k; k++)
    if (fo_conf_view_get(&conf, *k))
      r = fo_findings_add(e, "spec.flinkConfiguration", "Forbidden Flink config key: %s", *k);

  /* 3a. resource limit factors: numbers of at least 1, as Flink requires (it refuses to start a
   * cluster with less) */
  for (const char *const *k = limit_factor_keys; r == 0 && *k; k++) {
    const char *v = fo_conf_view_get(&conf, *k);
    double f;
    if (fo_limit_factor_parse(v, &f) < 0)
      r = fo_findings_add(e, "spec.flinkConfiguration",
                          "%s must be a number from 1 to 1000, not \"%s\"", *k, v);
  }

  /* 3a''. the ports the pods and Services are built with: one port each, as Flink's Kubernetes
   * client requires (it refuses a range; 0, a random port, it replaces by its fixed default for
   * the ports of string type), and the REST Service's type */
  static const struct {
    const char *key;
    bool zero; /* 0 stands for the default */
  } port_keys[] = {{"rest.port", false},
                   {"jobmanager.rpc.port", false},
                   {"blob.server.port", true},
                   {"taskmanager.rpc.port", true},
                   {"high-availability.jobmanager.port", true},
                   {NULL, false}};
  for (size_t i = 0; r == 0 && port_keys[i].key; i++) {
    const char *v = fo_conf_view_get(&conf, port_keys[i].key);
    if (v && !whole_in(v, port_keys[i].zero ? 0 : 1, 65535))
      r = fo_findings_add(e, "spec.flinkConfiguration",
                          "%s must be one port from %d to 65535 on Kubernetes, not \"%s\"",
                          port_keys[i].key, port_keys[i].zero ? 0 : 1, v);
  }
  const char *rest_type = fo_conf_view_get(&conf, "kubernetes.rest-service.exposed.type");
  if (r == 0 && rest_type && !fo_rest_service_type(rest_type))
    r = fo_findings_add(e, "spec.flinkConfiguration",
                        "kubernetes.rest-service.exposed.type must be one of ClusterIP, NodePort, "
                        "LoadBalancer, Headless_ClusterIP, not \"%s\"",
                        rest_type);

  /* Flink's boolean options the operator reads to build the pods: Flink refuses to start with a
   * value it cannot read as one */
  static const char *const bool_keys[] = {"kubernetes.hostnetwork.enabled",
                                          "kubernetes.decorator.hadoop-conf-mount.enabled", NULL};
  for (size_t i = 0; r == 0 && bool_keys[i]; i++) {
    const char *v = fo_conf_view_get(&conf, bool_keys[i]);
    if (v && strcasecmp(v, "true") && strcasecmp(v, "false"))
      r = fo_findings_add(e, "spec.flinkConfiguration", "%s must be true or false, not \"%s\"",
                          bool_keys[i], v);
  }
  const char *entry = fo_conf_view_get(&conf, "kubernetes.entry.path");
  if (r == 0 && entry && !*entry)
    r = fo_findings_add(e, "spec.flinkConfiguration", "kubernetes.entry.path must not be empty");

  /* 3a'. Flink's map options for the pods (labels, annotations, node selectors, tolerations):
   * Flink refuses to start with one it cannot read, and the operator applies them to the pods it
   * builds itself */
  for (const struct map_key *k = map_keys; r == 0 && k->key; k++) {
    const char *v = fo_conf_view_get(&conf, k->key), *why = NULL;
    json_object *m = NULL;
    int pr = v ? fo_conf_map_parse(v, k->list, &m, &why) : 0;
    /* each of kubernetes.env.secretKeyRef names the variable, the secret and its key */
    for (size_t i = 0; pr == 0 && m && !strcmp(k->key, "kubernetes.env.secretKeyRef") &&
                       i < json_object_array_length(m);
         i++) {
      json_object *it = json_object_array_get_idx(m, i);
      if (!fo_json_get_string(it, "env") || !fo_json_get_string(it, "secret") ||
          !fo_json_get_string(it, "key")) {
        pr = -EINVAL;
        why = "each entry needs env, secret and key";
      }
    }
    json_object_put(m);
    if (pr == -ENOMEM) r = pr;
    else if (pr < 0)
      r = fo_findings_add(e, "spec.flinkConfiguration", "%s cannot be read: %s (\"%s\")", k->key,
                          why, v);
  }

  /* 3b. Flink before 1.19 reads flink-conf.yaml line by line, without quoting: a line break or
   * a '#' (a comment there) in a key or value would be misread */
  if (r == 0 && legacy_flink(s->flink_version))
    r = legacy_conf_check(e, s->flink_configuration, NULL, 0);
  for (uint32_t i = 0;
       r == 0 && legacy_flink(s->flink_version) && s->job.args && i < s->job.args->n; i++) {
    const struct fo_jv *a = &s->job.args->u.items[i];
    if (a->type == FO_JSTRING && memchr_any(a->u.s, a->n, "\n\r#"))
      r = fo_findings_add(
          e, "spec.job.args",
          "Job argument %u cannot contain a line break or '#' with Flink before 1.19 "
          "(flink-conf.yaml has no quoting)",
          i);
  }

  /* 10. ingress and log configuration */
  const char *itmpl = s->ingress ? fo_jv_get_string(s->ingress, "template") : NULL;
  if (r == 0 && s->ingress && !itmpl)
    r = fo_findings_add(e, "spec.ingress.template", "Ingress template must be defined");
  if (r == 0 && itmpl) {
    struct fo_ingress_url u;
    char why[600];
    int ir = fo_ingress_render(itmpl, d.name, d.namespace_, &u, why, sizeof why);
    if (ir == -ENOMEM) r = ir;
    else if (ir < 0)
      r = fo_findings_add(e, "spec.ingress.template",
                          "Unable to process the Ingress template(%.1024s). Error: %s", itmpl, why);
    fo_ingress_url_free(&u);
  }
  for (uint32_t i = 0; r == 0 && s->log_configuration && i < s->log_configuration->n; i++) {
    const char *k = s->log_configuration->u.members[i].key;
    if (!fo_enum_contains(log_keys, k))
      r = fo_findings_add(e, "spec.logConfiguration",
                          "Invalid log config key: %s. Allowed keys are [%s, %s]", k, log_keys[0],
                          log_keys[1]);
  }

  /* 4-8. the job and its upgrade mode */
  bool ha = fo_conf_view_ha_enabled(&conf);
  const char *cp_dir = fo_conf_view_checkpoint_dir(&conf);

  /* 3b. what the operator's features need (the reference's words), and what is not there yet */
  bool rollback = conf_true(&conf, "kubernetes.operator.deployment.rollback.enabled", false);
  bool health = conf_true(&conf, "kubernetes.operator.cluster.health-check.enabled", false);
  if (r == 0 && rollback && !ha)
    r = fo_findings_add(e, "spec.flinkConfiguration", "HA must be enabled for rollback support.");
  if (r == 0 && health &&
      !conf_true(&conf, "kubernetes.operator.jm-deployment-recovery.enabled", true))
    r = fo_findings_add(e, "spec.flinkConfiguration",
                        "Deployment recovery (kubernetes.operator.jm-deployment-recovery.enabled) "
                        "must be enabled for job health check "
                        "(kubernetes.operator.cluster.health-check.enabled) support.");
  /* the health check's options, read as Flink reads a Duration and an integer */
  static const char *const health_durations[] = {
      "kubernetes.operator.cluster.health-check.restarts.window",
      "kubernetes.operator.cluster.health-check.checkpoint-progress.window", NULL};
  for (const char *const *k = health_durations; r == 0 && *k; k++) {
    const char *v = fo_conf_view_get(&conf, *k);
    int64_t ms;
    if (v && fo_duration_parse(v, &ms) < 0)
      r = fo_findings_add(e, "spec.flinkConfiguration", "%s must be a duration, not \"%s\"", *k, v);
  }
  const char *thr =
      fo_conf_view_get(&conf, "kubernetes.operator.cluster.health-check.restarts.threshold");
  if (r == 0 && thr && !whole_in(thr, 0, INT32_MAX))
    r = fo_findings_add(e, "spec.flinkConfiguration",
                        "kubernetes.operator.cluster.health-check.restarts.threshold must be a "
                        "whole number, not \"%s\"",
                        thr);
  if (r == 0 && s->job.present) {
    const char *mode = fo_job_upgrade_mode(&s->job);
    bool last_state = strcmp(mode, "last-state") == 0;
    if (last_state && !ha)
      r = fo_findings_add(e, "spec.job.upgradeMode",
                          "Job could not be upgraded with last-state while Kubernetes HA disabled");
    if (r == 0) r = check_snapshot_dirs(e, &s->job, &conf);
    if (r == 0) r = check_schedule(e, &conf, "kubernetes.operator.periodic.savepoint.interval");
    if (r == 0) r = check_schedule(e, &conf, "kubernetes.operator.periodic.checkpoint.interval");
    if (r == 0 && s->task_manager.replicas.set && s->task_manager.replicas.v < 1)
      r = fo_findings_add(e, "spec.taskManager.replicas",
                          "TaskManager replicas must be larger than 0");
    if (r == 0 && !s->task_manager.replicas.set &&
        (!s->job.parallelism.set || s->job.parallelism.v < 1))
      r = fo_findings_add(e, "spec.job.parallelism", "Job parallelism must be larger than 0");
    if (r == 0 && last_state && ha && cp_dir && !fo_conf_view_checkpoint_interval_set(&conf))
      r = fo_findings_add(w, "spec.flinkConfiguration",
                          "job.upgradeMode last-state without execution.checkpointing.interval: "
                          "upgrades recover from the latest checkpoint, and without periodic "
                          "checkpoints there may be none");
  } else if (r == 0 && s->task_manager.replicas.set && s->task_manager.replicas.v < 1) {
    r = fo_findings_add(e, "spec.taskManager.replicas",
                        "TaskManager replicas should not be configured less than one.");
  }

  /* 8. JobManager replicas */
  if (r == 0 && s->job_manager.replicas.set && s->job_manager.replicas.v < 1)
    r = fo_findings_add(e, "spec.jobManager.replicas",
                        "JobManager replicas should not be configured less than one.");
  if (r == 0 && fo_jm_replicas(s) > 1 && !ha)
    r = fo_findings_add(e, "spec.jobManager.replicas",
                        "High availability should be enabled when starting standby "
                        "JobManagers.");

  /* 9. memory: defined (in the spec, or Flink can derive the process's from its configuration),
   * readable, and the ResourceRequirements' rules */
  if (r == 0 && !memory_defined(&s->job_manager, fo_jv_get(d.spec_json, "jobManager")) &&
      !jm_memory_configured(&conf))
    r = fo_findings_add(e, "spec.jobManager",
                        "JobManager resource memory must be defined using "
                        "`spec.jobManager.resource.memory` or "
                        "`spec.jobManager.resources.requests.memory`");
  if (r == 0 && !memory_defined(&s->task_manager, fo_jv_get(d.spec_json, "taskManager")) &&
      !tm_memory_configured(&conf))
    r = fo_findings_add(e, "spec.taskManager",
                        "TaskManager resource memory must be defined using "
                        "`spec.taskManager.resource.memory` or "
                        "`spec.taskManager.resources.requests.memory`");
  if (r == 0)
    r = check_memory(e, "JobManager", "spec.jobManager.resource", &s->job_manager.resource);
  if (r == 0)
    r = fo_compres_check(e, "JobManager", "spec.jobManager.resources", s->job_manager.resources);
  if (r == 0)
    r = check_memory(e, "TaskManager", "spec.taskManager.resource", &s->task_manager.resource);
  if (r == 0)
    r = fo_compres_check(e, "TaskManager", "spec.taskManager.resources", s->task_manager.resources);

  /* 10a. the autoscaler's options */
  if (r == 0) r = check_autoscaler(e, &conf);

  /* 11. against the last deployed spec */
  if (r == 0) r = check_against_last(e, s, status, arena);

  /* warnings about the change itself */
  if (r == 0) r = warn_pending_savepoint(w, d.spec_json, old_obj, status);

  if (e->oom || w->oom || conf.oom) return -ENOMEM;
  return r < 0 ? r : 0;
}

int fo_rules_validate(const struct fo_jv *obj, const struct fo_jv *old_obj,
                      json_object *default_conf, struct fo_findings *e, struct fo_findings *w) {
  struct fo_arena arena;
  fo_arena_init(&arena, SIZE_MAX);
  int r = validate(obj, old_obj, default_conf, e, w, &arena);
  fo_arena_free(&arena);
  return r;
}

int fo_rules_validate_json(json_object *obj, json_object *old_obj, json_object *default_conf,
                           struct fo_findings *e, struct fo_findings *w) {
  struct fo_arena arena;
  fo_arena_init(&arena, SIZE_MAX);
  const struct fo_jv *o, *old = NULL;
  int r = fo_jv_from_json(&arena, obj, &o);
  if (r == 0 && old_obj) r = fo_jv_from_json(&arena, old_obj, &old);
  if (r == 0) r = validate(o, old, default_conf, e, w, &arena);
  fo_arena_free(&arena);
  return r == -E2BIG ? -EINVAL : r;
}

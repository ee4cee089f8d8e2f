/* The controller's state machine without a cluster: the reconcile pass against the in-memory API
 * server and JobManager of fakecluster.c.
 *   - the phase derivation as a table (status and cluster -> phase);
 *   - single passes: an observed state and a change -> the requests made and the status written;
 *   - whole lifecycles per upgrade mode, checked from the far side (the fake JobManager: jobs
 *     started, savepoints taken, what a start restored from), and the phases passed through;
 *   - a kill before every write of an upgrade, then a restart: exactly one savepoint, restored
 *     from it, never an empty start of a stateful job. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cluster.h"
#include "fakecluster.h"
#include "flinkop/clock.h"
#include "flinkop/kube.h"
#include "lifecycle.h"
#include "pass.h"
#include "events.h"
#include "reconcile.h"
#include "testutil.h"

#define NS "jobs"

/* ---- harness ---- */

struct h {
  struct fake *fake;
  struct fo_kube_config cfg;
  struct fo_kube *k;
  struct pass_env env;
  json_object *defaults;
  char key[128];
  const char *name;
};

static void h_init(struct h *h, const char *name) {
  memset(h, 0, sizeof *h);
  event_forget(); /* a new controller process */
  h->fake = fake_new();
  h->cfg.server = (char *)"https://fake";
  h->k = fo_kube_new(&h->cfg);
  fo_kube_set_transport(h->k, fake_kube_transport, h->fake);
  /* (the fake Flink serves its checkpoint statistics fresh: no cache to wait out) */
  h->defaults = tu_json(
      "{\"taskmanager.numberOfTaskSlots\": \"2\", "
      "\"rest.cache.checkpoint-statistics.timeout\": \"0 ms\"}");
  h->env = (struct pass_env){.flink_url_template = "http://{name}-rest.{namespace}:8081",
                             .default_conf = h->defaults,
                             .flink_transport = fake_flink_transport,
                             .flink_transport_ud = h->fake};
  h->name = name;
  snprintf(h->key, sizeof h->key, "%s/%s", NS, name);
}

static void h_free(struct h *h) {
  fo_kube_free(h->k);
  fake_free(h->fake);
  json_object_put(h->defaults);
}

/* A FlinkDeployment of the StateMachineExample job, with our finalizer, in `mode`. */
static void h_create(struct h *h, const char *mode, const char *state, const char *extra_conf,
                     const char *extra_job) {
  char text[4096];
  snprintf(
      text, sizeof text,
      "{\"apiVersion\":\"flink.apache.org/v1beta1\",\"kind\":\"FlinkDeployment\","
      "\"metadata\":{\"name\":\"%s\",\"namespace\":\"" NS
      "\",\"finalizers\":[\"flinkdeployments.flink.apache.org/finalizer\"]},"
      "\"spec\":{\"image\":\"flink:1.20\",\"flinkVersion\":\"v1_20\",\"serviceAccount\":\"flink\","
      "\"flinkConfiguration\":{\"state.checkpoints.dir\":\"file:///"
      "checkpoints\",\"state.savepoints.dir\":\"file:///savepoints\","
      "\"execution.checkpointing.interval\":\"10s\"%s},"
      "\"jobManager\":{\"resource\":{\"memory\":\"2048m\",\"cpu\":1}},\"taskManager\":{"
      "\"resource\":{\"memory\":\"2048m\",\"cpu\":1}},"
      "\"job\":{\"jarURI\":\"local:///opt/flink/examples/streaming/"
      "StateMachineExample.jar\",\"parallelism\":2,"
      "\"upgradeMode\":\"%s\",\"state\":\"%s\"%s}}}",
      h->name, extra_conf ? extra_conf : "", mode, state, extra_job ? extra_job : "");
  assert_int_equal(fake_put(h->fake, text), 0);
}

#define HA \
  ",\"high-availability.type\":\"kubernetes\",\"high-availability.storageDir\":\"file:///ha\""

static int h_pass(struct h *h, double *again) {
  double a = 0;
  int r = reconcile(&h->env, h->k, fake_copy(h->fake, "flinkdeployments", NS, h->name), h->key,
                    again ? again : &a);
  return r;
}

static json_object *h_fd(struct h *h) { return fake_get(h->fake, "flinkdeployments", NS, h->name); }
static const char *h_status(struct h *h, const char *field) {
  return fo_json_get_string(fo_json_get_object(h_fd(h), "status"), field);
}
/* A field of the Running condition ("" when there is none). */
static const char *h_condition(struct h *h, const char *field) {
  json_object *c = fo_json_path(h_fd(h), "status", "conditions", (const char *)NULL);
  const char *v = c ? fo_json_get_string(json_object_array_get_idx(c, 0), field) : NULL;
  return v ? v : "";
}
static const char *h_job(struct h *h, const char *field) {
  return fo_json_get_string(fo_json_path(h_fd(h), "status", "jobStatus", (const char *)NULL),
                            field);
}

/* Warning Events recorded so far with `reason` (the flink_operator_warnings_total metric). */
static unsigned long long h_warnings(const char *reason) {
  for (size_t i = 0; event_warning_reason(i); i++)
    if (!strcmp(event_warning_reason(i), reason)) return event_warnings(i);
  fail_msg("no warning reason %s", reason);
  return 0;
}

/* The phase the next pass will find (the cluster looked at as the pass does). */
static enum lc_phase h_phase(struct h *h) {
  struct pass p;
  json_object *o = fake_copy(h->fake, "flinkdeployments", NS, h->name);
  assert_int_equal(pass_load(&p, &h->env, h->k, o, h->key), 0);
  struct lc_cluster cl = {0};
  json_object *dep = fake_get(h->fake, "deployments", NS, h->name);
  if (dep) {
    lc_cluster_of(dep, &cl);
  } else {
    char tm[256];
    snprintf(tm, sizeof tm, "%s-taskmanager", h->name);
    cl.left = fake_get(h->fake, "deployments", NS, tm) != NULL;
    json_object *pods = fake_all(h->fake, "pods");
    if (pods) {
      json_object_object_foreach(pods, k, pod) {
        (void)k;
        json_object *l = fo_json_path(pod, "metadata", "labels", (const char *)NULL);
        const char *app = fo_json_get_string(l, "app");
        if (fo_json_get_string(l, "component") && app && !strcmp(app, h->name)) cl.left = true;
      }
    }
  }
  enum lc_phase ph = lc_phase_of(&p, &cl);
  pass_unload(&p);
  return ph;
}

/* Settled: the status says the spec in hand runs (or is suspended) and nothing is in flight. */
static bool h_settled(struct h *h) {
  json_object *fd = h_fd(h);
  int64_t gen = 0, obs = -1;
  fo_json_as_int64(fo_json_path(fd, "metadata", "generation", (const char *)NULL), &gen);
  fo_json_as_int64(fo_json_path(fd, "status", "observedGeneration", (const char *)NULL), &obs);
  const char *life = h_status(h, "lifecycleState");
  if (gen != obs || !life) return false;
  if (fo_json_path(fd, "status", "jobStatus", "savepointInfo", "triggerId", (const char *)NULL))
    return false;
  return !strcmp(life, "STABLE") || !strcmp(life, "SUSPENDED") || !strcmp(life, "ROLLED_BACK");
}

/* Passes (and ticks of the fake cluster) until settled; the phases seen, joined by ' '. Fails the
 * test after `max` passes. Pass errors (a conflict, say) are retried as the work queue would. */
static void h_converge(struct h *h, int max, char *phases, size_t n) {
  if (phases) phases[0] = '\0';
  enum lc_phase last = LC_PHASE_COUNT;
  for (int i = 0; i < max; i++) {
    if (phases) {
      enum lc_phase ph = h_phase(h);
      if (ph != last) {
        size_t used = strlen(phases);
        snprintf(phases + used, n - used, "%s%s", used ? " " : "", lc_phase_name(ph));
        last = ph;
      }
    }
    h_pass(h, NULL);
    fake_tick(h->fake);
    if (h_settled(h) && h_phase(h) != LC_NEW) {
      enum lc_phase ph = h_phase(h);
      if (phases && ph != last) {
        size_t used = strlen(phases);
        snprintf(phases + used, n - used, "%s%s", used ? " " : "", lc_phase_name(ph));
      }
      return;
    }
  }
  struct fake_flink_view v;
  fake_flink_view(h->fake, &v);
  fprintf(stderr, "requests of %s:\n%s", h->name, fake_log(h->fake));
  fail_msg("%s did not settle after %d passes (JobManager %s, job %s %s, %d starts); status %s",
           h->name, max, v.up ? "up" : "down", v.job_id, v.job_state, v.starts,
           json_object_to_json_string(fo_json_get_object(h_fd(h), "status")));
}

/* ---- the phase table ---- */

struct phase_case {
  const char *name;
  const char *status; /* JSON or NULL */
  const char *spec_mode, *spec_state;
  int64_t generation;
  struct lc_cluster cl;
  enum lc_phase want;
};

static const char *rec(const char *state, const char *mode) {
  static char buf[4][512];
  static int k;
  char *b = buf[k++ % 4];
  snprintf(b, 512,
           "{\\\"spec\\\":{\\\"job\\\":{\\\"state\\\":\\\"%s\\\",\\\"upgradeMode\\\":\\\"%s\\\"}},"
           "\\\"resource_metadata\\\":{}}",
           state, mode);
  return b;
}

static void test_phase_table(void **state) {
  (void)state;
  char st[16][1024];
  snprintf(st[0], 1024,
           "{\"reconciliationStatus\":{\"state\":\"DEPLOYED\",\"lastReconciledSpec\":\"%s\"},"
           "\"observedGeneration\":1}",
           rec("running", "savepoint"));
  snprintf(st[1], 1024,
           "{\"reconciliationStatus\":{\"state\":\"DEPLOYED\",\"lastReconciledSpec\":\"%s\"},"
           "\"observedGeneration\":1}",
           rec("suspended", "savepoint"));
  snprintf(st[2], 1024,
           "{\"reconciliationStatus\":{\"state\":\"DEPLOYED\",\"lastReconciledSpec\":\"%s\"},"
           "\"jobStatus\":{\"savepointInfo\":{\"triggerId\":\"0123456789abcdef0123456789abcdef\"}},"
           "\"observedGeneration\":1}",
           rec("running", "savepoint"));
  snprintf(st[3], 1024,
           "{\"reconciliationStatus\":{\"state\":\"UPGRADING\",\"lastReconciledSpec\":\"%s\"},"
           "\"observedGeneration\":2}",
           rec("suspended", "savepoint"));
  snprintf(st[4], 1024,
           "{\"reconciliationStatus\":{\"state\":\"UPGRADING\",\"lastReconciledSpec\":\"%s\"},"
           "\"jobStatus\":{\"upgradeSavepointPath\":\"file:/sp/1\"},\"observedGeneration\":2}",
           rec("suspended", "savepoint"));
  snprintf(st[5], 1024,
           "{\"reconciliationStatus\":{\"state\":\"UPGRADING\",\"lastReconciledSpec\":\"%s\"},"
           "\"observedGeneration\":2}",
           rec("suspended", "stateless"));
  snprintf(st[6], 1024,
           "{\"reconciliationStatus\":{\"state\":\"UPGRADING\",\"lastReconciledSpec\":\"%s\"},"
           "\"jobStatus\":{\"state\":\"RECONCILING\"},\"observedGeneration\":2}",
           rec("suspended", "stateless"));
  snprintf(st[7], 1024,
           "{\"reconciliationStatus\":{\"state\":\"UPGRADING\",\"lastReconciledSpec\":\"%s\"},"
           "\"observedGeneration\":2}",
           rec("suspended", "last-state"));
  const struct lc_cluster none = {0},
                          old = {.jm_deployment = true,
                                 .jm_generation_set = true,
                                 .jm_generation = 1},
                          ours = {.jm_deployment = true,
                                  .jm_generation_set = true,
                                  .jm_generation = 2},
                          plain = {.jm_deployment = true},
                          going = {.jm_deployment = true,
                                   .jm_deleting = true,
                                   .jm_generation_set = true,
                                   .jm_generation = 1},
                          ours_going = {.jm_deployment = true,
                                        .jm_deleting = true,
                                        .jm_generation_set = true,
                                        .jm_generation = 2},
                          tm_left = {.left = true};
  const struct phase_case cases[] = {
      {"nothing recorded", NULL, "savepoint", "running", 1, none, LC_NEW},
      {"deployed running", st[0], "savepoint", "running", 1, none, LC_RUNNING},
      {"deployed running, spec changed (still RUNNING: the change starts there)", st[0],
       "savepoint", "running", 2, none, LC_RUNNING},
      {"deployed suspended", st[1], "savepoint", "suspended", 1, none, LC_SUSPENDED},
      {"deployed suspended, asked to run", st[1], "savepoint", "running", 2, none, LC_SUSPENDED},
      {"a manual savepoint in flight", st[2], "savepoint", "running", 1, none, LC_SAVEPOINT},
      {"savepoint upgrade, old cluster, no savepoint yet", st[3], "savepoint", "running", 2, old,
       LC_STOP_SAVEPOINT},
      {"savepoint upgrade, old cluster, savepoint taken", st[4], "savepoint", "running", 2, old,
       LC_STOP_CLUSTER},
      {"savepoint upgrade, the old cluster going (pods stopping), no savepoint: still stopping",
       st[3], "savepoint", "running", 2, going, LC_STOP_CLUSTER},
      {"stateless upgrade, the old cluster going", st[5], "stateless", "running", 2, going,
       LC_STOP_CLUSTER},
      {"stateless upgrade, old cluster", st[5], "stateless", "running", 2, old, LC_STOP_CLUSTER},
      {"stateless upgrade, a Deployment without our annotation", st[5], "stateless", "running", 2,
       plain, LC_STOP_CLUSTER},
      {"upgrade, no cluster, to run", st[5], "stateless", "running", 2, none, LC_START},
      {"upgrade, the JobManager Deployment gone, its TaskManagers' Deployment or pods still going",
       st[4], "savepoint", "running", 2, tm_left, LC_STOP_CLUSTER},
      {"the same, to suspend", st[5], "stateless", "suspended", 2, tm_left, LC_STOP_CLUSTER},
      {"upgrade, no cluster, to suspend", st[5], "stateless", "suspended", 2, none, LC_STOPPED},
      {"our cluster applied for the spec in hand", st[6], "stateless", "running", 2, ours,
       LC_STARTED},
      {"our cluster applied, but being deleted: it goes, then starts again", st[6], "stateless",
       "running", 2, ours_going, LC_STOP_CLUSTER},
      {"our cluster applied, but the spec changed again", st[6], "stateless", "running", 3, ours,
       LC_STOP_CLUSTER},
      {"a cluster of the generation, not yet RECONCILING", st[5], "stateless", "running", 2, ours,
       LC_STOP_CLUSTER},
      {"last-state upgrade, old cluster", st[7], "last-state", "running", 2, old, LC_STOP_CLUSTER},
      {"last-state upgrade, no cluster", st[7], "last-state", "running", 2, none, LC_START},
  };
  struct h h;
  h_init(&h, "table");
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    const struct phase_case *c = &cases[i];
    char text[4096];
    snprintf(
        text, sizeof text,
        "{\"apiVersion\":\"flink.apache.org/"
        "v1beta1\",\"kind\":\"FlinkDeployment\",\"metadata\":{\"name\":\"t\",\"namespace\":\"n\","
        "\"generation\":%lld},\"spec\":{\"job\":{\"jarURI\":\"local:///"
        "x.jar\",\"upgradeMode\":\"%s\",\"state\":\"%s\"}}%s%s}",
        (long long)c->generation, c->spec_mode, c->spec_state, c->status ? ",\"status\":" : "",
        c->status ? c->status : "");
    struct pass p;
    assert_int_equal(pass_load(&p, &h.env, h.k, tu_json(text), "n/t"), 0);
    enum lc_phase got = lc_phase_of(&p, &c->cl);
    pass_unload(&p);
    if (got != c->want)
      fail_msg("%s: want %s, got %s", c->name, lc_phase_name(c->want), lc_phase_name(got));
  }
  h_free(&h);
}

/* ---- single passes: the requests and the status ---- */

static void assert_log(struct h *h, const char *want) {
  const char *log = fake_log(h->fake);
  if (strcmp(log, want)) fail_msg("requests:\n%s\nwant:\n%s", log, want);
}

static void test_pass_new_running(void **state) {
  (void)state;
  struct h h;
  h_init(&h, "new");
  h_create(&h, "stateless", "running", NULL, NULL);
  fake_log_clear(h.fake);
  double again = -1;
  assert_int_equal(h_pass(&h, &again), 0);
  /* a transition begins (an Event) and, nothing of a cluster being left (a standalone one's
   * TaskManagers can outlive the JobManager; a pod still stopping is a Flink process still
   * running), starts at once: no HA data (stateless), the transition and the job id recorded in
   * one write, then the cluster's objects applied */
  assert_log(&h,
             "POST /api/v1/namespaces/jobs/events\n"
             "GET /apis/apps/v1/namespaces/jobs/deployments/new\n"
             "GET /api/v1/namespaces/jobs/pods\n"
             "GET /api/v1/namespaces/jobs/configmaps\n"
             "PUT /apis/flink.apache.org/v1beta1/namespaces/jobs/flinkdeployments/new/status\n"
             "POST /api/v1/namespaces/jobs/configmaps\n"
             "POST /api/v1/namespaces/jobs/services\n"
             "POST /api/v1/namespaces/jobs/services\n"
             "POST /apis/apps/v1/namespaces/jobs/deployments\n");
  assert_string_equal(
      fo_json_get_string(
          fo_json_path(h_fd(&h), "status", "reconciliationStatus", (const char *)NULL), "state"),
      "UPGRADING");
  assert_true(again > 0);
  assert_int_equal(h_phase(&h), LC_STARTED);
  assert_string_equal(h_job(&h, "state"), "RECONCILING");
  assert_non_null(h_job(&h, "jobId"));
  const char *conf =
      fo_json_get_string(fo_json_path(fake_get(h.fake, "configmaps", NS, "flink-config-new"),
                                      "data", (const char *)NULL),
                         "config.yaml");
  char want[128];
  snprintf(want, sizeof want, "\"$internal.pipeline.job-id\": \"%s\"", h_job(&h, "jobId"));
  assert_non_null(strstr(conf, want));
  assert_int_equal(h_phase(&h), LC_STARTED);
  h_free(&h);
}

/* ---- a failed pass, made visible ---- */

static void test_failure_classes(void **state) {
  (void)state;
  static const struct {
    int err;
    long code;
    const char *method, *want;
  } cases[] = {
      {-EINVAL, 422, "POST", "Invalid"},
      {-EINVAL, 400, "POST", "BadRequest"},
      {-EINVAL, 0, "", "Error"},
      {-EPERM, 403, "POST", "Forbidden"},
      {-EACCES, 401, "GET", "Unauthorized"},
      {-ESTALE, 409, "PUT", "Conflict"},
      {-EEXIST, 409, "POST", "AlreadyExists"},
      {-EAGAIN, 429, "GET", "TooManyRequests"},
      {-EIO, 500, "GET", "ServerError"},
      {-EIO, 503, "PUT", "ServerError"},
      {-ECONNREFUSED, 0, "GET", "Unreachable"},
      {-ETIMEDOUT, 0, "POST", "Unreachable"},
      {-ENOMEM, 0, "", "OutOfMemory"},
      {-ENOSPC, 0, "", "Error"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    struct fo_kube_error e = {.http_code = cases[i].code};
    snprintf(e.method, sizeof e.method, "%s", cases[i].method);
    const char *got = reconcile_failure_class(cases[i].err, &e);
    if (strcmp(got, cases[i].want))
      fail_msg("case %zu (%d, %ld): want %s, got %s", i, cases[i].err, cases[i].code, cases[i].want,
               got);
  }
  assert_string_equal(reconcile_failure_class(-EPERM, NULL), "Error");
}

/* the Events of the fake with this reason: how many, the first's message and count */
static size_t h_events(struct h *h, const char *reason, const char **ret_msg, int64_t *ret_count) {
  json_object *evs = fake_all(h->fake, "events");
  size_t n = 0;
  if (!evs) return 0;
  json_object_object_foreach(evs, k, ev) {
    (void)k;
    const char *r = fo_json_get_string(ev, "reason");
    if (!r || strcmp(r, reason)) continue;
    if (!n++) {
      *ret_msg = fo_json_get_string(ev, "message");
      fo_json_as_int64(fo_json_get(ev, "count"), ret_count);
    }
  }
  return n;
}

static void test_failure_reported(void **state) {
  (void)state;
  struct h h;
  h_init(&h, "refused");
  h_create(&h, "stateless", "running", NULL, NULL);
  static const char words[] =
      "Deployment.apps \"refused\" is invalid: "
      "spec.template.spec.initContainers[0].volumeMounts[0].name: Not "
      "found: \"downloads\"";
  fake_refuse(h.fake, "POST", "deployments", 422, "Invalid", words);
  for (int attempt = 1; attempt <= 2; attempt++) {
    int r = h_pass(&h, NULL);
    assert_int_equal(r, -EINVAL);
    struct fo_kube_error why = *fo_kube_last_error(h.k);
    assert_int_equal(
        reconcile_report(&h.env, h.k, fake_copy(h.fake, "flinkdeployments", NS, h.name), h.key, r,
                         &why, &(struct reconcile_retry){.in_s = 10 * attempt, .attempt = attempt}),
        0);
    json_object *e = json_tokener_parse(h_status(&h, "error"));
    assert_non_null(e);
    assert_string_equal(fo_json_get_string(e, "type"),
                        "org.apache.flink.kubernetes.operator.exception.ReconciliationException");
    const char *msg = fo_json_get_string(e, "message");
    assert_non_null(strstr(msg, "POST /apis/apps/v1/namespaces/jobs/deployments: "));
    assert_non_null(strstr(msg, words)); /* the API server's own words */
    assert_non_null(strstr(msg, "(HTTP 422 Invalid)"));
    char next[32];
    snprintf(next, sizeof next, "next attempt in %d s (", 10 * attempt);
    assert_non_null(strstr(msg, next));
    json_object *md = fo_json_get_object(e, "additionalMetadata");
    assert_string_equal(fo_json_get_string(md, "class"), "Invalid");
    int64_t code = 0;
    fo_json_as_int64(fo_json_get(md, "httpCode"), &code);
    assert_int_equal(code, 422);
    assert_non_null(fo_json_get_string(md, "nextAttempt"));
    int64_t n = 0;
    fo_json_as_int64(fo_json_get(md, "attempt"), &n);
    assert_int_equal(n, attempt);
    /* the Running condition says it too */
    assert_non_null(strstr(h_condition(&h, "message"), words));
    json_object_put(e);
    /* one Warning Event for the same failure, its count growing (no time in its message) */
    const char *ev = NULL;
    int64_t count = 0;
    assert_int_equal(h_events(&h, "Error", &ev, &count), 1);
    assert_non_null(strstr(ev, words));
    assert_int_equal(count, attempt);
  }
  /* nothing else of the status was lost: the transition is still recorded */
  assert_string_equal(
      fo_json_get_string(
          fo_json_path(h_fd(&h), "status", "reconciliationStatus", (const char *)NULL), "state"),
      "UPGRADING");
  /* the cause goes away: the next pass deploys and clears the error */
  fake_accept(h.fake);
  assert_int_equal(h_pass(&h, NULL), 0);
  assert_non_null(fake_get(h.fake, "deployments", NS, h.name));
  assert_null(h_status(&h, "error"));
  assert_null(strstr(h_condition(&h, "message"), "Not found")); /* said no more */
  h_free(&h);
}

/* Not reported: a conflict (a newer object is on its way), a write this process may not make
 * (no lease: refused before it was sent), an object that is gone. */
static void test_failure_not_reported(void **state) {
  (void)state;
  struct h h;
  h_init(&h, "quiet");
  h_create(&h, "stateless", "running", NULL, NULL);
  size_t w = fake_writes(h.fake);
  struct fo_kube_error conflict = {.http_code = 409, .method = "PUT"};
  const struct reconcile_retry one = {.in_s = 1, .attempt = 1};
  assert_int_equal(reconcile_report(&h.env, h.k, fake_copy(h.fake, "flinkdeployments", NS, h.name),
                                    h.key, -ESTALE, &conflict, &one),
                   0);
  struct fo_kube_error refused = {.http_code = 0, .method = "POST"};
  assert_int_equal(reconcile_report(&h.env, h.k, fake_copy(h.fake, "flinkdeployments", NS, h.name),
                                    h.key, -EPERM, &refused, &one),
                   0);
  assert_int_equal(reconcile_report(&h.env, h.k, NULL, h.key, -EIO, &refused, &one), 0);
  assert_int_equal(fake_writes(h.fake), w);
  /* an API server that does not answer is reported (when the status can still be written) */
  struct fo_kube_error down = {.http_code = 0, .method = "GET", .message = "Connection refused"};
  snprintf(down.path, sizeof down.path, "/apis/apps/v1/namespaces/jobs/deployments/quiet");
  assert_int_equal(
      reconcile_report(&h.env, h.k, fake_copy(h.fake, "flinkdeployments", NS, h.name), h.key,
                       -ECONNREFUSED, &down,
                       &(struct reconcile_retry){.in_s = 5, .attempt = 16, .exhausted = true}),
      0);
  json_object *e = json_tokener_parse(h_status(&h, "error"));
  assert_non_null(strstr(fo_json_get_string(e, "message"),
                         "GET /apis/apps/v1/namespaces/jobs/deployments/quiet: no answer from the "
                         "API server (Connection refused)"));
  assert_non_null(
      strstr(fo_json_get_string(e, "message"), "; retries exhausted, next attempt in 5.0 s ("));
  assert_string_equal(fo_json_get_string(fo_json_get_object(e, "additionalMetadata"), "class"),
                      "Unreachable");
  json_object_put(e);
  h_free(&h);
}

/* The change was reconciled `ms` ago (the status's reconciliationTimestamp moved back). */
static void h_reconciled_ago(struct h *h, int64_t ms) {
  json_object *rs = fo_json_path(h_fd(h), "status", "reconciliationStatus", (const char *)NULL);
  json_object_object_add(rs, "reconciliationTimestamp", json_object_new_int64(fo_clock_ms() - ms));
}

/* Runs passes until the phase is RUNNING (the cluster applied, the JobManager not ready: no tick).
 */
static void h_until_running(struct h *h) {
  for (int i = 0; i < 5 && h_phase(h) != LC_RUNNING; i++) assert_int_equal(h_pass(h, NULL), 0);
  assert_int_equal(h_phase(h), LC_RUNNING);
}

static const char *h_error_message(struct h *h, char *buf, size_t n) {
  json_object *e = h_status(h, "error") ? json_tokener_parse(h_status(h, "error")) : NULL;
  snprintf(buf, n, "%s", fo_json_get_string(e, "message") ? fo_json_get_string(e, "message") : "");
  json_object_put(e);
  return buf;
}

/* A JobManager not ready within kubernetes.operator.deployment.readiness.timeout is said (once),
 * and one whose pods cannot be made (ReplicaFailure: a quota) is an ERROR with its reason. */
static void test_observe_not_ready_and_replica_failure(void **state) {
  (void)state;
  struct h h;
  char msg[1024];
  h_init(&h, "late");
  h_create(&h, "stateless", "running", NULL, NULL);
  h_until_running(&h);
  assert_int_equal(h_pass(&h, NULL), 0);
  assert_string_equal(h_status(&h, "jobManagerDeploymentStatus"), "DEPLOYING");
  assert_null(h_status(&h, "error")); /* within the timeout (5 min) */
  /* the change was reconciled ten minutes ago */
  h_reconciled_ago(&h, 10 * 60 * 1000);
  for (int i = 1; i <= 2; i++) {
    assert_int_equal(h_pass(&h, NULL), 0);
    assert_string_equal(h_error_message(&h, msg, sizeof msg),
                        "JobManager deployment not ready within 300 s: no JobManager pod");
    const char *ev = NULL;
    int64_t count = 0;
    assert_int_equal(h_events(&h, "DeploymentNotReady", &ev, &count), 1);
    assert_int_equal(count, 1); /* said once, not every pass */
    /* where else the user looks: the Running condition */
    assert_non_null(strstr(h_condition(&h, "message"), "JobManager deployment not ready within"));
  }
  assert_string_equal(h_status(&h, "jobManagerDeploymentStatus"), "DEPLOYING"); /* it waits on */
  /* its pods cannot be made */
  json_object *dep = fake_get(h.fake, "deployments", NS, "late");
  json_object *st = json_object_new_object();
  json_object_object_add(
      st, "conditions",
      json_tokener_parse(
          "[{\"type\":\"Progressing\",\"status\":\"True\"},{\"type\":"
          "\"ReplicaFailure\",\"status\":\"True\",\"reason\":\"FailedCreate\","
          "\"message\":\"pods \\\"late-7d9\\\" is forbidden: exceeded quota: q\"}]"));
  json_object_object_add(dep, "status", st);
  assert_int_equal(h_pass(&h, NULL), 0);
  assert_string_equal(h_status(&h, "jobManagerDeploymentStatus"), "ERROR");
  assert_string_equal(h_error_message(&h, msg, sizeof msg),
                      "[FailedCreate] pods \"late-7d9\" is forbidden: exceeded quota: q");
  const char *ev = NULL;
  int64_t count = 0;
  assert_int_equal(h_events(&h, "FailedCreate", &ev, &count), 1);
  assert_string_equal(ev, "[FailedCreate] pods \"late-7d9\" is forbidden: exceeded quota: q");
  /* the quota lifted: the pod made, the JobManager ready, the job running: all cleared */
  json_object_object_del(dep, "status");
  for (int i = 0; i < 10 && !(h_job(&h, "state") && !strcmp(h_job(&h, "state"), "RUNNING")); i++) {
    fake_tick(h.fake);
    assert_int_equal(h_pass(&h, NULL), 0);
  }
  assert_string_equal(h_job(&h, "state"), "RUNNING");
  assert_null(h_status(&h, "error"));
  assert_string_equal(h_condition(&h, "message"), "Job status RUNNING");
  h_free(&h);

  /* a longer timeout: not yet */
  h_init(&h, "patient");
  h_create(&h, "stateless", "running",
           ",\"kubernetes.operator.deployment.readiness.timeout\":\"1 h\"", NULL);
  h_until_running(&h);
  h_reconciled_ago(&h, 10 * 60 * 1000);
  assert_int_equal(h_pass(&h, NULL), 0);
  assert_null(h_status(&h, "error"));
  h_free(&h);
}

/* A ready JobManager whose REST API does not answer: said after a minute from the change (not
 * right after a start), the job RECONCILING; cleared once it answers and the job runs. */
static void test_observe_rest_unreachable(void **state) {
  (void)state;
  struct h h;
  char msg[1024];
  h_init(&h, "mute");
  h_create(&h, "stateless", "running", NULL, NULL);
  h_converge(&h, 20, NULL, 0);
  assert_string_equal(h_job(&h, "state"), "RUNNING");
  fake_flink_break(h.fake, true);
  unsigned long long w0 = h_warnings("RestApiUnreachable");
  assert_int_equal(h_pass(&h, NULL), 0); /* just reconciled: not yet said */
  assert_null(h_status(&h, "error"));
  h_reconciled_ago(&h, 10 * 60 * 1000);
  for (int i = 1; i <= 2; i++) {
    assert_int_equal(h_pass(&h, NULL), 0);
    assert_non_null(
        strstr(h_error_message(&h, msg, sizeof msg), "Flink's REST API does not answer: "));
    assert_string_equal(h_job(&h, "state"), "RECONCILING");
    const char *ev = NULL;
    int64_t count = 0;
    assert_int_equal(h_events(&h, "RestApiUnreachable", &ev, &count), 1);
    assert_int_equal(count, 1);
    assert_int_equal(h_warnings("RestApiUnreachable"), w0 + 1); /* the metric */
    assert_non_null(strstr(h_condition(&h, "message"), "Flink's REST API does not answer: "));
  }
  fake_flink_break(h.fake, false);
  for (int i = 0; i < 10 && !(h_job(&h, "state") && !strcmp(h_job(&h, "state"), "RUNNING")); i++) {
    fake_tick(h.fake);
    assert_int_equal(h_pass(&h, NULL), 0);
  }
  assert_string_equal(h_job(&h, "state"), "RUNNING");
  assert_null(h_status(&h, "error"));
  h_free(&h);
}

/* A pod of the harness's cluster that is stopping (a deletionTimestamp), as an earlier cluster's
 * would be. */
static void h_stopping_pod(struct h *h, const char *name, const char *component) {
  char text[512];
  snprintf(text, sizeof text,
           "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"%s\","
           "\"namespace\":\"" NS
           "\",\"deletionTimestamp\":\"2026-12-01T00:00:00Z\","
           "\"labels\":{\"app\":\"%s\",\"component\":\"%s\"}}}",
           name, h->name, component);
  assert_int_equal(fake_put(h->fake, text), 0);
}

/* A pass handed a copy of the object older than this process's own last write (the informer lags
 * it) must not act on it: the copy says the old cluster is being stopped, the API server says the
 * new one was started. Acting on the copy deleted the new cluster (seen on real Flink: the
 * FlinkDeployment then sat in RECONCILING with its JobManager Deployment MISSING). */
static void test_pass_stale_copy(void **state) {
  (void)state;
  struct h h;
  h_init(&h, "stale");
  h_create(&h, "savepoint", "running", NULL, NULL);
  h_stopping_pod(&h, "stale-0", "jobmanager"); /* an earlier cluster's: the start waits */
  assert_int_equal(h_pass(&h, NULL), 0);
  json_object *before_start = fake_copy(h.fake, "flinkdeployments", NS, h.name);
  assert_int_equal(h_phase(&h), LC_STOP_CLUSTER);
  assert_int_equal(fo_kube_delete(h.k, &fo_res_pods, NS, "stale-0", NULL), 0);
  assert_int_equal(h_phase(&h), LC_START);
  assert_int_equal(h_pass(&h, NULL), 0); /* START: the job id recorded, the cluster applied */
  assert_non_null(fake_get(h.fake, "deployments", NS, h.name));
  double again = 0;
  assert_int_equal(reconcile(&h.env, h.k, before_start, h.key, &again), 0);
  json_object *dep = fake_get(h.fake, "deployments", NS, h.name);
  assert_non_null(dep);
  assert_null(fo_json_get(fo_json_get_object(dep, "metadata"), "deletionTimestamp"));
  assert_string_equal(h_job(&h, "state"), "RECONCILING");
  h_free(&h);
}

/* While a pod of the old cluster is still stopping (its Deployment already gone), nothing new
 * starts: a stopping pod is a Flink process still running, beside which a new one would share the
 * cluster's HA data and checkpoint directories. */
static void test_pass_waits_for_old_pods(void **state) {
  (void)state;
  struct h h;
  h_init(&h, "old");
  h_create(&h, "savepoint", "running", NULL, NULL);
  static const char *const pods[] = {"old-5f6d7c9b8-x2x9z", "old-taskmanager-1-1"};
  for (size_t i = 0; i < 2; i++) h_stopping_pod(&h, pods[i], i ? "taskmanager" : "jobmanager");
  /* created where pods of an earlier cluster of its name still stop: the transition is recorded,
   * nothing applied */
  assert_int_equal(h_pass(&h, NULL), 0);
  assert_null(fake_get(h.fake, "deployments", NS, "old"));
  /* a pod of another FlinkDeployment, or without a component, does not count */
  assert_int_equal(fake_put(h.fake,
                            "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{"
                            "\"name\":\"other\",\"namespace\":\"" NS "\",\"labels\":{"
                            "\"app\":\"old\"}}}"),
                   0);
  for (size_t i = 0; i < 2; i++) {
    assert_int_equal(h_phase(&h), LC_STOP_CLUSTER);
    fake_log_clear(h.fake);
    double again = 0;
    assert_int_equal(h_pass(&h, &again), 0);
    assert_null(strstr(fake_log(h.fake), "POST /apis/apps/v1/namespaces/jobs/deployments"));
    assert_null(fake_get(h.fake, "deployments", NS, "old"));
    assert_true(again > 0); /* it looks again */
    assert_int_equal(fo_kube_delete(h.k, &fo_res_pods, NS, pods[i], NULL), 0);
  }
  /* all gone: the cluster starts */
  assert_int_equal(h_phase(&h), LC_START);
  assert_int_equal(h_pass(&h, NULL), 0);
  assert_non_null(fake_get(h.fake, "deployments", NS, "old"));
  h_free(&h);
}

static void test_pass_created_suspended(void **state) {
  (void)state;
  struct h h;
  h_init(&h, "susp");
  h_create(&h, "savepoint", "suspended", NULL, NULL);
  fake_log_clear(h.fake);
  assert_int_equal(h_pass(&h, NULL), 0);
  assert_log(&h,
             "PUT /apis/flink.apache.org/v1beta1/namespaces/jobs/flinkdeployments/susp/status\n");
  assert_string_equal(h_status(&h, "lifecycleState"), "SUSPENDED");
  assert_null(fake_get(h.fake, "deployments", NS, "susp"));
  h_free(&h);
}

static void test_pass_invalid_spec(void **state) {
  (void)state;
  struct h h;
  h_init(&h, "bad");
  h_create(&h, "last-state", "running", NULL, NULL); /* last-state without HA */
  fake_log_clear(h.fake);
  assert_int_equal(h_pass(&h, NULL), 0);
  assert_log(&h,
             "POST /api/v1/namespaces/jobs/events\n"
             "PUT /apis/flink.apache.org/v1beta1/namespaces/jobs/flinkdeployments/bad/status\n");
  assert_non_null(strstr(h_status(&h, "error"),
                         "Job could not be upgraded with last-state while Kubernetes HA disabled"));
  fake_log_clear(h.fake); /* the same verdict again: no new Event, no write */
  assert_int_equal(h_pass(&h, NULL), 0);
  assert_log(&h, "");
  h_free(&h);
}

static void test_pass_conflict_keeps_other_writer(void **state) {
  (void)state;
  struct h h;
  h_init(&h, "conf");
  h_create(&h, "stateless", "running", NULL, NULL);
  json_object *stale = fake_copy(h.fake, "flinkdeployments", NS, "conf");
  /* someone writes the status after our copy was taken */
  json_object *fd = h_fd(&h);
  json_object_object_add(fd, "status", tu_json("{\"clusterInfo\":{\"theirs\":\"kept\"}}"));
  fake_patch_spec(h.fake, "flinkdeployments", NS, "conf", "{}"); /* bumps the resourceVersion */
  fake_log_clear(h.fake);
  double again;
  assert_int_equal(reconcile(&h.env, h.k, stale, h.key, &again), 0);
  /* refused for its stale resourceVersion, read again, written over the newer status */
  assert_non_null(
      strstr(fake_log(h.fake),
             "PUT /apis/flink.apache.org/v1beta1/namespaces/jobs/flinkdeployments/conf/status\n"
             "GET /apis/flink.apache.org/v1beta1/namespaces/jobs/flinkdeployments/conf\n"
             "PUT /apis/flink.apache.org/v1beta1/namespaces/jobs/flinkdeployments/conf/status\n"));
  assert_string_equal(
      fo_json_get_string(fo_json_path(h_fd(&h), "status", "clusterInfo", (const char *)NULL),
                         "theirs"),
      "kept");
  assert_string_equal(
      fo_json_get_string(
          fo_json_path(h_fd(&h), "status", "reconciliationStatus", (const char *)NULL), "state"),
      "UPGRADING");
  h_free(&h);
}

/* ---- whole lifecycles, from the far side ---- */

static void test_upgrade_per_mode(void **state) {
  (void)state;
  static const struct {
    const char *mode, *conf;
    const char *phases; /* from the spec change to settled */
    int savepoints;
    bool restored_from_savepoint, same_job_id;
  } modes[] = {
      {"stateless", NULL, "RUNNING STOP_CLUSTER START STARTED RUNNING", 0, false, false},
      {"savepoint", NULL, "RUNNING STOP_SAVEPOINT STOP_CLUSTER START STARTED RUNNING", 1, true,
       false},
      {"last-state", HA, "RUNNING STOP_CLUSTER START STARTED RUNNING", 0, false, true},
  };
  for (size_t i = 0; i < sizeof modes / sizeof modes[0]; i++) {
    struct h h;
    h_init(&h, "up");
    h_create(&h, modes[i].mode, "running", modes[i].conf, NULL);
    char phases[256];
    h_converge(&h, 30, phases, sizeof phases);
    assert_string_equal(phases, "NEW STARTED RUNNING"); /* NEW starts at once: nothing is left */
    struct fake_flink_view v0, v;
    fake_flink_view(h.fake, &v0);
    assert_int_equal(v0.starts, 1);
    assert_string_equal(v0.job_state, "RUNNING");
    assert_string_equal(v0.job_id, h_job(&h, "jobId")); /* the status names the job that runs */
    fake_patch_spec(h.fake, "flinkdeployments", NS, "up", "{\"job\":{\"parallelism\":4}}");
    h_converge(&h, 40, phases, sizeof phases);
    if (strcmp(phases, modes[i].phases))
      fail_msg("%s: phases %s, want %s", modes[i].mode, phases, modes[i].phases);
    fake_flink_view(h.fake, &v);
    assert_int_equal(v.starts, 2);
    assert_int_equal(v.savepoints, modes[i].savepoints);
    if (modes[i].restored_from_savepoint) assert_string_equal(v.restored_from, v.last_savepoint);
    else assert_string_equal(v.restored_from, "");
    assert_int_equal(!strcmp(v.job_id, v0.job_id), modes[i].same_job_id);
    assert_string_equal(v.job_id, h_job(&h, "jobId"));
    const char *conf =
        fo_json_get_string(fo_json_path(fake_get(h.fake, "configmaps", NS, "flink-config-up"),
                                        "data", (const char *)NULL),
                           "config.yaml");
    assert_non_null(strstr(conf, "\"parallelism.default\": \"4\""));
    assert_int_equal(v.parallelism, 4); /* the job runs the new spec's graph (in last-state too) */
    h_free(&h);
  }
}

static void test_suspend_resume_savepoint(void **state) {
  (void)state;
  struct h h;
  h_init(&h, "sr");
  h_create(&h, "savepoint", "running", NULL, NULL);
  h_converge(&h, 30, NULL, 0);
  char phases[256];
  fake_patch_spec(h.fake, "flinkdeployments", NS, "sr", "{\"job\":{\"state\":\"suspended\"}}");
  h_converge(&h, 30, phases, sizeof phases);
  assert_string_equal(phases, "RUNNING STOP_SAVEPOINT STOP_CLUSTER STOPPED SUSPENDED");
  assert_string_equal(h_status(&h, "lifecycleState"), "SUSPENDED");
  assert_null(fake_get(h.fake, "deployments", NS, "sr"));
  struct fake_flink_view v;
  fake_flink_view(h.fake, &v);
  assert_int_equal(v.savepoints, 1);
  char sp[256];
  snprintf(sp, sizeof sp, "%s", v.last_savepoint);
  fake_patch_spec(h.fake, "flinkdeployments", NS, "sr", "{\"job\":{\"state\":\"running\"}}");
  h_converge(&h, 30, phases, sizeof phases);
  assert_string_equal(phases, "SUSPENDED START STARTED RUNNING");
  fake_flink_view(h.fake, &v);
  assert_int_equal(v.starts, 2);
  assert_string_equal(v.restored_from, sp);
  h_free(&h);
}

static void test_manual_savepoint(void **state) {
  (void)state;
  struct h h;
  h_init(&h, "man");
  h_create(&h, "stateless", "running", NULL, NULL);
  h_converge(&h, 30, NULL, 0);
  char phases[256];
  fake_patch_spec(h.fake, "flinkdeployments", NS, "man", "{\"job\":{\"savepointTriggerNonce\":7}}");
  h_converge(&h, 20, phases, sizeof phases);
  assert_string_equal(phases, "RUNNING SAVEPOINT RUNNING");
  struct fake_flink_view v;
  fake_flink_view(h.fake, &v);
  assert_int_equal(v.savepoints, 1);
  assert_int_equal(v.starts, 1); /* the job kept running */
  json_object *last = fo_json_path(h_fd(&h), "status", "jobStatus", "savepointInfo",
                                   "lastSavepoint", (const char *)NULL);
  assert_string_equal(fo_json_get_string(last, "location"), v.last_savepoint);
  int64_t nonce = 0;
  fo_json_as_int64(fo_json_get(last, "triggerNonce"), &nonce);
  assert_int_equal(nonce, 7);
  /* a failed one is reported and not retried */
  fake_flink_fail_next_savepoint(h.fake);
  fake_patch_spec(h.fake, "flinkdeployments", NS, "man", "{\"job\":{\"savepointTriggerNonce\":8}}");
  h_converge(&h, 20, NULL, 0);
  fake_flink_view(h.fake, &v);
  assert_int_equal(v.savepoints, 1);
  assert_non_null(strstr(fake_log(h.fake), "POST /api/v1/namespaces/jobs/events"));
  h_free(&h);
}

/* The HA ConfigMaps of a last-state job are lost: an upgrade does not start it empty. */
static void h_lose_ha(struct h *h) {
  struct fake_flink_view v;
  fake_flink_view(h->fake, &v);
  char path[512];
  snprintf(path, sizeof path, "/api/v1/namespaces/jobs/configmaps/%s-%s-config-map", h->name,
           v.job_id);
  const char *d;
  size_t n;
  assert_int_equal(fake_kube_transport(h->fake, "DELETE", path, NULL, &d, &n), 200);
}

/* Deletes the harness's FlinkDeployment as kubectl would (its finalizer holds it). */
static void h_delete(struct h *h) {
  char path[256];
  snprintf(path, sizeof path,
           "/apis/flink.apache.org/v1beta1/namespaces/" NS "/flinkdeployments/%s", h->name);
  const char *d;
  size_t n;
  assert_int_equal(fake_kube_transport(h->fake, "DELETE", path, NULL, &d, &n), 200);
}

static void h_passes(struct h *h, int n) {
  double a;
  for (int i = 0; i < n; i++) {
    h_pass(h, &a);
    fake_tick(h->fake);
  }
}

static void test_last_state_without_ha_data_restores_latest_checkpoint(void **state) {
  (void)state;
  struct h h;
  h_init(&h, "ls");
  h_create(&h, "last-state", "running", HA, NULL);
  h_converge(&h, 30, NULL, 0);
  h_lose_ha(&h);
  fake_flink_checkpoint(h.fake);
  struct fake_flink_view v;
  fake_flink_view(h.fake, &v);
  char latest[256];
  snprintf(latest, sizeof latest, "%s", v.last_checkpoint);
  fake_patch_spec(h.fake, "flinkdeployments", NS, "ls", "{\"job\":{\"parallelism\":3}}");
  h_converge(&h, 40, NULL, 0);
  fake_flink_view(h.fake, &v);
  assert_int_equal(v.starts, 2);
  assert_string_equal(v.restored_from, latest); /* Flink's latest checkpoint, chosen first */
  assert_int_equal(v.parallelism, 3);
  h_free(&h);
}

/* A running job's JobManager Deployment deleted by hand is deployed again: through HA (the same
 * job, its latest checkpoint) when HA is on, empty when stateless; else, or with recovery off, it
 * stays MISSING and says so. */
static void test_recover_missing_deployment(void **state) {
  (void)state;
  static const struct {
    const char *mode, *conf;
    bool recovers, same_job;
  } cases[] = {
      {"stateless", NULL, true, false},
      {"last-state", HA, true, true},
      {"savepoint", HA, true, true},
      {"savepoint", NULL, false, false},
      {"stateless", ",\"kubernetes.operator.jm-deployment-recovery.enabled\":\"false\"", false,
       false},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    struct h h;
    char name[16], msg[256];
    snprintf(name, sizeof name, "rec%zu", i);
    h_init(&h, name);
    h_create(&h, cases[i].mode, "running", cases[i].conf, NULL);
    h_converge(&h, 30, NULL, 0);
    fake_flink_checkpoint(h.fake);
    struct fake_flink_view v0, v;
    fake_flink_view(h.fake, &v0);
    assert_int_equal(fo_kube_delete(h.k, &fo_res_deployments, NS, name, NULL), 0);
    fake_tick(h.fake);
    if (cases[i].recovers) {
      h_converge(&h, 40, NULL, 0);
      fake_flink_view(h.fake, &v);
      assert_non_null(fake_get(h.fake, "deployments", NS, name));
      assert_int_equal(v.starts, v0.starts + 1);
      assert_string_equal(h_job(&h, "state"), "RUNNING");
      assert_int_equal(!strcmp(v.job_id, v0.job_id), cases[i].same_job);
      assert_int_equal(v.stale_ha_starts, 0);
      const char *ev = NULL;
      int64_t count = 0;
      if (h_events(&h, "RecoverDeployment", &ev, &count) != 1) fail_msg("case %zu: no event", i);
      assert_string_equal(ev, "Recovering lost deployment");
    } else {
      for (int k = 0; k < 5; k++) {
        assert_int_equal(h_pass(&h, NULL), 0);
        fake_tick(h.fake);
      }
      assert_null(fake_get(h.fake, "deployments", NS, name));
      assert_string_equal(h_status(&h, "jobManagerDeploymentStatus"), "MISSING");
      assert_string_equal(h_error_message(&h, msg, sizeof msg), "Missing JobManager deployment");
      fake_flink_view(h.fake, &v);
      assert_int_equal(v.starts, v0.starts);
    }
    h_free(&h);
  }
}

/* Before its first checkpoint, Flink's job ConfigMap holds leader annotations and no data at all:
 * a last-state upgrade finds no checkpoint there and asks Flink, whose latest checkpoint the new
 * job restores. */
static void test_last_state_ha_config_map_without_data(void **state) {
  (void)state;
  struct h h;
  h_init(&h, "lsd");
  h_create(&h, "last-state", "running", HA, NULL);
  h_converge(&h, 30, NULL, 0);
  struct fake_flink_view v;
  fake_flink_view(h.fake, &v);
  char path[512], latest[256];
  snprintf(latest, sizeof latest, "%s", v.last_checkpoint);
  snprintf(path, sizeof path, "/api/v1/namespaces/jobs/configmaps/lsd-%s-config-map", v.job_id);
  const char *d;
  size_t n;
  assert_int_equal(fake_kube_transport(h.fake, "GET", path, NULL, &d, &n), 200);
  json_object *cm = json_tokener_parse(d);
  assert_non_null(cm);
  json_object_object_del(cm, "data");
  assert_int_equal(fake_kube_transport(h.fake, "PUT", path, json_object_to_json_string(cm), &d, &n),
                   200);
  json_object_put(cm);
  fake_patch_spec(h.fake, "flinkdeployments", NS, "lsd", "{\"job\":{\"parallelism\":3}}");
  h_converge(&h, 40, NULL, 0);
  fake_flink_view(h.fake, &v);
  assert_int_equal(v.starts, 2);
  assert_string_equal(v.restored_from, latest);
  assert_int_equal(v.parallelism, 3);
  h_free(&h);
}

static void test_nothing_to_restore_from_refuses(void **state) {
  (void)state;
  struct h h;
  h_init(&h, "lsr");
  h_create(&h, "last-state", "running", HA, NULL);
  h_converge(&h, 30, NULL, 0);
  /* HA data lost and Flink cannot be asked what it checkpointed: nothing could bring it back */
  h_lose_ha(&h);
  fake_flink_break(h.fake, true);
  fake_patch_spec(h.fake, "flinkdeployments", NS, "lsr", "{\"job\":{\"parallelism\":3}}");
  unsigned long long w0 = h_warnings("UpgradeFailed");
  h_passes(&h, 12);
  assert_true(h_warnings("UpgradeFailed") > w0); /* the metric */
  struct fake_flink_view v;
  fake_flink_view(h.fake, &v);
  assert_int_equal(v.starts, 1);
  assert_int_equal(h_phase(&h), LC_RUNNING); /* nothing was stopped */
  assert_non_null(fake_get(h.fake, "deployments", NS, "lsr"));
  assert_non_null(strstr(h_status(&h, "error"), "Manual restore required."));
  /* refused again and again: each time later (the retry settings), and said */
  json_object *e = json_tokener_parse(h_status(&h, "error"));
  int64_t attempt = 0;
  assert_true(fo_json_as_int64(fo_json_path(e, "additionalMetadata", "attempt", (const char *)NULL),
                               &attempt));
  assert_true(attempt >= 2);
  assert_non_null(fo_json_path(e, "additionalMetadata", "nextAttempt", (const char *)NULL));
  json_object_put(e);
  double a1 = 0, a2 = 0;
  assert_int_equal(h_pass(&h, &a1), 0);
  assert_int_equal(h_pass(&h, &a2), 0);
  assert_true(a1 >= 5 && a2 > a1); /* 5 s x1.5 per attempt */
  /* Flink answers again (its JobManager recovered the job, and the HA data with it): the upgrade
   * goes on */
  fake_flink_break(h.fake, false);
  h_converge(&h, 40, NULL, 0);
  fake_flink_view(h.fake, &v);
  assert_int_equal(v.parallelism, 3);
  h_free(&h);
}

/* A spec change that comes while the old cluster's pods are still going is seen at once
 * (observedGeneration), and it is the spec the new cluster runs. */
static void test_spec_change_while_stopping(void **state) {
  (void)state;
  struct h h;
  h_init(&h, "sc");
  h_create(&h, "stateless", "running", "", NULL);
  h_converge(&h, 30, NULL, 0);
  double a;
  fake_patch_spec(h.fake, "flinkdeployments", NS, "sc", "{\"job\":{\"parallelism\":3}}");
  for (int i = 0; i < 3 && h_phase(&h) != LC_STOP_CLUSTER; i++) h_pass(&h, &a);
  assert_int_equal(h_phase(&h), LC_STOP_CLUSTER);
  h_pass(&h, &a); /* the delete is sent; the fake's pods go at its next tick */
  fake_patch_spec(h.fake, "flinkdeployments", NS, "sc", "{\"job\":{\"parallelism\":4}}");
  h_pass(&h, &a); /* no tick: the old cluster is still there */
  assert_non_null(fake_get(h.fake, "deployments", NS, "sc"));
  int64_t gen = 0, obs = -1;
  json_object *fd = h_fd(&h);
  fo_json_as_int64(fo_json_path(fd, "metadata", "generation", (const char *)NULL), &gen);
  fo_json_as_int64(fo_json_path(fd, "status", "observedGeneration", (const char *)NULL), &obs);
  assert_int_equal(obs, gen);
  h_converge(&h, 40, NULL, 0);
  struct fake_flink_view v;
  fake_flink_view(h.fake, &v);
  assert_int_equal(v.parallelism, 4);
  h_free(&h);
}

/* savepoint mode, the job not running: no savepoint can be taken; the upgrade restores what Flink
 * last kept instead of waiting for ever, or starts empty when it kept nothing. A finished job's
 * checkpoints are gone (Flink discards them as it finishes): it starts empty, as it kept nothing
 * a start could use. */
static void test_savepoint_mode_failed_job(void **state) {
  (void)state;
  static const struct {
    bool checkpointed;
    const char *job_state;
    bool restores_checkpoint;
  } cases[] = {{true, "FAILED", true},
               {true, "RESTARTING", true},
               {false, "FAILED", false},
               {true, "FINISHED", false}};
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    struct h h;
    h_init(&h, "spf");
    h_create(&h, "savepoint", "running", "", NULL);
    h_converge(&h, 30, NULL, 0);
    if (cases[i].checkpointed) fake_flink_checkpoint(h.fake);
    struct fake_flink_view v;
    fake_flink_view(h.fake, &v);
    char latest[256];
    snprintf(latest, sizeof latest, "%s", v.last_checkpoint);
    fake_flink_set_job_state(h.fake, cases[i].job_state);
    fake_patch_spec(h.fake, "flinkdeployments", NS, "spf", "{\"job\":{\"parallelism\":3}}");
    h_converge(&h, 40, NULL, 0);
    fake_flink_view(h.fake, &v);
    assert_int_equal(v.starts, 2);
    assert_int_equal(v.savepoints, 0);
    assert_string_equal(v.restored_from, cases[i].restores_checkpoint ? latest : "");
    assert_int_equal(v.parallelism, 3);
    h_free(&h);
  }
}

/* What is no upgrade, as the reference classifies it: the operator's own configuration keys, the
 * autoscaler's, parallelism.default, the nonces that ask for snapshots, a configuration written
 * nested instead of flat; and what is one: any other configuration key. */
static void test_changes_that_are_no_upgrade(void **state) {
  (void)state;
  static const struct {
    const char *patch;
    bool upgrade;
  } cases[] = {
      {"{\"flinkConfiguration\":{\"kubernetes.operator.savepoint.history.max.count\":\"3\"}}",
       false},
      {"{\"flinkConfiguration\":{\"job.autoscaler.enabled\":\"false\"}}", false},
      {"{\"flinkConfiguration\":{\"parallelism.default\":\"7\"}}", false},
      {"{\"flinkConfiguration\":{\"state.checkpoints.dir\":null,\"state\":{\"checkpoints\":{"
       "\"dir\":\"file:///checkpoints\"}}}}",
       false},
      {"{\"job\":{\"checkpointTriggerNonce\":5}}", false},
      {"{\"job\":{\"autoscalerResetNonce\":5}}", false},
      {"{\"flinkConfiguration\":{\"pipeline.name\":\"renamed\"}}", true},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    struct h h;
    h_init(&h, "ign");
    h_create(&h, "stateless", "running", NULL, NULL);
    h_converge(&h, 30, NULL, 0);
    fake_patch_spec(h.fake, "flinkdeployments", NS, "ign", cases[i].patch);
    char phases[256];
    h_converge(&h, 40, phases, sizeof phases);
    struct fake_flink_view v;
    fake_flink_view(h.fake, &v);
    if ((v.starts == 2) != cases[i].upgrade)
      fail_msg("%s: %d starts, phases %s", cases[i].patch, v.starts, phases);
    if (!cases[i].upgrade) assert_string_equal(phases, "RUNNING");
    h_free(&h);
  }
}

/* job.savepointRedeployNonce: a new value deploys the job again from job.initialSavepointPath in
 * every upgradeMode, without a savepoint of the running job (its state is given up on purpose) and
 * without its HA data; once: later changes upgrade as the mode says; a nonce removed asks nothing.
 * Suspended, the redeploy happens when the job is asked to run. */
/* A failed job is restored from the checkpoint Flink's statistics name only once they are newer
 * than its end (Flink's REST API caches them, 3 s by default, and a view from before may name a
 * checkpoint since subsumed): meanwhile nothing stops, nothing starts. */
static void test_ended_job_statistics_settle(void **state) {
  (void)state;
  struct h h;
  h_init(&h, "settle");
  json_object_object_add(h.defaults, "rest.cache.checkpoint-statistics.timeout",
                         json_object_new_string("3 s"));
  h_create(&h, "savepoint", "running", "", NULL);
  h_converge(&h, 30, NULL, 0);
  fake_flink_checkpoint(h.fake);
  struct fake_flink_view v;
  fake_flink_view(h.fake, &v);
  char latest[256];
  snprintf(latest, sizeof latest, "%s", v.last_checkpoint);
  fake_flink_set_job_state(h.fake, "FAILED");
  fake_patch_spec(h.fake, "flinkdeployments", NS, "settle", "{\"job\":{\"parallelism\":3}}");
  for (int i = 0; i < 10; i++) assert_int_equal(h_pass(&h, NULL), 0);
  fake_flink_view(h.fake, &v);
  assert_int_equal(v.starts, 1); /* waiting: nothing begun, the old cluster left as it is */
  json_object *st =
      fo_json_get_object(fake_get(h.fake, "flinkdeployments", NS, "settle"), "status");
  assert_string_equal(fo_json_get_string(fo_json_get_object(st, "reconciliationStatus"), "state"),
                      "DEPLOYED");
  json_object *js = fo_json_get_object(st, "jobStatus");
  assert_string_equal(fo_json_get_string(js, "state"), "FAILED");
  char ms[24]; /* as if the cache's time had passed since the failure was seen */
  snprintf(ms, sizeof ms, "%lld", (long long)(fo_clock_ms() - 4000));
  json_object_object_add(js, "updateTime", json_object_new_string(ms));
  h_converge(&h, 40, NULL, 0);
  fake_flink_view(h.fake, &v);
  assert_int_equal(v.starts, 2);
  assert_int_equal(v.savepoints, 0);
  assert_string_equal(v.restored_from, latest);
  h_free(&h);
}

static void test_savepoint_redeploy(void **state) {
  (void)state;
  static const struct {
    const char *mode, *conf;
  } modes[] = {{"stateless", NULL}, {"savepoint", NULL}, {"last-state", HA}};
  static const char given[] = "file:///savepoints/savepoint-given";
  for (size_t i = 0; i < sizeof modes / sizeof modes[0]; i++) {
    struct h h;
    h_init(&h, "rd");
    h_create(&h, modes[i].mode, "running", modes[i].conf, NULL);
    h_converge(&h, 30, NULL, 0);
    if (modes[i].conf) fake_flink_checkpoint(h.fake); /* HA data a last-state upgrade would use */
    char phases[256];
    fake_patch_spec(h.fake, "flinkdeployments", NS, "rd",
                    "{\"job\":{\"initialSavepointPath\":\"file:///savepoints/savepoint-given\","
                    "\"savepointRedeployNonce\":1}}");
    h_converge(&h, 40, phases, sizeof phases);
    if (strcmp(phases, "RUNNING STOP_CLUSTER START STARTED RUNNING"))
      fail_msg("%s: phases %s", modes[i].mode, phases);
    struct fake_flink_view v;
    fake_flink_view(h.fake, &v);
    assert_int_equal(v.starts, 2);
    assert_int_equal(v.savepoints, 0);
    if (strcmp(v.restored_from, given))
      fail_msg("%s: restored from '%s'", modes[i].mode, v.restored_from);
    const char *ev = NULL;
    assert_int_equal(h_events(&h, "SpecChanged", &ev, &(int64_t){0}), 1);
    assert_non_null(strstr(ev, given));
    /* done once: the nonce is recorded, the next pass changes nothing */
    h_converge(&h, 5, phases, sizeof phases);
    assert_string_equal(phases, "RUNNING");
    fake_flink_view(h.fake, &v);
    assert_int_equal(v.starts, 2);
    /* the nonce removed: no request */
    fake_patch_spec(h.fake, "flinkdeployments", NS, "rd",
                    "{\"job\":{\"savepointRedeployNonce\":null}}");
    h_converge(&h, 5, phases, sizeof phases);
    assert_string_equal(phases, "RUNNING");
    /* suspended, then a new nonce with running: the resume starts from the given savepoint */
    fake_patch_spec(h.fake, "flinkdeployments", NS, "rd", "{\"job\":{\"state\":\"suspended\"}}");
    h_converge(&h, 40, NULL, 0);
    assert_string_equal(h_status(&h, "lifecycleState"), "SUSPENDED");
    fake_patch_spec(h.fake, "flinkdeployments", NS, "rd",
                    "{\"job\":{\"state\":\"running\",\"savepointRedeployNonce\":2}}");
    h_converge(&h, 40, phases, sizeof phases);
    assert_string_equal(phases, "SUSPENDED START STARTED RUNNING");
    fake_flink_view(h.fake, &v);
    assert_int_equal(v.starts, 3);
    if (strcmp(v.restored_from, given))
      fail_msg("%s: resumed from '%s'", modes[i].mode, v.restored_from);
    h_free(&h);
  }
}

/* Converges, then Flink took one savepoint, the new job restored it and runs at `parallelism`. */
static void h_upgraded_from_one_savepoint(struct h *h, int parallelism) {
  h_converge(h, 40, NULL, 0);
  struct fake_flink_view v;
  fake_flink_view(h->fake, &v);
  assert_int_equal(v.savepoints, 1);
  assert_string_equal(v.restored_from, v.last_savepoint);
  assert_int_equal(v.parallelism, parallelism);
}

/* savepoint mode: a spec change that comes as soon as Flink runs the job, before the controller
 * has seen it run (its status still RECONCILING, the JobManager DEPLOYING), is a savepoint upgrade:
 * Flink said RUNNING when the stop was planned. A JobManager that then does not answer for a
 * moment is waited for; it is no sign that the job never ran (taken as one, the cluster was
 * deleted without a savepoint and the new job started empty: seen on real Flink on a slow node). */
static void test_savepoint_upgrade_before_running_is_seen(void **state) {
  (void)state;
  struct h h;
  h_init(&h, "early");
  h_create(&h, "savepoint", "running", "", NULL);
  h_until_running(&h);
  fake_tick(h.fake); /* Flink runs the job; no pass has observed it */
  struct fake_flink_view v;
  fake_flink_view(h.fake, &v);
  assert_string_equal(v.job_state, "RUNNING");
  assert_string_equal(h_job(&h, "state"), "RECONCILING");
  assert_string_equal(h_status(&h, "jobManagerDeploymentStatus"), "DEPLOYING");
  fake_patch_spec(h.fake, "flinkdeployments", NS, "early", "{\"job\":{\"parallelism\":3}}");
  assert_int_equal(h_pass(&h, NULL), 0);
  assert_int_equal(h_phase(&h), LC_STOP_SAVEPOINT);
  fake_flink_break(h.fake, true);
  h_passes(&h, 4);
  assert_non_null(fake_get(h.fake, "deployments", NS, "early")); /* nothing was stopped */
  assert_int_equal(h_phase(&h), LC_STOP_SAVEPOINT);
  fake_flink_break(h.fake, false);
  /* (the JobManager that answers again restarted its job: a start) */
  h_upgraded_from_one_savepoint(&h, 3);
  h_free(&h);
}

/* savepoint mode: a job that ran, whose JobManager then stopped answering (its status RECONCILING,
 * as a minute without an answer leaves it) and whose pod went unready (crash-looping): a spec
 * change must not take it for a job that never ran, which would delete the cluster without a
 * savepoint and start the new job empty. Its Deployment says it was available once (the rollout
 * completed): the upgrade waits for the job to run, and nothing is stopped. */
static void test_upgrade_after_jobmanager_went_unready(void **state) {
  (void)state;
  struct h h;
  h_init(&h, "hung");
  h_create(&h, "savepoint", "running", "", NULL);
  h_converge(&h, 30, NULL, 0);
  assert_string_equal(h_job(&h, "state"), "RUNNING");
  fake_flink_break(h.fake, true);
  json_object_object_add(fo_json_path(h_fd(&h), "status", "jobStatus", (const char *)NULL), "state",
                         json_object_new_string("RECONCILING"));
  json_object *dep = fake_get(h.fake, "deployments", NS, "hung");
  char uid[128];
  snprintf(uid, sizeof uid, "%s", fo_json_get_string(fo_json_get_object(dep, "metadata"), "uid"));
  json_object *dst = fo_json_get_object(dep, "status");
  json_object_object_add(dst, "readyReplicas", json_object_new_int(0));
  json_object_object_add(
      dst, "conditions",
      json_tokener_parse("[{\"type\":\"Available\",\"status\":\"False\",\"reason\":"
                         "\"MinimumReplicasUnavailable\"},{\"type\":\"Progressing\",\"status\":"
                         "\"True\",\"reason\":\"NewReplicaSetAvailable\"}]"));
  double a;
  for (int i = 0; i < 2; i++) h_pass(&h, &a); /* (no tick: the pod stays unready) */
  assert_string_equal(h_status(&h, "jobManagerDeploymentStatus"), "DEPLOYING");
  assert_string_equal(h_job(&h, "state"), "RECONCILING");
  fake_patch_spec(h.fake, "flinkdeployments", NS, "hung", "{\"job\":{\"parallelism\":3}}");
  for (int i = 0; i < 6; i++) h_pass(&h, &a);
  dep = fake_get(h.fake, "deployments", NS, "hung");
  assert_non_null(dep); /* nothing was stopped */
  assert_string_equal(fo_json_get_string(fo_json_get_object(dep, "metadata"), "uid"), uid);
  assert_null(fo_json_get(fo_json_get_object(dep, "metadata"), "deletionTimestamp"));
  assert_int_equal(h_phase(&h), LC_STOP_SAVEPOINT);
  h_free(&h);
}

/* kubernetes.operator.deployment.rollback.enabled: an upgrade whose job is not seen running within
 * kubernetes.operator.deployment.readiness.timeout goes back to the last stable spec (ROLLING_BACK,
 * then ROLLED_BACK): the cluster runs the stable spec again (its parallelism), the same job from
 * its HA data, and says it is a rollback's; the spec rolled back from stays the reconciled one, so
 * nothing is deployed again until the spec changes, and a new change deploys as usual. */
static void test_rollback(void **state) {
  (void)state;
  struct h h;
  h_init(&h, "rb");
  h_create(&h, "last-state", "running",
           HA ",\"kubernetes.operator.deployment.rollback.enabled\":\"true\"", NULL);
  h_converge(&h, 30, NULL, 0);
  json_object *rs = fo_json_path(h_fd(&h), "status", "reconciliationStatus", (const char *)NULL);
  char *stable0 = strdup(fo_json_get_string(rs, "lastStableSpec"));
  char jid[40];
  snprintf(jid, sizeof jid, "%s", h_job(&h, "jobId"));
  fake_patch_spec(h.fake, "flinkdeployments", NS, "rb", "{\"job\":{\"parallelism\":3}}");
  h_converge(&h, 40, NULL, 0);
  struct fake_flink_view v;
  fake_flink_view(h.fake, &v);
  assert_int_equal(v.parallelism, 3);
  /* as if the new spec's job had failed before it ever ran, the readiness timeout passed */
  fake_flink_set_job_state(h.fake, "FAILED");
  rs = fo_json_path(h_fd(&h), "status", "reconciliationStatus", (const char *)NULL);
  json_object_object_add(rs, "lastStableSpec", json_object_new_string(stable0));
  json_object_object_add(rs, "reconciliationTimestamp",
                         json_object_new_int64(fo_clock_ms() - 10 * 60 * 1000));
  char phases[256];
  h_converge(&h, 40, phases, sizeof phases);
  assert_non_null(strstr(phases, "STOP_CLUSTER START STARTED RUNNING"));
  rs = fo_json_path(h_fd(&h), "status", "reconciliationStatus", (const char *)NULL);
  assert_string_equal(fo_json_get_string(rs, "state"), "ROLLED_BACK");
  assert_string_equal(h_status(&h, "lifecycleState"), "ROLLED_BACK");
  assert_string_equal(fo_json_get_string(rs, "lastStableSpec"), stable0);
  assert_non_null(strstr(fo_json_get_string(rs, "lastReconciledSpec"), "\"parallelism\":3"));
  fake_flink_view(h.fake, &v);
  assert_int_equal(v.parallelism, 2); /* the stable spec's */
  assert_string_equal(v.job_state, "RUNNING");
  assert_string_equal(h_job(&h, "jobId"), jid); /* the same job, through its HA data */
  json_object *dep = fake_get(h.fake, "deployments", NS, "rb");
  assert_string_equal(
      fo_json_get_string(fo_json_path(dep, "metadata", "annotations", (const char *)NULL),
                         CLUSTER_ROLLBACK_ANNOTATION),
      "true");
  int starts = v.starts;
  h_passes(&h, 6); /* rolled back: nothing more happens */
  fake_flink_view(h.fake, &v);
  assert_int_equal(v.starts, starts);
  assert_string_equal(h_status(&h, "lifecycleState"), "ROLLED_BACK");
  /* a new change deploys as usual */
  fake_patch_spec(h.fake, "flinkdeployments", NS, "rb", "{\"job\":{\"parallelism\":4}}");
  h_converge(&h, 40, NULL, 0);
  fake_flink_view(h.fake, &v);
  assert_int_equal(v.parallelism, 4);
  assert_string_equal(h_status(&h, "lifecycleState"), "STABLE");
  dep = fake_get(h.fake, "deployments", NS, "rb");
  assert_null(fo_json_get_string(fo_json_path(dep, "metadata", "annotations", (const char *)NULL),
                                 CLUSTER_ROLLBACK_ANNOTATION));
  free(stable0);
  h_free(&h);
}

/* In-place rescaling: with the adaptive scheduler on Flink 1.18+, a change of
 * pipeline.jobvertex-parallelism-overrides alone goes to Flink's resource requirements: the same
 * job runs on (no new start), its vertex's upper bound is the override (the lower one stays), the
 * spec is recorded as deployed. The override removed, or the default scheduler: an upgrade. */
static void test_in_place_scaling(void **state) {
  (void)state;
  struct h h;
  struct fake_flink_view v;
  h_init(&h, "ips");
  h_create(&h, "last-state", "running", HA ",\"jobmanager.scheduler\":\"adaptive\"", NULL);
  h_converge(&h, 30, NULL, 0);
  fake_flink_view(h.fake, &v);
  int starts = v.starts;
  assert_int_equal(v.vertex_upper, 2);
  fake_patch_spec(
      h.fake, "flinkdeployments", NS, "ips",
      "{\"flinkConfiguration\":{\"pipeline.jobvertex-parallelism-overrides\":\"" FAKE_VERTEX
      ":5\"}}");
  h_converge(&h, 20, NULL, 0);
  fake_flink_view(h.fake, &v);
  assert_int_equal(v.starts, starts); /* the same job, rescaled */
  assert_int_equal(v.requirement_puts, 1);
  assert_int_equal(v.vertex_lower, 1);
  assert_int_equal(v.vertex_upper, 5);
  assert_string_equal(h_status(&h, "lifecycleState"), "STABLE");
  assert_non_null(strstr(fo_json_get_string(fo_json_path(h_fd(&h), "status", "reconciliationStatus",
                                                         (const char *)NULL),
                                            "lastReconciledSpec"),
                         FAKE_VERTEX ":5"));
  h_passes(&h, 4); /* recorded: nothing more */
  fake_flink_view(h.fake, &v);
  assert_int_equal(v.starts, starts);
  assert_int_equal(v.requirement_puts, 1);
  fake_patch_spec(h.fake, "flinkdeployments", NS, "ips",
                  "{\"flinkConfiguration\":{\"pipeline.jobvertex-parallelism-overrides\":null}}");
  h_converge(&h, 40, NULL, 0);
  fake_flink_view(h.fake, &v);
  assert_int_equal(v.starts, starts + 1); /* removed: an upgrade */
  assert_int_equal(v.requirement_puts, 1);
  h_free(&h);

  h_init(&h, "ips2"); /* the default scheduler: an upgrade */
  h_create(&h, "last-state", "running", HA, NULL);
  h_converge(&h, 30, NULL, 0);
  fake_flink_view(h.fake, &v);
  starts = v.starts;
  fake_patch_spec(
      h.fake, "flinkdeployments", NS, "ips2",
      "{\"flinkConfiguration\":{\"pipeline.jobvertex-parallelism-overrides\":\"" FAKE_VERTEX
      ":5\"}}");
  h_converge(&h, 40, NULL, 0);
  fake_flink_view(h.fake, &v);
  assert_int_equal(v.starts, starts + 1);
  assert_int_equal(v.requirement_puts, 0);
  h_free(&h);
}

/* kubernetes.operator.job.restart.failed: a job that failed for good is deployed again from what
 * it kept (here its HA data: the same job, its latest checkpoint), with a RestartFailedJob Warning;
 * without the option a failed job stays FAILED. */
static void test_restart_failed_job(void **state) {
  (void)state;
  struct h h;
  struct fake_flink_view v;
  for (int on = 0; on < 2; on++) {
    h_init(&h, "rf");
    h_create(&h, "last-state", "running",
             on ? HA ",\"kubernetes.operator.job.restart.failed\":\"true\"" : HA, NULL);
    h_converge(&h, 30, NULL, 0);
    fake_flink_checkpoint(h.fake);
    fake_flink_view(h.fake, &v);
    int starts = v.starts;
    char jid[40];
    snprintf(jid, sizeof jid, "%s", v.job_id);
    unsigned long long w0 = h_warnings("RestartFailedJob");
    fake_flink_set_job_state(h.fake, "FAILED");
    if (on) {
      h_converge(&h, 40, NULL, 0);
      fake_flink_view(h.fake, &v);
      assert_int_equal(v.starts, starts + 1);
      assert_string_equal(v.job_state, "RUNNING");
      assert_string_equal(v.job_id, jid); /* the same job, through its HA data */
      assert_int_equal(h_warnings("RestartFailedJob"), w0 + 1);
      assert_string_equal(h_job(&h, "state"), "RUNNING");
    } else {
      h_passes(&h, 6);
      fake_flink_view(h.fake, &v);
      assert_int_equal(v.starts, starts);
      assert_string_equal(h_job(&h, "state"), "FAILED");
      assert_int_equal(h_warnings("RestartFailedJob"), w0);
    }
    h_free(&h);
  }
}

/* kubernetes.operator.job.upgrade.last-state.max.allowed.checkpoint.age: a last-state upgrade of a
 * job whose latest checkpoint is older than that is done with a savepoint (a new job restoring it);
 * with a recent checkpoint it stays a last-state upgrade (the same job, no savepoint); with an old
 * one but a checkpoint in progress, triggered within the age, the upgrade waits for it (nothing
 * stops, no savepoint) and then goes by last-state. */
static void test_last_state_max_checkpoint_age(void **state) {
  (void)state;
  struct h h;
  struct fake_flink_view v;
  enum { OLD, RECENT, PENDING };
  for (int c = OLD; c <= PENDING; c++) {
    h_init(&h, "age");
    h_create(&h, "last-state", "running",
             HA
             ",\"kubernetes.operator.job.upgrade.last-state.max.allowed.checkpoint.age\":\"1 "
             "min\"",
             NULL);
    h_converge(&h, 30, NULL, 0);
    if (c == RECENT) fake_clock_now(h.fake); /* the checkpoint below is taken now */
    fake_flink_checkpoint(h.fake);
    if (c == PENDING) fake_flink_checkpoint_begin(h.fake, (long)fo_clock_ms());
    fake_flink_view(h.fake, &v);
    char jid[40];
    snprintf(jid, sizeof jid, "%s", v.job_id);
    int starts = v.starts;
    fake_patch_spec(h.fake, "flinkdeployments", NS, "age", "{\"job\":{\"parallelism\":3}}");
    if (c == PENDING) {
      h_passes(&h, 5);
      fake_flink_view(h.fake, &v);
      assert_int_equal(v.starts, starts); /* nothing stopped */
      assert_string_equal(v.job_state, "RUNNING");
      assert_int_equal(v.savepoints, 0);
      assert_int_equal(v.parallelism, 2);
      assert_string_equal(h_status(&h, "lifecycleState"), "STABLE");
      fake_clock_now(h.fake);
      fake_flink_checkpoint(h.fake); /* it completes */
    }
    h_converge(&h, 40, NULL, 0);
    fake_flink_view(h.fake, &v);
    assert_int_equal(v.parallelism, 3);
    if (c != OLD) {
      assert_int_equal(v.savepoints, 0);
      assert_string_equal(v.job_id, jid);
    } else {
      assert_int_equal(v.savepoints, 1);
      assert_string_equal(v.restored_from, v.last_savepoint);
      assert_string_not_equal(v.job_id, jid);
    }
    h_free(&h);
  }
}

/* A savepoint upgrade waits for a job that does not run (nothing else could restore it: Flink does
 * not answer, and no checkpoint or savepoint is known). A newer spec is planned again: still in
 * savepoint mode it is waited for as well; upgradeMode stateless, the user's consent to start it
 * empty, is the way out short of deleting. Before it nothing is stopped. */
static void test_savepoint_wait_way_out(void **state) {
  (void)state;
  struct h h;
  struct fake_flink_view v;
  char msg[1024];
  h_init(&h, "wayout");
  h_create(&h, "savepoint", "running", "", NULL);
  h_converge(&h, 30, NULL, 0);
  fake_flink_view(h.fake, &v);
  int starts = v.starts;
  fake_flink_unavailable(h.fake, true); /* the JobManager answers 503 from now on */
  fake_patch_spec(h.fake, "flinkdeployments", NS, "wayout", "{\"job\":{\"parallelism\":3}}");
  h_passes(&h, 6);
  assert_int_equal(h_phase(&h), LC_STOP_SAVEPOINT);
  assert_non_null(strstr(h_error_message(&h, msg, sizeof msg), "Job is not running"));
  assert_non_null(fake_get(h.fake, "deployments", NS, "wayout")); /* nothing stopped */
  fake_flink_view(h.fake, &v);
  assert_int_equal(v.starts, starts);
  assert_int_equal(v.savepoints, 0);
  /* a newer spec still in savepoint mode: still waited for, the newer spec the target */
  fake_patch_spec(h.fake, "flinkdeployments", NS, "wayout", "{\"job\":{\"parallelism\":4}}");
  h_passes(&h, 4);
  assert_int_equal(h_phase(&h), LC_STOP_SAVEPOINT);
  assert_non_null(fake_get(h.fake, "deployments", NS, "wayout"));
  assert_string_equal(h_status(&h, "lifecycleState"), "UPGRADING");
  /* the way out: stateless */
  fake_patch_spec(h.fake, "flinkdeployments", NS, "wayout",
                  "{\"job\":{\"upgradeMode\":\"stateless\"}}");
  h_passes(&h, 2);
  assert_int_not_equal(h_phase(&h), LC_STOP_SAVEPOINT);
  fake_flink_unavailable(h.fake, false);
  h_converge(&h, 40, NULL, 0);
  fake_flink_view(h.fake, &v);
  assert_int_equal(v.starts, starts + 1);
  assert_string_equal(v.job_state, "RUNNING");
  assert_string_equal(v.restored_from, "");
  assert_int_equal(v.parallelism, 4);
  assert_int_equal(v.savepoints, 0);
  assert_string_equal(h_status(&h, "lifecycleState"), "STABLE");
  h_free(&h);
}

/* savepoint mode: the upgrade's savepoint fails in Flink. Nothing is stopped; the user is told in
 * Flink's words (status.error, a SavepointError Warning, the metric); the next attempt takes the
 * savepoint and the upgrade restores it. */
static void test_upgrade_savepoint_fails(void **state) {
  (void)state;
  struct h h;
  char msg[1024];
  h_init(&h, "spfail");
  h_create(&h, "savepoint", "running", "", NULL);
  h_converge(&h, 30, NULL, 0);
  unsigned long long w0 = h_warnings("SavepointError");
  fake_flink_fail_next_savepoint(h.fake);
  fake_patch_spec(h.fake, "flinkdeployments", NS, "spfail", "{\"job\":{\"parallelism\":3}}");
  for (int i = 0; i < 8 && h_warnings("SavepointError") == w0; i++) {
    assert_int_equal(h_pass(&h, NULL), 0);
    fake_tick(h.fake);
  }
  assert_int_equal(h_warnings("SavepointError"), w0 + 1);
  assert_string_equal(h_error_message(&h, msg, sizeof msg), /* Flink's stack trace's first line */
                      "Savepoint for the upgrade failed; retrying: savepoint failed");
  assert_non_null(fake_get(h.fake, "deployments", NS, "spfail")); /* nothing was stopped */
  struct fake_flink_view v;
  fake_flink_view(h.fake, &v);
  assert_string_equal(v.job_state, "RUNNING");
  assert_int_equal(v.savepoints, 0);
  h_upgraded_from_one_savepoint(&h, 3);
  h_free(&h);
}

/* last-state, suspended, its HA data lost meanwhile: the resume refuses to start the job empty,
 * and says so where the user looks (status.error, the Running condition, a RestoreFailed
 * Warning, the metric). */
static void test_resume_without_ha_data(void **state) {
  (void)state;
  struct h h;
  char msg[1024];
  h_init(&h, "lsh");
  h_create(&h, "last-state", "running", HA, NULL);
  h_converge(&h, 30, NULL, 0);
  fake_patch_spec(h.fake, "flinkdeployments", NS, "lsh", "{\"job\":{\"state\":\"suspended\"}}");
  h_converge(&h, 40, NULL, 0);
  h_lose_ha(&h);
  unsigned long long w0 = h_warnings("RestoreFailed");
  fake_patch_spec(h.fake, "flinkdeployments", NS, "lsh", "{\"job\":{\"state\":\"running\"}}");
  h_passes(&h, 6);
  struct fake_flink_view v;
  fake_flink_view(h.fake, &v);
  assert_int_equal(v.starts, 1); /* never started empty */
  assert_null(fake_get(h.fake, "deployments", NS, "lsh"));
  assert_true(h_warnings("RestoreFailed") > w0);
  assert_non_null(strstr(h_error_message(&h, msg, sizeof msg),
                         "HA metadata is not available to restore from last state."));
  assert_non_null(strstr(h_condition(&h, "message"), "HA metadata is not available"));
  h_free(&h);
}

static void h_tm_status(struct h *h, int64_t *ret_replicas, const char **ret_selector) {
  json_object *tm = fo_json_path(h_fd(h), "status", "taskManager", (const char *)NULL);
  *ret_replicas = -1;
  assert_true(fo_json_as_int64(fo_json_get(tm, "replicas"), ret_replicas));
  *ret_selector = fo_json_get_string(tm, "labelSelector");
  if (!*ret_selector) *ret_selector = "(none)";
}

/* The scale subresource's status (status.taskManager) and kubectl scale's field
 * (spec.taskManager.replicas): the TaskManagers the spec asks for and their pods' selector;
 * replicas win over the job's parallelism (replicas times slots); nothing while suspended. */
static void test_scale_status(void **state) {
  (void)state;
  struct h h;
  int64_t n;
  const char *sel;
  h_init(&h, "sc3"); /* parallelism 2, 2 slots per TaskManager (the defaults here) */
  h_create(&h, "savepoint", "running", "", NULL);
  h_converge(&h, 30, NULL, 0);
  h_tm_status(&h, &n, &sel);
  assert_int_equal(n, 1);
  assert_string_equal(sel, "component=taskmanager,app=sc3");
  fake_patch_spec(h.fake, "flinkdeployments", NS, "sc3", "{\"taskManager\":{\"replicas\":3}}");
  h_converge(&h, 40, NULL, 0);
  h_tm_status(&h, &n, &sel);
  assert_int_equal(n, 3);
  struct fake_flink_view v;
  fake_flink_view(h.fake, &v);
  assert_int_equal(v.parallelism, 6); /* 3 TaskManagers of 2 slots */
  assert_int_equal(v.savepoints, 1);  /* a savepoint upgrade */
  fake_patch_spec(h.fake, "flinkdeployments", NS, "sc3", "{\"job\":{\"state\":\"suspended\"}}");
  h_converge(&h, 40, NULL, 0);
  h_tm_status(&h, &n, &sel);
  assert_int_equal(n, 0);
  assert_string_equal(sel, "(none)");
  h_free(&h);
}

/* metadata.creationTimestamp `ago_ms` before now. */
static void h_created_ago(struct h *h, int64_t ago_ms) {
  char t[40];
  fo_clock_rfc3339_in(t, sizeof t, -(double)ago_ms / 1000.0);
  json_object_object_add(fo_json_get_object(h_fd(h), "metadata"), "creationTimestamp",
                         json_object_new_string(t));
}

/* kubernetes.operator.periodic.savepoint.interval: a PERIODIC savepoint once the interval has
 * passed since the resource was made or since the last periodic one, not before; recorded with
 * lastPeriodicSavepointTimestamp; no upgrade. */
static void test_periodic_savepoint(void **state) {
  (void)state;
  struct h h;
  h_init(&h, "per");
  h_create(&h, "savepoint", "running",
           ",\"kubernetes.operator.periodic.savepoint.interval\":\"1 h\"", NULL);
  h_created_ago(&h, 60 * 1000); /* a minute old */
  h_converge(&h, 30, NULL, 0);
  h_passes(&h, 4);
  struct fake_flink_view v;
  fake_flink_view(h.fake, &v);
  assert_int_equal(v.savepoints, 0);  /* not yet due */
  h_created_ago(&h, 2 * 3600 * 1000); /* two hours old: due */
  int64_t t0 = fo_clock_ms();
  h_passes(&h, 4);
  fake_flink_view(h.fake, &v);
  assert_int_equal(v.savepoints, 1);
  assert_int_equal(v.starts, 1); /* the job kept running */
  json_object *si =
      fo_json_path(h_fd(&h), "status", "jobStatus", "savepointInfo", (const char *)NULL);
  assert_string_equal(fo_json_get_string(fo_json_get_object(si, "lastSavepoint"), "triggerType"),
                      "PERIODIC");
  assert_string_equal(fo_json_get_string(fo_json_get_object(si, "lastSavepoint"), "location"),
                      v.last_savepoint);
  int64_t lp = 0;
  assert_true(fo_json_as_int64(fo_json_get(si, "lastPeriodicSavepointTimestamp"), &lp));
  assert_true(lp >= t0);
  h_passes(&h, 6); /* the next one is an hour away */
  fake_flink_view(h.fake, &v);
  assert_int_equal(v.savepoints, 1);
  h_free(&h);
}

/* status.jobStatus.checkpointInfo's `field` of lastCheckpoint (NULL when none). */
static json_object *h_last_checkpoint(struct h *h) {
  return fo_json_path(h_fd(h), "status", "jobStatus", "checkpointInfo", "lastCheckpoint",
                      (const char *)NULL);
}

/* job.checkpointTriggerNonce: one checkpoint of kubernetes.operator.checkpoint.type (FULL by
 * default) per new nonce, the job left running; recorded as lastCheckpoint with the nonce; a
 * failure is a CheckpointError Warning in Flink's words and is not retried; periodic ones every
 * kubernetes.operator.periodic.checkpoint.interval; Flink before 1.17 cannot take them: said. */
static void test_checkpoints(void **state) {
  (void)state;
  struct h h;
  h_init(&h, "cp");
  h_create(&h, "last-state", "running",
           HA ",\"kubernetes.operator.checkpoint.type\":\"incremental\"", NULL);
  h_converge(&h, 30, NULL, 0);
  struct fake_flink_view v0, v;
  fake_flink_view(h.fake, &v0);
  fake_patch_spec(h.fake, "flinkdeployments", NS, "cp", "{\"job\":{\"checkpointTriggerNonce\":1}}");
  char phases[256];
  h_converge(&h, 20, phases, sizeof phases);
  assert_string_equal(phases, "RUNNING"); /* no upgrade, no phase of its own */
  h_passes(&h, 2);                        /* its completion is looked at next */
  fake_flink_view(h.fake, &v);
  assert_int_equal(v.triggered_checkpoints, 1);
  assert_string_equal(v.last_checkpoint_type, "INCREMENTAL");
  assert_int_equal(v.checkpoints, v0.checkpoints + 1);
  assert_int_equal(v.starts, 1);
  json_object *lc = h_last_checkpoint(&h);
  assert_string_equal(fo_json_get_string(lc, "triggerType"), "MANUAL");
  assert_string_equal(fo_json_get_string(lc, "formatType"), "INCREMENTAL");
  int64_t n = 0;
  assert_true(fo_json_as_int64(fo_json_get(lc, "triggerNonce"), &n));
  assert_int_equal(n, 1);
  assert_null(fo_json_path(h_fd(&h), "status", "jobStatus", "checkpointInfo", "triggerId",
                           (const char *)NULL));
  h_passes(&h, 4); /* handled: not asked again */
  fake_flink_view(h.fake, &v);
  assert_int_equal(v.triggered_checkpoints, 1);
  /* a failed one: said, not retried, the last one kept */
  fake_flink_fail_next_checkpoint(h.fake);
  fake_patch_spec(h.fake, "flinkdeployments", NS, "cp", "{\"job\":{\"checkpointTriggerNonce\":2}}");
  h_converge(&h, 20, NULL, 0);
  h_passes(&h, 4);
  fake_flink_view(h.fake, &v);
  assert_int_equal(v.triggered_checkpoints, 2);
  const char *ev = NULL;
  assert_int_equal(h_events(&h, "CheckpointError", &ev, &(int64_t){0}), 1);
  assert_non_null(
      strstr(ev, "Checkpoint failed for checkpointTriggerNonce: 2: checkpoint declined"));
  assert_true(fo_json_as_int64(fo_json_get(h_last_checkpoint(&h), "triggerNonce"), &n));
  assert_int_equal(n, 1);
  h_free(&h);

  /* periodic */
  h_init(&h, "pcp");
  h_create(&h, "stateless", "running",
           ",\"kubernetes.operator.periodic.checkpoint.interval\":\"1 h\"", NULL);
  h_created_ago(&h, 60 * 1000);
  h_converge(&h, 30, NULL, 0);
  h_passes(&h, 4);
  fake_flink_view(h.fake, &v);
  assert_int_equal(v.triggered_checkpoints, 0); /* not yet due */
  h_created_ago(&h, 2 * 3600 * 1000);
  h_passes(&h, 4);
  fake_flink_view(h.fake, &v);
  assert_int_equal(v.triggered_checkpoints, 1);
  assert_string_equal(v.last_checkpoint_type, "FULL");
  assert_string_equal(fo_json_get_string(h_last_checkpoint(&h), "triggerType"), "PERIODIC");
  assert_non_null(fo_json_path(h_fd(&h), "status", "jobStatus", "checkpointInfo",
                               "lastPeriodicCheckpointTimestamp", (const char *)NULL));
  h_passes(&h, 6); /* the next one is an hour away */
  fake_flink_view(h.fake, &v);
  assert_int_equal(v.triggered_checkpoints, 1);
  h_free(&h);
}

/* Flink before 1.17 takes no checkpoint through its REST API: the nonce is answered with a
 * CheckpointError Warning, nothing is asked of Flink. */
static void test_checkpoint_before_flink_117(void **state) {
  (void)state;
  struct h h;
  h_init(&h, "old");
  h_create(&h, "stateless", "running", NULL, NULL);
  json_object *spec = fo_json_get_object(h_fd(&h), "spec");
  json_object_object_add(spec, "flinkVersion", json_object_new_string("v1_16"));
  json_object_object_add(spec, "image", json_object_new_string("flink:1.16"));
  h_converge(&h, 30, NULL, 0);
  fake_patch_spec(h.fake, "flinkdeployments", NS, "old",
                  "{\"job\":{\"checkpointTriggerNonce\":1}}");
  h_converge(&h, 20, NULL, 0);
  h_passes(&h, 3);
  struct fake_flink_view v;
  fake_flink_view(h.fake, &v);
  assert_int_equal(v.triggered_checkpoints, 0);
  const char *ev = NULL;
  int64_t count = 0;
  assert_int_equal(h_events(&h, "CheckpointError", &ev, &count), 1);
  assert_string_equal(ev, "Checkpoints can be triggered only on Flink 1.17 or later");
  assert_int_equal(count, 1); /* said once: the nonce counts as handled */
  h_free(&h);
}

/* A Quartz cron schedule for periodic savepoints: due once it fired since the last periodic one
 * (or the resource's creation). The hour chosen is twelve hours from now, so the next firing is
 * never within the test. */
static void test_periodic_savepoint_cron(void **state) {
  (void)state;
  int hour = (int)((fo_clock_ms() / 3600000 + 12) % 24);
  char conf[160];
  snprintf(conf, sizeof conf,
           ",\"kubernetes.operator.periodic.savepoint.interval\":\"0 0 %d ? * *\"", hour);
  struct h h;
  h_init(&h, "cron");
  h_create(&h, "savepoint", "running", conf, NULL);
  h_created_ago(&h, 60 * 1000); /* a minute old: it has not fired since */
  h_converge(&h, 30, NULL, 0);
  h_passes(&h, 4);
  struct fake_flink_view v;
  fake_flink_view(h.fake, &v);
  assert_int_equal(v.savepoints, 0);
  h_created_ago(&h, 2 * 86400 * 1000LL); /* two days old: it fired since */
  h_passes(&h, 4);
  fake_flink_view(h.fake, &v);
  assert_int_equal(v.savepoints, 1);
  assert_string_equal(
      fo_json_get_string(fo_json_path(h_fd(&h), "status", "jobStatus", "savepointInfo",
                                      "lastSavepoint", (const char *)NULL),
                         "triggerType"),
      "PERIODIC");
  h_passes(&h, 6); /* not again before its next firing */
  fake_flink_view(h.fake, &v);
  assert_int_equal(v.savepoints, 1);
  h_free(&h);
}

static size_t h_history(struct h *h, char *oldest, size_t n) {
  json_object *a = fo_json_path(h_fd(h), "status", "jobStatus", "savepointInfo", "savepointHistory",
                                (const char *)NULL);
  const char *l = a ? fo_json_get_string(json_object_array_get_idx(a, 0), "location") : NULL;
  snprintf(oldest, n, "%s", l ? l : "");
  return a ? json_object_array_length(a) : 0;
}

/* The savepoint history stays within kubernetes.operator.savepoint.history.max.count: the
 * oldest go first, each disposed of through Flink; with cleanup off they only leave the history. */
static void test_savepoint_history_trimmed(void **state) {
  (void)state;
  for (int cleanup = 1; cleanup >= 0; cleanup--) {
    struct h h;
    char conf[256], oldest[256];
    snprintf(conf, sizeof conf,
             ",\"kubernetes.operator.savepoint.history.max.count\":\"3\","
             "\"kubernetes.operator.savepoint.cleanup.enabled\":\"%s\"",
             cleanup ? "true" : "false");
    h_init(&h, "hist");
    h_create(&h, "savepoint", "running", conf, NULL);
    h_converge(&h, 30, NULL, 0);
    char first[256] = "";
    for (int nonce = 1; nonce <= 5; nonce++) {
      char patch[96];
      snprintf(patch, sizeof patch, "{\"job\":{\"savepointTriggerNonce\":%d}}", nonce);
      fake_patch_spec(h.fake, "flinkdeployments", NS, "hist", patch);
      h_converge(&h, 30, NULL, 0);
      if (nonce == 1) h_history(&h, first, sizeof first);
    }
    h_passes(&h, 2);
    struct fake_flink_view v;
    fake_flink_view(h.fake, &v);
    assert_int_equal(v.savepoints, 5);
    assert_int_equal(h_history(&h, oldest, sizeof oldest), 3);
    assert_string_equal(oldest, "file:/savepoints/savepoint-3"); /* the newest three kept */
    assert_int_equal(v.disposed, cleanup ? 2 : 0);
    if (cleanup) assert_string_equal(v.last_disposed, "file:/savepoints/savepoint-2");
    assert_string_equal(first, "file:/savepoints/savepoint-1");
    h_free(&h);
  }
}

/* Deleted, with the garbage collector working and with one that misses the FlinkDeployment's
 * deletion: the operator deletes what it owns itself, nothing waits on the collector. */
static void test_delete_cleans_up(void **state) {
  (void)state;
  static const struct {
    const char *gc_blind, *mode;
  } cases[] = {
      {NULL, "native"}, {"flinkdeployments", "native"}, {"flinkdeployments", "standalone"}};
  for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
    struct h h;
    h_init(&h, "del");
    fake_gc_blind(h.fake, cases[c].gc_blind);
    h_create(&h, "last-state", "running", HA, NULL);
    char patch[256];
    snprintf(patch, sizeof patch,
             "{\"mode\":\"%s\",\"ingress\":{\"template\":\"/{{namespace}}/{{name}}\"}}",
             cases[c].mode);
    assert_int_equal(fake_patch_spec(h.fake, "flinkdeployments", NS, "del", patch), 0);
    h_converge(&h, 30, NULL, 0);
    fake_put(h.fake,
             "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":"
             "\"del-rest\",\"namespace\":\"" NS "\"}}"); /* not ours: stays */
    h_delete(&h);
    for (int i = 0; i < 10 && h_fd(&h); i++) {
      h_pass(&h, NULL);
      fake_tick(h.fake);
    }
    assert_null(h_fd(&h)); /* the finalizer went, then the object */
    static const char *const gone[][2] = {{"deployments", "del"},
                                          {"deployments", "del-taskmanager"},
                                          {"configmaps", "flink-config-del"},
                                          {"services", "del"},
                                          {"services", "del-rest"},
                                          {"ingresses", "del"}};
    for (size_t i = 0; i < sizeof gone / sizeof gone[0]; i++) {
      json_object *o = fake_get(h.fake, gone[i][0], NS, gone[i][1]);
      if (o) fail_msg("case %zu: %s/%s left", c, gone[i][0], gone[i][1]);
    }
    json_object *pods = fake_all(h.fake, "pods");
    assert_true(!pods || json_object_object_length(pods) == 0);
    assert_non_null(fake_get(h.fake, "configmaps", NS, "del-rest"));
    const char *log = fake_log(h.fake);
    assert_non_null(strstr(
        log,
        "DELETE /api/v1/namespaces/jobs/configmaps/del-")); /* the HA data, which has no owner */
    h_free(&h);
  }
}

/* A session cluster (no job) named after the harness, with extra flinkConfiguration entries. */
static void h_create_session(struct h *h, const char *extra_conf) {
  char text[2048];
  snprintf(text, sizeof text,
           "{\"apiVersion\":\"flink.apache.org/v1beta1\",\"kind\":\"FlinkDeployment\","
           "\"metadata\":{\"name\":\"%s\",\"namespace\":\"" NS
           "\",\"finalizers\":[\"flinkdeployments.flink.apache.org/finalizer\"]},"
           "\"spec\":{\"image\":\"flink:1.20\",\"flinkVersion\":\"v1_20\","
           "\"serviceAccount\":\"flink\",\"flinkConfiguration\":{\"taskmanager."
           "numberOfTaskSlots\":\"2\"%s},\"jobManager\":{\"resource\":{\"memory\":"
           "\"2048m\",\"cpu\":1}},\"taskManager\":{\"resource\":{\"memory\":\"2048m\","
           "\"cpu\":1}}}}",
           h->name, extra_conf);
  assert_int_equal(fake_put(h->fake, text), 0);
}

/* A FlinkSessionJob naming the session cluster blocks its deletion (the reference's
 * kubernetes.operator.session.deletion.block-on-session-jobs, on by default), said once in a
 * CleanupFailed Warning and status.error, whatever Flink runs; one naming another cluster does
 * not; once it is gone the delete goes on. Off, nothing blocks (unmanaged jobs neither). Not
 * allowed to list them (an older ClusterRole), the delete goes on. */
static void test_session_delete_blocked_by_session_jobs(void **state) {
  (void)state;
  struct h h;
  char msg[1024];
  static const char sj[] =
      "{\"apiVersion\":\"flink.apache.org/v1beta1\",\"kind\":\"FlinkSessionJob\","
      "\"metadata\":{\"name\":\"%s\",\"namespace\":\"" NS
      "\"},\"spec\":{\"deploymentName\":\"%s\",\"job\":{\"jarURI\":"
      "\"https://example.com/j.jar\",\"parallelism\":1}}}";
  for (int off = 0; off < 3; off++) { /* on; off; on, but listing them is forbidden */
    h_init(&h, "sessj");
    h_create_session(
        &h, off == 1 ? ",\"kubernetes.operator.session.deletion.block-on-session-jobs\":\"false\""
                     : "");
    h_converge(&h, 30, NULL, 0);
    char text[512];
    snprintf(text, sizeof text, sj, "job-b", "sessj");
    assert_int_equal(fake_put(h.fake, text), 0);
    snprintf(text, sizeof text, sj, "job-a", "sessj");
    assert_int_equal(fake_put(h.fake, text), 0);
    snprintf(text, sizeof text, sj, "elsewhere", "other-session");
    assert_int_equal(fake_put(h.fake, text), 0);
    if (off < 2) fake_flink_submit(h.fake, "0123456789abcdef0123456789abcdef"); /* (unmanaged) */
    if (off == 2) fake_refuse(h.fake, "GET", "flinksessionjobs", 403, "Forbidden", "forbidden");
    h_delete(&h);
    if (off) {
      for (int i = 0; i < 10 && h_fd(&h); i++) h_passes(&h, 1);
      assert_null(h_fd(&h));
      h_free(&h);
      continue;
    }
    h_passes(&h, 4);
    assert_non_null(h_fd(&h));
    assert_non_null(fake_get(h.fake, "deployments", NS, "sessj")); /* nothing stopped */
    const char *want = "The session jobs [job-a, job-b] should be deleted first";
    const char *got = h_error_message(&h, msg, sizeof msg);
    if (!got || (strcmp(got, want) &&
                 strcmp(got, "The session jobs [job-b, job-a] should be deleted first")))
      fail_msg("status.error: %s", got ? got : "(none)");
    const char *ev = NULL;
    int64_t count = 0;
    assert_int_equal(h_events(&h, "CleanupFailed", &ev, &count), 1);
    assert_int_equal(count, 1); /* said once */
    assert_int_equal(fo_kube_delete(h.k, &fo_res_flinksessionjobs, NS, "job-a", NULL), 0);
    assert_int_equal(fo_kube_delete(h.k, &fo_res_flinksessionjobs, NS, "job-b", NULL), 0);
    fake_flink_set_job_state(h.fake, "CANCELED");
    for (int i = 0; i < 10 && h_fd(&h); i++) {
      h_passes(&h, 1);
      fake_tick(h.fake);
    }
    assert_null(h_fd(&h));
    assert_non_null(fake_get(h.fake, "flinksessionjobs", NS, "elsewhere"));
    h_free(&h);
  }
}

/* kubernetes.operator.session.block-on-unmanaged-jobs false: deleted with its job running. */
static void test_session_delete_not_blocked(void **state) {
  (void)state;
  struct h h;
  h_init(&h, "sess2");
  h_create_session(&h, ",\"kubernetes.operator.session.block-on-unmanaged-jobs\":\"false\"");
  h_converge(&h, 30, NULL, 0);
  fake_flink_submit(h.fake, "0123456789abcdef0123456789abcdef");
  h_delete(&h);
  for (int i = 0; i < 10 && h_fd(&h); i++) h_passes(&h, 1);
  assert_null(h_fd(&h));
  const char *ev = NULL;
  assert_int_equal(h_events(&h, "CleanupFailed", &ev, &(int64_t){0}), 0);
  h_free(&h);
}

/* A session cluster (no job): deployed as one (the session entry point, no job id), stable when
 * its REST API answers, redeployed on a spec change, and not deleted while a job runs on it. */
static void test_session_cluster(void **state) {
  (void)state;
  struct h h;
  h_init(&h, "sess");
  h_create_session(&h, "");
  char phases[256];
  h_converge(&h, 30, phases, sizeof phases);
  assert_string_equal(phases, "NEW STARTED RUNNING");
  assert_string_equal(h_status(&h, "jobManagerDeploymentStatus"), "READY");
  assert_string_equal(h_status(&h, "lifecycleState"), "STABLE");
  assert_null(fo_json_path(h_fd(&h), "status", "jobStatus", "jobId", (const char *)NULL));
  assert_string_equal(h_condition(&h, "status"), "True");
  assert_string_equal(h_condition(&h, "reason"), "JobManagerReady");
  assert_string_equal(h_condition(&h, "message"),
                      "JobManager is running and ready to receive REST API calls");
  json_object *args = fo_json_path(fake_get(h.fake, "deployments", NS, "sess"), "spec", "template",
                                   "spec", "containers", (const char *)NULL);
  args = fo_json_get(json_object_array_get_idx(args, 0), "args");
  assert_string_equal(json_object_get_string(json_object_array_get_idx(args, 2)),
                      "kubernetes-jobmanager.sh kubernetes-session");
  const char *conf = fo_json_get_string(
      fo_json_get_object(fake_get(h.fake, "configmaps", NS, "flink-config-sess"), "data"),
      "config.yaml");
  assert_non_null(conf);
  assert_non_null(strstr(conf, "kubernetes-session"));
  assert_null(strstr(conf, "job-id"));
  struct fake_flink_view v;
  fake_flink_view(h.fake, &v);
  assert_int_equal(v.starts, 0); /* nothing ran on it */
  /* a spec change: the cluster is deleted and the new one deployed */
  fake_patch_spec(h.fake, "flinkdeployments", NS, "sess",
                  "{\"flinkConfiguration\":{\"taskmanager.numberOfTaskSlots\":\"4\"}}");
  h_converge(&h, 40, phases, sizeof phases);
  assert_string_equal(phases, "RUNNING STOP_CLUSTER START STARTED RUNNING");
  assert_non_null(strstr(
      fo_json_get_string(
          fo_json_get_object(fake_get(h.fake, "configmaps", NS, "flink-config-sess"), "data"),
          "config.yaml"),
      "\"taskmanager.numberOfTaskSlots\": \"4\""));
  assert_string_equal(h_status(&h, "lifecycleState"), "STABLE");
  /* a job sent to it by hand blocks the delete, which says so */
  fake_flink_submit(h.fake, "0123456789abcdef0123456789abcdef");
  h_delete(&h);
  h_passes(&h, 3);
  assert_non_null(h_fd(&h));
  assert_non_null(fake_get(h.fake, "deployments", NS, "sess"));
  char msg[512];
  assert_string_equal(h_error_message(&h, msg, sizeof msg),
                      "The session cluster has non terminated jobs "
                      "[0123456789abcdef0123456789abcdef] that should be cancelled first");
  const char *ev = NULL;
  int64_t count = 0;
  assert_int_equal(h_events(&h, "CleanupFailed", &ev, &count), 1);
  assert_int_equal(count, 1); /* said once */
  /* the job cancelled: the delete goes on. While the JobManager stops (its Deployment going, it
   * answers 503) the cleanup does not ask it again: nothing is left to protect */
  fake_flink_set_job_state(h.fake, "CANCELED");
  h_stopping_pod(&h, "sess-jm-0", "jobmanager"); /* the JobManager takes a while to stop */
  char now[32];                                  /* deleted just now: within the cleanup timeout */
  json_object_object_add(fo_json_get_object(h_fd(&h), "metadata"), "deletionTimestamp",
                         json_object_new_string(fo_clock_rfc3339(now, sizeof now, 0)));
  assert_int_equal(h_pass(&h, NULL), 0);
  json_object *going = fake_get(h.fake, "deployments", NS, "sess");
  assert_non_null(fo_json_get(fo_json_get_object(going, "metadata"), "deletionTimestamp"));
  fake_flink_unavailable(h.fake, true);
  for (int i = 0; i < 3; i++) assert_int_equal(h_pass(&h, NULL), 0);
  assert_non_null(h_fd(&h)); /* waits for the JobManager's pod */
  assert_int_equal(fo_kube_delete(h.k, &fo_res_pods, NS, "sess-jm-0", NULL), 0);
  for (int i = 0; i < 10 && h_fd(&h); i++) {
    assert_int_equal(h_pass(&h, NULL), 0);
    fake_tick(h.fake);
  }
  assert_null(h_fd(&h));
  assert_null(fake_get(h.fake, "deployments", NS, "sess"));
  h_free(&h);
}

/* The ports and the REST Service's type come from the configuration; a change of the type to or
 * from a headless Service (whose clusterIP cannot change) makes the Service anew. */
static void test_rest_service_type_and_port(void **state) {
  (void)state;
  struct h h;
  h_init(&h, "svc");
  h_create(&h, "stateless", "running", ",\"rest.port\":\"18081\"", NULL);
  h_converge(&h, 30, NULL, 0);
  json_object *svc = fake_get(h.fake, "services", NS, "svc-rest");
  assert_string_equal(fo_json_get_string(fo_json_get_object(svc, "spec"), "type"), "ClusterIP");
  int64_t port = 0;
  fo_json_as_int64(fo_json_get(json_object_array_get_idx(
                                   fo_json_path(svc, "spec", "ports", (const char *)NULL), 0),
                               "port"),
                   &port);
  assert_int_equal(port, 18081);
  static const char *const types[][3] = {
      /* set to, the Service's type, its clusterIP */
      {"NodePort", "NodePort", "10.96.0.10"},
      {"headless_clusterip", NULL, "None"},
      {"LoadBalancer", "LoadBalancer", "10.96.0.10"},
  };
  for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
    char patch[256];
    snprintf(patch, sizeof patch,
             "{\"flinkConfiguration\":{\"kubernetes.rest-service.exposed.type\":\"%s\"}}",
             types[i][0]);
    assert_int_equal(fake_patch_spec(h.fake, "flinkdeployments", NS, "svc", patch), 0);
    h_converge(&h, 40, NULL, 0);
    assert_null(h_status(&h, "error"));
    svc = fake_get(h.fake, "services", NS, "svc-rest");
    const char *t = fo_json_get_string(fo_json_get_object(svc, "spec"), "type");
    if (types[i][1]) assert_string_equal(t, types[i][1]);
    else assert_null(t);
    assert_string_equal(fo_json_get_string(fo_json_get_object(svc, "spec"), "clusterIP"),
                        types[i][2]);
  }
  h_free(&h);
}

/* The health check (kubernetes.operator.cluster.health-check.enabled): a job that restarts past
 * the threshold is restarted, from its HA data (last-state: the same job id, its latest
 * checkpoint) or empty when its mode is stateless, with a RestartUnhealthyJob Warning; one nothing
 * could bring back is left running. A healthy job costs one write, its first record. */
#define HEALTH                                                                                    \
  ",\"kubernetes.operator.cluster.health-check.enabled\":\"true\",\"kubernetes.operator.cluster." \
  "health-check.restarts.threshold\":\"3\""
static void test_health_restart(void **state) {
  (void)state;
  static const struct {
    const char *mode, *conf;
    bool restarted, same_job;
  } cases[] = {
      {"last-state", HA HEALTH, true, true},
      {"stateless", HEALTH, true, false},
      {"savepoint", HEALTH, false, false}, /* no HA data: nothing could bring it back */
  };
  for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
    struct h h;
    h_init(&h, "sick");
    h_create(&h, cases[c].mode, "running", cases[c].conf, NULL);
    h_converge(&h, 30, NULL, 0);
    h_passes(&h, 2); /* the first look is recorded */
    const char *rec = fo_json_get_string(
        fo_json_path(h_fd(&h), "status", "clusterInfo", (const char *)NULL), "ClusterHealthInfo");
    assert_non_null(rec);
    assert_non_null(strstr(rec, "\"healthy\":true"));
    size_t w = fake_writes(h.fake);
    h_passes(&h, 4); /* healthy: nothing to write */
    assert_int_equal(fake_writes(h.fake), w);
    fake_flink_checkpoint(h.fake);
    struct fake_flink_view v0, v;
    fake_flink_view(h.fake, &v0);
    fake_flink_restarts(h.fake, 3); /* at the threshold: still healthy */
    h_passes(&h, 2);
    fake_flink_view(h.fake, &v);
    assert_int_equal(v.starts, 1);
    fake_flink_restarts(h.fake, 1); /* past it */
    h_passes(&h, 1);
    h_converge(&h, 40, NULL, 0);
    fake_flink_view(h.fake, &v);
    const char *ev = NULL;
    int64_t count = 0;
    size_t n = h_events(&h, "RestartUnhealthyJob", &ev, &count);
    if (!cases[c].restarted) {
      assert_int_equal(n, 0);
      assert_int_equal(v.starts, 1);
      assert_string_equal(v.job_state, "RUNNING");
      h_free(&h);
      continue;
    }
    assert_int_equal(n, 1);
    assert_string_equal(ev, "Restart count hit threshold: 3");
    assert_int_equal(v.starts, 2);
    assert_string_equal(v.job_state, "RUNNING");
    assert_int_equal(strcmp(v.job_id, v0.job_id) == 0, cases[c].same_job);
    /* last-state: Flink recovered through its HA data (the pointer names the latest checkpoint);
     * stateless: nothing */
    assert_string_equal(v.restored_from, "");
    if (cases[c].same_job) assert_non_null(strstr(v.last_checkpoint, v0.job_id));
    else assert_string_equal(v.last_checkpoint, "");
    assert_int_equal(v.stale_ha_starts, 0);
    assert_string_equal(h_status(&h, "lifecycleState"), "STABLE");
    h_free(&h);
  }
}

/* ---- what a transition costs the API server ---- */

/* API requests in the fake's log (lines not of the JobManager), and of them the writes. */
static void count_api(const char *log, size_t *ret_requests, size_t *ret_writes) {
  *ret_requests = *ret_writes = 0;
  for (const char *l = log; l && *l;) {
    const char *nl = strchr(l, '\n');
    if (strncmp(l, "FLINK ", 6)) {
      (*ret_requests)++;
      if (strncmp(l, "GET ", 4)) (*ret_writes)++;
    }
    l = nl ? nl + 1 : NULL;
  }
}

/* The requests of a creation (to the job RUNNING) and the writes of an upgrade, per mode: a
 * budget each, so a step that writes more than it must fails here (the status is written once
 * per step that must survive a crash; Events count) */
static void test_api_cost(void **state) {
  (void)state;
  static const struct {
    const char *mode, *conf;
    size_t create_requests, upgrade_writes;
  } cases[] = {
      /* creation: 2 Events, 2 status writes (the transition and job id; deployed and running,
       * in one when the first look finds the job running), 4 objects, and the reads between; an
       * upgrade: 2 Events, the status when the transition begins, when a savepoint is taken and
       * when it ends (the new cluster's Deployment carries the transition's mark and job id: no
       * write between), the Deployment deleted and made, the ConfigMap replaced, the HA data
       * the mode does not keep deleted (2 ConfigMaps) */
      {"stateless", NULL, 14, 7}, {"stateless", HA, 14, 9},  {"savepoint", NULL, 14, 8},
      {"savepoint", HA, 14, 10},  {"last-state", HA, 14, 8},
  };
  for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
    struct h h;
    h_init(&h, "cost");
    fake_log_clear(h.fake);
    h_create(&h, cases[c].mode, "running", cases[c].conf, NULL);
    h_converge(&h, 30, NULL, 0);
    size_t req, w;
    count_api(fake_log(h.fake), &req, &w);
    fprintf(stderr, "COST %s %s create requests %zu (writes %zu)\n", cases[c].mode,
            cases[c].conf ? "HA" : "-", req, w);
    size_t create_req = req;
    if (getenv("FO_COST_LOG")) fprintf(stderr, "%s", fake_log(h.fake));
    fake_log_clear(h.fake);
    fake_patch_spec(h.fake, "flinkdeployments", NS, "cost", "{\"job\":{\"parallelism\":5}}");
    h_converge(&h, 40, NULL, 0);
    count_api(fake_log(h.fake), &req, &w);
    fprintf(stderr, "COST %s %s upgrade writes %zu (requests %zu)\n%s", cases[c].mode,
            cases[c].conf ? "HA" : "-", w, req, getenv("FO_COST_LOG") ? fake_log(h.fake) : "");
    struct fake_flink_view v;
    fake_flink_view(h.fake, &v);
    assert_int_equal(v.parallelism, 5); /* the upgrade happened */
    if (!getenv("FO_COST_LOG") &&
        (create_req > cases[c].create_requests || w > cases[c].upgrade_writes))
      fail_msg("%s%s: %zu requests to create (budget %zu), %zu writes to upgrade (budget %zu)",
               cases[c].mode, cases[c].conf ? " with HA" : "", create_req, cases[c].create_requests,
               w, cases[c].upgrade_writes);
    h_free(&h);
  }
}

/* Occurrences of `needle` in the fake's log. */
static size_t log_count(struct h *h, const char *needle) {
  size_t n = 0;
  for (const char *l = strstr(fake_log(h->fake), needle); l; l = strstr(l + 1, needle)) n++;
  return n;
}

/* The old cluster is deleted once: the passes that wait for its pods to go (a foreground delete
 * keeps the Deployment until they have) do not ask again, in the upgrade and in the cleanup. */
static void test_cluster_deleted_once(void **state) {
  (void)state;
  struct h h;
  h_init(&h, "once");
  h_create(&h, "stateless", "running", NULL, NULL);
  h_converge(&h, 30, NULL, 0);
  fake_patch_spec(h.fake, "flinkdeployments", NS, "once", "{\"job\":{\"parallelism\":3}}");
  fake_log_clear(h.fake);
  for (int i = 0; i < 4; i++) assert_int_equal(h_pass(&h, NULL), 0); /* no tick: still going */
  assert_int_equal(h_phase(&h), LC_STOP_CLUSTER);
  assert_int_equal(log_count(&h, "DELETE /apis/apps/v1/namespaces/jobs/deployments/once\n"), 1);
  h_converge(&h, 40, NULL, 0);
  h_delete(&h);
  fake_log_clear(h.fake);
  for (int i = 0; i < 3; i++) h_pass(&h, NULL);
  assert_int_equal(log_count(&h, "DELETE /apis/apps/v1/namespaces/jobs/deployments/once\n"), 1);
  for (int i = 0; i < 10 && h_fd(&h); i++) h_passes(&h, 1);
  assert_null(h_fd(&h));
  h_free(&h);
}

/* The owned-objects cache as the tests play it: the fake's Deployment as it is (live), or a copy
 * taken earlier (a cache that lags). */
struct h_cache {
  struct h *h;
  json_object *frozen; /* non-NULL: what the cache says */
};
static json_object *h_cached_deployment(void *ud, const char *key) {
  struct h_cache *c = ud;
  (void)key;
  if (c->frozen) return json_object_get(c->frozen);
  return fake_copy(c->h->fake, "deployments", NS, c->h->name);
}

/* While the old cluster's JobManager Deployment is being deleted, as the cache shows it, a pass
 * asks nothing (its going wakes the pass); and a cache that still shows the old one going while a
 * new one was made deletes nothing: the new cluster is found, and kept, once the cache catches up.
 */
static void test_going_cluster_costs_nothing(void **state) {
  (void)state;
  struct h h;
  h_init(&h, "going");
  struct h_cache c = {&h, NULL};
  h.env.cached_deployment = h_cached_deployment;
  h.env.cache_ud = &c;
  h_create(&h, "stateless", "running", NULL, NULL);
  h_converge(&h, 30, NULL, 0);
  fake_patch_spec(h.fake, "flinkdeployments", NS, "going", "{\"job\":{\"parallelism\":3}}");
  for (int i = 0; i < 6 && !fo_json_get(fo_json_path(fake_get(h.fake, "deployments", NS, "going"),
                                                     "metadata", (const char *)NULL),
                                        "deletionTimestamp");
       i++)
    assert_int_equal(h_pass(&h, NULL), 0); /* no tick: the deletion stays under way */
  json_object *old = fake_copy(h.fake, "deployments", NS, "going");
  assert_non_null(
      fo_json_get(fo_json_path(old, "metadata", (const char *)NULL), "deletionTimestamp"));
  fake_log_clear(h.fake);
  double again = 0;
  for (int i = 0; i < 4; i++) assert_int_equal(h_pass(&h, &again), 0);
  assert_int_equal(h_phase(&h), LC_STOP_CLUSTER);
  assert_true(again > 0); /* a backstop, in case the event is missed */
  if (strstr(fake_log(h.fake), "/apps/v1/") || strstr(fake_log(h.fake), "/pods"))
    fail_msg("requests while the cluster goes:\n%s", fake_log(h.fake));
  /* the old cluster gone and the new one made; then a cache still showing the old one going */
  fake_tick(h.fake);
  for (int i = 0;
       i < 6 && !strstr(fake_log(h.fake), "POST /apis/apps/v1/namespaces/jobs/deployments\n"); i++)
    assert_int_equal(h_pass(&h, NULL), 0);
  json_object *made = fake_get(h.fake, "deployments", NS, "going");
  assert_non_null(made);
  assert_null(fo_json_get(fo_json_path(made, "metadata", (const char *)NULL), "deletionTimestamp"));
  c.frozen = old;
  fake_log_clear(h.fake);
  for (int i = 0; i < 3; i++) assert_int_equal(h_pass(&h, NULL), 0);
  assert_null(strstr(fake_log(h.fake), "DELETE"));
  made = fake_get(h.fake, "deployments", NS, "going");
  assert_non_null(made);
  assert_null(fo_json_get(fo_json_path(made, "metadata", (const char *)NULL), "deletionTimestamp"));
  c.frozen = NULL; /* caught up */
  json_object_put(old);
  h_converge(&h, 40, NULL, 0);
  struct fake_flink_view v;
  fake_flink_view(h.fake, &v);
  assert_int_equal(v.starts, 2);
  assert_int_equal(v.parallelism, 3);
  assert_string_equal(h_job(&h, "state"), "RUNNING");
  assert_string_equal(h_job(&h, "jobId"), v.job_id);
  h_free(&h);
}

/* ---- a kill before every write ---- */

/* What starts the transition: a spec change, or (NULL) the job failing, restarted by
 * kubernetes.operator.job.restart.failed: the same generation, so only the transition's mark tells
 * the new cluster from the old. */
static void kill_trigger(struct h *h, const char *change) {
  if (change) fake_patch_spec(h->fake, "flinkdeployments", NS, "k", change);
  else fake_flink_set_job_state(h->fake, "FAILED");
}

static void kill_run(const char *mode, const char *conf, const char *change) {
  /* the writes of the whole transition, counted on an undisturbed run */
  struct h h;
  h_init(&h, "k");
  h_create(&h, mode, "running", conf, NULL);
  h_converge(&h, 30, NULL, 0);
  size_t w0 = fake_writes(h.fake);
  kill_trigger(&h, change);
  h_converge(&h, 40, NULL, 0);
  size_t total = fake_writes(h.fake) - w0;
  h_free(&h);
  assert_true(total >= 4);
  for (size_t kill = 0; kill < total; kill++) {
    h_init(&h, "k");
    h_create(&h, mode, "running", conf, NULL);
    h_converge(&h, 30, NULL, 0);
    struct fake_flink_view v0, v;
    fake_flink_view(h.fake, &v0);
    kill_trigger(&h, change);
    fake_kill_after(h.fake, (long)kill);
    for (int i = 0; i < 40 && !fake_killed(h.fake);
         i++) { /* runs until it dies before write kill+1 */
      h_pass(&h, NULL);
      if (!fake_killed(h.fake)) fake_tick(h.fake);
    }
    assert_true(fake_killed(h.fake));
    fake_revive(h.fake); /* a new process: all it knows is what the API server holds */
    event_forget();
    h_converge(&h, 40, NULL, 0);
    fake_flink_view(h.fake, &v);
    char what[128];
    snprintf(what, sizeof what, "%s, killed before write %zu of %zu", mode, kill + 1, total);
    if (v.starts != 2) fail_msg("%s: %d starts", what, v.starts);
    if (v.stale_ha_starts) fail_msg("%s: the job started beside another job's HA data", what);
    /* the status names the job Flink runs (recorded from the new cluster after a kill) */
    if (strcmp(v.job_state, "RUNNING") || !h_job(&h, "jobId") ||
        strcmp(h_job(&h, "jobId"), v.job_id))
      fail_msg("%s: Flink runs %s (%s), the status says %s", what, v.job_id, v.job_state,
               h_job(&h, "jobId") ? h_job(&h, "jobId") : "no job");
    if (!h_job(&h, "state") || strcmp(h_job(&h, "state"), "RUNNING"))
      fail_msg("%s: the status says the job is %s", what, h_job(&h, "state"));
    if (!strcmp(mode, "savepoint")) {
      if (v.savepoints != 1) fail_msg("%s: %d savepoints", what, v.savepoints);
      if (strcmp(v.restored_from, v.last_savepoint))
        fail_msg("%s: restored from '%s', not '%s'", what, v.restored_from, v.last_savepoint);
    } else if (!strcmp(mode, "last-state")) {
      if (strcmp(v.job_id, v0.job_id)) fail_msg("%s: a new job id (started empty)", what);
    }
    h_free(&h);
  }
}

/* A last-state job upgraded to parallelism 3 whose new job failed before it ran, past the readiness
 * timeout: the next pass rolls it back. Returns the job's starts so far. */
static int rollback_setup(struct h *h, struct fake_flink_view *v0) {
  h_init(h, "kr");
  h_create(h, "last-state", "running",
           HA ",\"kubernetes.operator.deployment.rollback.enabled\":\"true\"", NULL);
  h_converge(h, 30, NULL, 0);
  json_object *rs = fo_json_path(h_fd(h), "status", "reconciliationStatus", (const char *)NULL);
  char *stable0 = strdup(fo_json_get_string(rs, "lastStableSpec"));
  fake_flink_view(h->fake, v0);
  fake_patch_spec(h->fake, "flinkdeployments", NS, "kr", "{\"job\":{\"parallelism\":3}}");
  h_converge(h, 40, NULL, 0);
  fake_flink_set_job_state(h->fake, "FAILED");
  rs = fo_json_path(h_fd(h), "status", "reconciliationStatus", (const char *)NULL);
  json_object_object_add(rs, "lastStableSpec", json_object_new_string(stable0));
  json_object_object_add(rs, "reconciliationTimestamp",
                         json_object_new_int64(fo_clock_ms() - 10 * 60 * 1000));
  free(stable0);
  struct fake_flink_view v;
  fake_flink_view(h->fake, &v);
  return v.starts;
}

/* The rollback, killed before each of its writes: the new process finishes it, one start, the
 * stable spec's parallelism, the same job (through its HA data), never beside stale HA data. */
static void test_kill_during_rollback(void **state) {
  (void)state;
  struct h h;
  struct fake_flink_view v0, v;
  rollback_setup(&h, &v0);
  size_t w0 = fake_writes(h.fake);
  h_converge(&h, 40, NULL, 0);
  assert_string_equal(h_status(&h, "lifecycleState"), "ROLLED_BACK");
  size_t total = fake_writes(h.fake) - w0;
  h_free(&h);
  assert_true(total >= 3);
  for (size_t kill = 0; kill < total; kill++) {
    int starts = rollback_setup(&h, &v0);
    fake_kill_after(h.fake, (long)kill);
    for (int i = 0; i < 40 && !fake_killed(h.fake); i++) {
      h_pass(&h, NULL);
      if (!fake_killed(h.fake)) fake_tick(h.fake);
    }
    assert_true(fake_killed(h.fake));
    fake_revive(h.fake);
    event_forget();
    h_converge(&h, 40, NULL, 0);
    fake_flink_view(h.fake, &v);
    char what[96];
    snprintf(what, sizeof what, "rollback killed before write %zu of %zu", kill + 1, total);
    if (strcmp(h_status(&h, "lifecycleState"), "ROLLED_BACK"))
      fail_msg("%s: %s", what, h_status(&h, "lifecycleState"));
    if (v.starts != starts + 1) fail_msg("%s: %d starts, not %d", what, v.starts, starts + 1);
    if (v.parallelism != 2) fail_msg("%s: parallelism %d", what, v.parallelism);
    if (strcmp(v.job_id, v0.job_id)) fail_msg("%s: a new job id (started empty)", what);
    if (v.stale_ha_starts) fail_msg("%s: the job started beside another job's HA data", what);
    h_free(&h);
  }
}

/* A spec change while the rollback is under way wins over it: the newer spec is deployed, no
 * rollback is recorded (a fix the user made meanwhile is never left undeployed). */
static void test_change_during_rollback(void **state) {
  (void)state;
  struct h h;
  struct fake_flink_view v0, v;
  rollback_setup(&h, &v0);
  assert_int_equal(h_pass(&h, NULL), 0); /* the rollback begins */
  assert_string_equal(
      fo_json_get_string(
          fo_json_path(h_fd(&h), "status", "reconciliationStatus", (const char *)NULL), "state"),
      "ROLLING_BACK");
  fake_patch_spec(h.fake, "flinkdeployments", NS, "kr", "{\"job\":{\"parallelism\":4}}");
  h_converge(&h, 40, NULL, 0);
  fake_flink_view(h.fake, &v);
  assert_int_equal(v.parallelism, 4);
  assert_string_equal(h_status(&h, "lifecycleState"), "STABLE");
  assert_null(fo_json_get_string(fo_json_path(fake_get(h.fake, "deployments", NS, "kr"), "metadata",
                                              "annotations", (const char *)NULL),
                                 CLUSTER_ROLLBACK_ANNOTATION));
  h_free(&h);
}

static void test_kill_before_every_write(void **state) {
  (void)state;
  kill_run("savepoint", NULL, "{\"job\":{\"parallelism\":5}}");
  kill_run("savepoint", HA, "{\"job\":{\"parallelism\":5}}");
  kill_run("last-state", HA, "{\"job\":{\"parallelism\":5}}");
  kill_run("stateless", HA, "{\"job\":{\"parallelism\":5}}");
  kill_run("stateless", NULL, "{\"job\":{\"parallelism\":5}}");
  /* restarts of a failed job: the same generation */
  kill_run("last-state", HA ",\"kubernetes.operator.job.restart.failed\":\"true\"", NULL);
  kill_run("stateless", ",\"kubernetes.operator.job.restart.failed\":\"true\"", NULL);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_phase_table),
      cmocka_unit_test(test_pass_new_running),
      cmocka_unit_test(test_pass_waits_for_old_pods),
      cmocka_unit_test(test_pass_stale_copy),
      cmocka_unit_test(test_observe_not_ready_and_replica_failure),
      cmocka_unit_test(test_observe_rest_unreachable),
      cmocka_unit_test(test_recover_missing_deployment),
      cmocka_unit_test(test_failure_classes),
      cmocka_unit_test(test_failure_reported),
      cmocka_unit_test(test_failure_not_reported),
      cmocka_unit_test(test_pass_created_suspended),
      cmocka_unit_test(test_pass_invalid_spec),
      cmocka_unit_test(test_pass_conflict_keeps_other_writer),
      cmocka_unit_test(test_upgrade_per_mode),
      cmocka_unit_test(test_suspend_resume_savepoint),
      cmocka_unit_test(test_manual_savepoint),
      cmocka_unit_test(test_last_state_without_ha_data_restores_latest_checkpoint),
      cmocka_unit_test(test_last_state_ha_config_map_without_data),
      cmocka_unit_test(test_nothing_to_restore_from_refuses),
      cmocka_unit_test(test_savepoint_mode_failed_job),
      cmocka_unit_test(test_ended_job_statistics_settle),
      cmocka_unit_test(test_savepoint_redeploy),
      cmocka_unit_test(test_changes_that_are_no_upgrade),
      cmocka_unit_test(test_checkpoints),
      cmocka_unit_test(test_periodic_savepoint_cron),
      cmocka_unit_test(test_checkpoint_before_flink_117),
      cmocka_unit_test(test_savepoint_upgrade_before_running_is_seen),
      cmocka_unit_test(test_upgrade_after_jobmanager_went_unready),
      cmocka_unit_test(test_rollback),
      cmocka_unit_test(test_kill_during_rollback),
      cmocka_unit_test(test_change_during_rollback),
      cmocka_unit_test(test_in_place_scaling),
      cmocka_unit_test(test_restart_failed_job),
      cmocka_unit_test(test_last_state_max_checkpoint_age),
      cmocka_unit_test(test_savepoint_wait_way_out),
      cmocka_unit_test(test_upgrade_savepoint_fails),
      cmocka_unit_test(test_resume_without_ha_data),
      cmocka_unit_test(test_scale_status),
      cmocka_unit_test(test_periodic_savepoint),
      cmocka_unit_test(test_savepoint_history_trimmed),
      cmocka_unit_test(test_spec_change_while_stopping),
      cmocka_unit_test(test_delete_cleans_up),
      cmocka_unit_test(test_rest_service_type_and_port),
      cmocka_unit_test(test_health_restart),
      cmocka_unit_test(test_api_cost),
      cmocka_unit_test(test_cluster_deleted_once),
      cmocka_unit_test(test_going_cluster_costs_nothing),
      cmocka_unit_test(test_session_cluster),
      cmocka_unit_test(test_session_delete_not_blocked),
      cmocka_unit_test(test_session_delete_blocked_by_session_jobs),
      cmocka_unit_test(test_kill_before_every_write),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}

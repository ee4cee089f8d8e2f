/* The FlinkSessionJob pass without a cluster: the in-memory API server of fakecluster.c and a
 * session cluster's JobManager scripted here (its jobs, their checkpoints, savepoints, the jars
 * uploaded and run). Each case is a starting point (Flink's version, the job's checkpoints, what
 * the status says) and a change; the pass's requests to Flink and what Flink then holds are the
 * result, checked from Flink's side. The decisions tested here are the ones the end-to-end test
 * cannot time: a last-state upgrade with no checkpoint yet, or with a Flink that cannot retain
 * checkpoints on a cancel; a savepoint that fails; a kill between the recorded job id and the
 * run; a stopped job that left nothing to restore. */
#include <errno.h>
#include <stdarg.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "events.h"
#include "fakecluster.h"
#include "flinkop/clock.h"
#include "flinkop/kube.h"
#include "pass.h"
#include "sessionjob.h"
#include "testutil.h"

#define NS "jobs"
#define MAX_JOBS 8

/* ---- a session cluster's JobManager ---- */

struct sjob {
  char jid[33], state[16];
  int64_t checkpoint; /* the newest completed checkpoint's id, 0 when none */
  bool retain;        /* its run asked Flink to keep checkpoints on a cancel */
  char restored[256]; /* what its run restored */
};
struct jm {
  struct sjob jobs[MAX_JOBS];
  size_t n;
  int runs, uploads, deletes, cancels, stops, savepoints;
  bool fail_savepoints; /* a savepoint fails (the job runs on) */
  bool stop_pending;    /* a stop-with-savepoint stays in progress */
  char trigger[64];
  struct fake *fake; /* killed with it: nothing answers */
  char answer[4096];
  char log[8192];
};

static struct sjob *jm_job(struct jm *m, const char *jid) {
  for (size_t i = 0; i < m->n; i++)
    if (!strncmp(m->jobs[i].jid, jid, 32)) return &m->jobs[i];
  return NULL;
}

static long jm_say(struct jm *m, long code, const char **data, size_t *len, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
static long jm_say(struct jm *m, long code, const char **data, size_t *len, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(m->answer, sizeof m->answer, fmt, ap);
  va_end(ap);
  *data = m->answer;
  *len = strlen(m->answer);
  return code;
}

static long jm_transport(void *ud, const char *method, const char *path, const char *body,
                         const char **data, size_t *len) {
  struct jm *m = ud;
  if (m->fake && fake_killed(m->fake)) return 0;
  size_t l = strlen(m->log);
  snprintf(m->log + l, sizeof m->log - l, "%s %s\n", method, path);
  char jid[33] = "", rest[128] = "";
  if (!strcmp(path, "/jobs/overview")) {
    char list[3000] = "";
    for (size_t i = 0; i < m->n; i++) {
      l = strlen(list);
      snprintf(list + l, sizeof list - l,
               "%s{\"jid\":\"%s\",\"name\":\"counter\",\"state\":\"%s\",\"start-time\":1,"
               "\"tasks\":{\"total\":1,\"running\":%d,\"finished\":0}}",
               i ? "," : "", m->jobs[i].jid, m->jobs[i].state,
               !strcmp(m->jobs[i].state, "RUNNING"));
    }
    return jm_say(m, 200, data, len, "{\"jobs\":[%s]}", list);
  }
  if (!strcmp(method, "POST") && !strcmp(path, "/jars/upload")) {
    m->uploads++;
    assert_non_null(body);
    assert_non_null(strstr(body, "jarfile="));
    return jm_say(m, 200, data, len,
                  "{\"filename\":\"/tmp/web/abc_job.jar\",\"status\":\"success\"}");
  }
  if (!strcmp(method, "DELETE") && !strncmp(path, "/jars/", 6)) {
    m->deletes++;
    return jm_say(m, 200, data, len, "{}");
  }
  if (!strcmp(method, "POST") && !strncmp(path, "/jars/", 6)) {
    json_object *b = tu_json(body);
    const char *id = fo_json_get_string(b, "jobId");
    assert_non_null(id);
    assert_true(m->n < MAX_JOBS);
    struct sjob *j = &m->jobs[m->n++];
    memset(j, 0, sizeof *j);
    snprintf(j->jid, sizeof j->jid, "%s", id);
    snprintf(j->state, sizeof j->state, "RUNNING");
    const char *sp = fo_json_get_string(b, "savepointPath");
    snprintf(j->restored, sizeof j->restored, "%s", sp ? sp : "");
    const char *ret =
        fo_json_get_string(fo_json_get_object(b, "flinkConfiguration"),
                           "execution.checkpointing.externalized-checkpoint-retention");
    j->retain = ret && !strcmp(ret, "RETAIN_ON_CANCELLATION");
    m->runs++;
    json_object_put(b);
    return jm_say(m, 200, data, len, "{\"jobid\":\"%s\"}", j->jid);
  }
  if (sscanf(path, "/jobs/%32[0-9a-f]%127s", jid, rest) < 1)
    return jm_say(m, 404, data, len, "{\"errors\":[\"Not found: %s\"]}", path);
  struct sjob *j = jm_job(m, jid);
  if (!j) return jm_say(m, 404, data, len, "{\"errors\":[\"Job %s not found\"]}", jid);
  if (!strcmp(method, "PATCH")) { /* ?mode=cancel (the query is part of the path here) */
    m->cancels++;
    snprintf(j->state, sizeof j->state, "CANCELED");
    if (!j->retain) j->checkpoint = 0; /* Flink discards them */
    return jm_say(m, 202, data, len, "{}");
  }
  if (!strcmp(rest, "/checkpoints")) {
    char completed[256] = "null";
    if (j->checkpoint)
      snprintf(completed, sizeof completed,
               "{\"id\":%lld,\"external_path\":\"file:/cp/%s/chk-%lld\",\"trigger_timestamp\":1}",
               (long long)j->checkpoint, j->jid, (long long)j->checkpoint);
    return jm_say(m, 200, data, len,
                  "{\"counts\":{},\"latest\":{\"completed\":%s,\"savepoint\":null,\"restored\":"
                  "null},\"history\":[]}",
                  completed);
  }
  if (!strcmp(method, "POST") && (!strcmp(rest, "/stop") || !strcmp(rest, "/savepoints"))) {
    json_object *b = tu_json(body);
    const char *t = fo_json_get_string(b, "triggerId");
    snprintf(m->trigger, sizeof m->trigger, "%s", t ? t : "ffffffffffffffffffffffffffffffff");
    json_object_put(b);
    if (!strcmp(rest, "/stop")) m->stops++;
    else m->savepoints++;
    if (!strcmp(rest, "/stop") && !m->fail_savepoints && !m->stop_pending)
      snprintf(j->state, sizeof j->state, "FINISHED");
    return jm_say(m, 202, data, len, "{\"request-id\":\"%s\"}", m->trigger);
  }
  if (!strncmp(rest, "/savepoints/", 12)) {
    if (strcmp(rest + 12, m->trigger) != 0)
      return jm_say(m, 404, data, len, "{\"errors\":[\"Operation not found\"]}");
    if (m->stop_pending) return jm_say(m, 200, data, len, "{\"status\":{\"id\":\"IN_PROGRESS\"}}");
    if (m->fail_savepoints)
      return jm_say(m, 200, data, len,
                    "{\"status\":{\"id\":\"COMPLETED\"},\"operation\":{\"failure-cause\":{"
                    "\"class\":\"java.lang.Exception\",\"stack-trace\":\"Checkpoint expired\"}}}");
    return jm_say(m, 200, data, len,
                  "{\"status\":{\"id\":\"COMPLETED\"},\"operation\":{\"location\":\"file:/sp/"
                  "savepoint-%.6s\"}}",
                  j->jid);
  }
  return jm_say(m, 404, data, len, "{\"errors\":[\"Not found: %s\"]}", path);
}

/* ---- harness ---- */

struct h {
  struct fake *fake;
  struct fo_kube_config cfg;
  struct fo_kube *k;
  struct pass_env env;
  struct jm jm;
  json_object *defaults;
  char jar[320], dir[256];
  double again; /* the last pass's */
  int settles;  /* passes that waited for Flink's checkpoint statistics (h_upgrade) */
};

static void h_init(struct h *h, const char *flink_version) {
  memset(h, 0, sizeof *h);
  event_forget();
  h->fake = fake_new();
  h->jm.fake = h->fake;
  h->cfg.server = (char *)"https://fake";
  h->k = fo_kube_new(&h->cfg);
  fo_kube_set_transport(h->k, fake_kube_transport, h->fake);
  snprintf(h->dir, sizeof h->dir, "/tmp/fo-test-sj-XXXXXX");
  assert_non_null(mkdtemp(h->dir));
  snprintf(h->jar, sizeof h->jar, "%s/job.jar", h->dir);
  tu_write_file(h->jar, "PK", 2, 100);
  h->defaults = tu_json("{\"kubernetes.operator.user.artifacts.allowed-schemes\": \"https;file\"}");
  h->env = (struct pass_env){.flink_url_template = "http://{name}-rest.{namespace}:8081",
                             .default_conf = h->defaults,
                             .flink_transport = jm_transport,
                             .flink_transport_ud = &h->jm,
                             .artifacts_dir = h->dir};
  char text[2048];
  snprintf(text, sizeof text,
           "{\"apiVersion\":\"flink.apache.org/v1beta1\",\"kind\":\"FlinkDeployment\","
           "\"metadata\":{\"name\":\"sess\",\"namespace\":\"" NS
           "\"},"
           "\"spec\":{\"image\":\"flink:%s\",\"flinkVersion\":\"v%c_%s\",\"flinkConfiguration\":{"
           "\"state.checkpoints.dir\":\"file:///cp\",\"state.savepoints.dir\":\"file:///sp\"},"
           "\"jobManager\":{\"resource\":{\"memory\":\"2048m\",\"cpu\":1}},"
           "\"taskManager\":{\"resource\":{\"memory\":\"2048m\",\"cpu\":1}}},"
           "\"status\":{\"jobManagerDeploymentStatus\":\"READY\",\"lifecycleState\":\"STABLE\"}}",
           flink_version, flink_version[0], flink_version + 2);
  assert_int_equal(fake_put(h->fake, text), 0);
}

static void h_free(struct h *h) {
  unlink(h->jar);
  rmdir(h->dir);
  fo_kube_free(h->k);
  fake_free(h->fake);
  json_object_put(h->defaults);
}

static void h_create(struct h *h, const char *mode) {
  char text[2048];
  snprintf(text, sizeof text,
           "{\"apiVersion\":\"flink.apache.org/v1beta1\",\"kind\":\"FlinkSessionJob\","
           "\"metadata\":{\"name\":\"sj\",\"namespace\":\"" NS
           "\",\"generation\":1,"
           "\"finalizers\":[\"" SJ_FINALIZER
           "\"]},"
           "\"spec\":{\"deploymentName\":\"sess\",\"job\":{\"jarURI\":\"file://%s\","
           "\"parallelism\":1,\"upgradeMode\":\"%s\"}}}",
           h->jar, mode);
  assert_int_equal(fake_put(h->fake, text), 0);
}

/* One pass over the stored object: its return; h->again the delay it asked for. */
static int h_pass(struct h *h) {
  h->again = 0;
  return sessionjob_reconcile(&h->env, h->k, fake_copy(h->fake, "flinksessionjobs", NS, "sj"),
                              NS "/sj", &h->again);
}

static json_object *h_status(struct h *h) {
  return fo_json_get_object(fake_get(h->fake, "flinksessionjobs", NS, "sj"), "status");
}
static const char *h_js(struct h *h, const char *field) {
  return fo_json_get_string(fo_json_get_object(h_status(h), "jobStatus"), field);
}

/* Deployed and running: one run, RUNNING, DEPLOYED. */
static void h_running(struct h *h, const char *mode) {
  h_create(h, mode);
  assert_int_equal(h_pass(h), 0);
  assert_int_equal(h->jm.runs, 1);
  assert_int_equal(h_pass(h), 0); /* observes it */
  assert_string_equal(h_js(h, "state"), "RUNNING");
  assert_string_equal(h_js(h, "jobId"), h->jm.jobs[0].jid);
}

/* Upgrades the running job (a new parallelism) and passes until a second job runs or `max`
 * passes went by. A pass that waits for Flink's checkpoint statistics to be newer than the job's
 * end (longer than a busy poll, with no run) is counted in h->settles, and the end moved an hour
 * back in the status, as if that time had passed. */
static void h_upgrade(struct h *h, int max) {
  fake_patch_spec(h->fake, "flinksessionjobs", NS, "sj", "{\"job\":{\"parallelism\":2}}");
  for (int i = 0; i < max && h->jm.runs < 2; i++) {
    int runs = h->jm.runs;
    assert_int_equal(h_pass(h), 0);
    /* web.refresh-interval's 3 s and a margin; a steady poll is longer */
    if (h->again > 2.0 && h->again <= 3.6 && h->jm.runs == runs) {
      h->settles++;
      char ms[24];
      snprintf(ms, sizeof ms, "%lld", (long long)(fo_clock_ms() - 3600 * 1000));
      json_object_object_add(fo_json_get_object(h_status(h), "jobStatus"), "updateTime",
                             json_object_new_string(ms));
    }
  }
}

/* ---- cases ---- */

/* last-state with a checkpoint and Flink 1.20: cancelled (checkpoints retained by the run's
 * configuration), the next job restores the checkpoint. */
static void test_last_state_cancels_and_restores_checkpoint(void **state) {
  (void)state;
  struct h h;
  h_init(&h, "1.20");
  h_running(&h, "last-state");
  assert_true(h.jm.jobs[0].retain);
  h.jm.jobs[0].checkpoint = 7;
  h_upgrade(&h, 5);
  assert_int_equal(h.jm.runs, 2);
  assert_int_equal(h.jm.cancels, 1);
  assert_int_equal(h.jm.stops, 0);
  assert_int_equal(h.settles, 1); /* the checkpoint was read once Flink's cache was past the end */
  char want[128];
  snprintf(want, sizeof want, "file:/cp/%s/chk-7", h.jm.jobs[0].jid);
  assert_string_equal(h.jm.jobs[1].restored, want);
  h_free(&h);
}

/* last-state with no checkpoint yet: never cancelled empty-handed, stopped with a savepoint. */
static void test_last_state_without_checkpoint_stops_with_savepoint(void **state) {
  (void)state;
  struct h h;
  h_init(&h, "1.20");
  h_running(&h, "last-state");
  h_upgrade(&h, 5);
  assert_int_equal(h.jm.runs, 2);
  assert_int_equal(h.jm.cancels, 0);
  assert_int_equal(h.jm.stops, 1);
  char want[64];
  snprintf(want, sizeof want, "file:/sp/savepoint-%.6s", h.jm.jobs[0].jid);
  assert_string_equal(h.jm.jobs[1].restored, want);
  h_free(&h);
}

/* Flink 1.16 takes no configuration with a run: a cancel would lose the checkpoints, so last-state
 * stops with a savepoint even with a checkpoint. */
static void test_last_state_before_117_stops_with_savepoint(void **state) {
  (void)state;
  struct h h;
  h_init(&h, "1.16");
  h_running(&h, "last-state");
  assert_false(h.jm.jobs[0].retain);
  h.jm.jobs[0].checkpoint = 3;
  h_upgrade(&h, 5);
  assert_int_equal(h.jm.cancels, 0);
  assert_int_equal(h.jm.stops, 1);
  assert_int_equal(h.jm.runs, 2);
  assert_non_null(strstr(h.jm.jobs[1].restored, "file:/sp/savepoint-"));
  h_free(&h);
}

/* A savepoint for the upgrade fails: the job runs on, the error is said, nothing new runs. */
static void test_upgrade_savepoint_fails(void **state) {
  (void)state;
  struct h h;
  h_init(&h, "1.20");
  h_running(&h, "savepoint");
  h.jm.fail_savepoints = true;
  h_upgrade(&h, 3);
  assert_int_equal(h.jm.runs, 1);
  assert_int_equal(h.jm.cancels, 0);
  assert_string_equal(h.jm.jobs[0].state, "RUNNING");
  const char *err = fo_json_get_string(h_status(&h), "error");
  assert_non_null(err);
  assert_non_null(strstr(err, "Savepoint failed for the upgrade: "));
  h_free(&h);
}

/* Killed after the job id was recorded, before the run: the next pass runs it under that id;
 * killed after the run: the next pass finds it and runs nothing. */
static void test_resume_after_recorded_id(void **state) {
  (void)state;
  struct h h;
  h_init(&h, "1.20");
  h_create(&h, "stateless");
  fake_kill_after(h.fake, 1); /* the status write with the id goes through, then the process dies */
  assert_true(h_pass(&h) < 0);
  fake_revive(h.fake);
  const char *jid = h_js(&h, "jobId");
  assert_non_null(jid);
  assert_string_equal(h_js(&h, "state"), "RECONCILING");
  assert_int_equal(h.jm.runs, 0);
  char recorded[33];
  snprintf(recorded, sizeof recorded, "%s", jid);
  assert_int_equal(h_pass(&h), 0);
  assert_int_equal(h.jm.runs, 1);
  assert_string_equal(h.jm.jobs[0].jid, recorded);
  /* the run happened but DEPLOYED was not written: found, not run again */
  json_object *st = h_status(&h);
  json_object_object_add(fo_json_get_object(st, "jobStatus"), "state",
                         json_object_new_string("RECONCILING"));
  assert_int_equal(h_pass(&h), 0);
  assert_int_equal(h.jm.runs, 1);
  assert_string_equal(h_js(&h, "state"), "RUNNING");
  h_free(&h);
}

/* A stopped job (cancelled by someone) that left nothing, in savepoint mode: nothing runs empty. */
static void test_nothing_to_restore_refuses(void **state) {
  (void)state;
  struct h h;
  h_init(&h, "1.20");
  h_running(&h, "savepoint");
  snprintf(h.jm.jobs[0].state, sizeof h.jm.jobs[0].state, "CANCELED");
  h_upgrade(&h, 3);
  assert_int_equal(h.jm.runs, 1);
  const char *err = fo_json_get_string(h_status(&h), "error");
  assert_non_null(err);
  assert_non_null(strstr(err, "left no savepoint or checkpoint to restore"));
  /* the user's consent to start empty */
  fake_patch_spec(h.fake, "flinksessionjobs", NS, "sj",
                  "{\"job\":{\"upgradeMode\":\"stateless\"}}");
  assert_int_equal(h_pass(&h), 0);
  assert_int_equal(h.jm.runs, 2);
  assert_string_equal(h.jm.jobs[1].restored, "");
  h_free(&h);
}

/* While a stop-with-savepoint is in progress, passes only ask; the savepoint's trigger id is
 * recorded before it is asked for and sent with it. */
static void test_stop_in_progress_waits(void **state) {
  (void)state;
  struct h h;
  h_init(&h, "1.20");
  h_running(&h, "savepoint");
  h.jm.stop_pending = true;
  h_upgrade(&h, 4);
  assert_int_equal(h.jm.stops, 1);
  assert_int_equal(h.jm.runs, 1);
  json_object *si = fo_json_path(h_status(&h), "jobStatus", "savepointInfo", (const char *)NULL);
  assert_string_equal(fo_json_get_string(si, "triggerId"), h.jm.trigger);
  assert_string_equal(fo_json_get_string(si, "triggerType"), "UPGRADE");
  h.jm.stop_pending = false;
  snprintf(h.jm.jobs[0].state, sizeof h.jm.jobs[0].state, "FINISHED");
  assert_int_equal(h_pass(&h), 0);
  assert_int_equal(h.jm.runs, 2);
  assert_non_null(strstr(h.jm.jobs[1].restored, "file:/sp/savepoint-"));
  assert_null(fo_json_get_string(
      si = fo_json_path(h_status(&h), "jobStatus", "savepointInfo", (const char *)NULL),
      "triggerId"));
  h_free(&h);
}

/* The session cluster lost the job (redeployed without HA): it runs again from the newest
 * savepoint recorded; stateless, empty; with HA, nothing is run (Flink recovers it). */
static void test_lost_job_runs_again(void **state) {
  (void)state;
  struct h h;
  h_init(&h, "1.20");
  h_running(&h, "savepoint");
  fake_patch_spec(h.fake, "flinksessionjobs", NS, "sj", "{\"job\":{\"savepointTriggerNonce\":1}}");
  for (int i = 0; i < 3; i++) assert_int_equal(h_pass(&h), 0);
  assert_int_equal(h.jm.savepoints, 1);
  char sp[128];
  snprintf(sp, sizeof sp, "%s",
           fo_json_get_string(fo_json_path(h_status(&h), "jobStatus", "savepointInfo",
                                           "lastSavepoint", (const char *)NULL),
                              "location"));
  h.jm.n = 0; /* the cluster was redeployed: it knows no job */
  assert_int_equal(h_pass(&h), 0);
  assert_int_equal(h.jm.runs, 2);
  assert_string_equal(h.jm.jobs[0].restored, sp);
  h_free(&h);

  h_init(&h, "1.20"); /* with HA: said, nothing run */
  fake_patch_spec(h.fake, "flinkdeployments", NS, "sess",
                  "{\"flinkConfiguration\":{\"high-availability.type\":\"kubernetes\","
                  "\"high-availability.storageDir\":\"file:///ha\"}}");
  h_running(&h, "stateless");
  h.jm.n = 0;
  assert_int_equal(h_pass(&h), 0);
  assert_int_equal(h.jm.runs, 1);
  assert_non_null(strstr(fo_json_get_string(h_status(&h), "error"), "with HA, Flink recovers it"));
  h_free(&h);

  h_init(&h, "1.20");
  h_running(&h, "stateless");
  h.jm.n = 0;
  assert_int_equal(h_pass(&h), 0);
  assert_int_equal(h.jm.runs, 2);
  assert_string_equal(h.jm.jobs[0].restored, "");
  h_free(&h);

  h_init(&h, "1.20");
  h_running(&h, "last-state");
  h.jm.n = 0; /* nothing recorded to restore: not started empty */
  assert_int_equal(h_pass(&h), 0);
  assert_int_equal(h.jm.runs, 1);
  assert_non_null(
      strstr(fo_json_get_string(h_status(&h), "error"), "no savepoint of it is recorded"));
  h_free(&h);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_last_state_cancels_and_restores_checkpoint),
      cmocka_unit_test(test_last_state_without_checkpoint_stops_with_savepoint),
      cmocka_unit_test(test_last_state_before_117_stops_with_savepoint),
      cmocka_unit_test(test_upgrade_savepoint_fails),
      cmocka_unit_test(test_resume_after_recorded_id),
      cmocka_unit_test(test_nothing_to_restore_refuses),
      cmocka_unit_test(test_stop_in_progress_waits),
      cmocka_unit_test(test_lost_job_runs_again),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}

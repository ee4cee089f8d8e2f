/* The Flink REST client against the simulated JobManager (tests/flinksim/flinksim.py in standalone
 * mode): every call, and every error class (404, 409, 5xx, refused, garbage, timeout).
 * usage: test_flinkrest (finds python3 and the simulator from FO_SOURCE_DIR) */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "flinkop/flinkrest.h"
#include "testutil.h"

static char dir[256], base[128], ctl[128];
static pid_t sim;
static struct fo_flink *F;

static void sim_post(const char *path, const char *body) {
  char url[256];
  snprintf(url, sizeof url, "%s%s", ctl, path);
  CURL *c = curl_easy_init();
  curl_easy_setopt(c, CURLOPT_URL, url);
  curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, fwrite);
  FILE *null = fopen("/dev/null", "w");
  curl_easy_setopt(c, CURLOPT_WRITEDATA, null);
  assert_int_equal(curl_easy_perform(c), CURLE_OK);
  curl_easy_cleanup(c);
  fclose(null);
}

static int setup(void **st) {
  (void)st;
  curl_global_init(CURL_GLOBAL_DEFAULT);
  snprintf(dir, sizeof dir, "/tmp/fo-flinkrest-XXXXXX");
  assert_non_null(mkdtemp(dir));
  char conf[300], state[300], data[300], portf[300], script[600];
  snprintf(conf, sizeof conf, "%s/flink-conf.yaml", dir);
  snprintf(state, sizeof state, "%s/state.jsonl", dir);
  snprintf(data, sizeof data, "%s/data", dir);
  snprintf(portf, sizeof portf, "%s/port", dir);
  snprintf(script, sizeof script, "%s/tests/flinksim/flinksim.py", FO_SOURCE_DIR);
  FILE *f = fopen(conf, "w");
  fputs(
      "state.checkpoints.dir: file:///checkpoints\nstate.savepoints.dir: file:///savepoints\n"
      "execution.checkpointing.interval: 200ms\n$internal.pipeline.job-id: "
      "0123456789abcdef0123456789abcdef\n"
      "parallelism.default: 2\n",
      f);
  fclose(f);
  sim = fork();
  if (sim == 0) {
    execlp("python3", "python3", script, "--standalone", "ns/app", "--config", conf, "--state-file",
           state, "--data-root", data, "--port-file", portf, "--savepoint-delay", "0.2",
           "--job-start-delay", "0.1", (char *)NULL);
    _exit(127);
  }
  int port = 0;
  for (int i = 0; i < 200 && !port; i++) {
    usleep(50000);
    FILE *pf = fopen(portf, "r");
    if (pf) {
      if (fscanf(pf, "%d", &port) != 1) port = 0;
      fclose(pf);
    }
  }
  assert_true(port > 0);
  snprintf(ctl, sizeof ctl, "http://127.0.0.1:%d", port);
  struct fo_buf u;
  fo_buf_init(&u, 256);
  char tmpl[128];
  snprintf(tmpl, sizeof tmpl, "http://127.0.0.1:{port}/{namespace}/{name}");
  assert_int_equal(fo_flink_url(&u, tmpl, "app", "ns", port), 0);
  snprintf(base, sizeof base, "%s", u.data);
  fo_buf_free(&u);
  F = fo_flink_new(base, 3000);
  return 0;
}

static int teardown(void **st) {
  (void)st;
  fo_flink_free(F);
  kill(sim, SIGTERM);
  waitpid(sim, NULL, 0);
  char cmd[300];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
  int rc = system(cmd);
  (void)rc;
  curl_global_cleanup();
  return 0;
}

#define JID "0123456789abcdef0123456789abcdef"

static const char *job_state(void) {
  static char st[16];
  struct fo_flink_jobs j;
  st[0] = '\0';
  if (fo_flink_jobs_overview(F, &j) == 0) {
    for (size_t i = 0; i < j.n; i++)
      if (!strcmp(j.jobs[i].jid, JID))
        snprintf(st, sizeof st, "%s", fo_flink_job_effective_state(&j.jobs[i]));
    fo_flink_jobs_free(&j);
  }
  return st;
}

static void wait_state(const char *want) {
  for (int i = 0; i < 100; i++) {
    if (!strcmp(job_state(), want)) return;
    usleep(50000);
  }
  fail_msg("job never reached %s (now %s)", want, job_state());
}

static void wait_savepoint(const char *trigger, struct fo_flink_savepoint_status *s) {
  for (int i = 0; i < 100; i++) {
    assert_int_equal(fo_flink_savepoint_status(F, JID, trigger, s), 0);
    if (s->state != FO_FLINK_OP_IN_PROGRESS) return;
    fo_flink_savepoint_status_free(s);
    usleep(50000);
  }
  fail_msg("savepoint %s never completed", trigger);
}

static void test_config_and_overview(void **st) {
  (void)st;
  struct fo_flink_version v;
  assert_int_equal(fo_flink_config(F, &v), 0);
  assert_string_equal(v.version, "1.20.0");
  assert_non_null(v.revision);
  fo_flink_version_free(&v);
  wait_state("RUNNING");
  struct fo_flink_jobs j;
  assert_int_equal(fo_flink_jobs_overview(F, &j), 0);
  assert_int_equal(j.n, 1);
  assert_string_equal(j.jobs[0].jid, JID);
  assert_true(j.jobs[0].start_time > 0);
  fo_flink_jobs_free(&j);
}

static void test_checkpoints(void **st) {
  (void)st;
  struct fo_flink_checkpoints c;
  for (int i = 0; i < 60; i++) {
    assert_int_equal(fo_flink_checkpoints(F, JID, &c), 0);
    if (c.completed.present) break;
    fo_flink_checkpoints_free(&c);
    usleep(100000);
  }
  assert_true(c.enabled);
  assert_true(c.completed.present);
  const struct fo_flink_checkpoint *l = fo_flink_checkpoints_latest(&c);
  assert_non_null(l);
  assert_non_null(strstr(l->external_path, "file:/checkpoints/" JID "/chk-"));
  fo_flink_checkpoints_free(&c);
}

static void test_savepoint_and_disposal(void **st) {
  (void)st;
  char *trig;
  assert_int_equal(fo_flink_trigger_savepoint(F, JID, "file:///savepoints", false, NULL, &trig), 0);
  struct fo_flink_savepoint_status s;
  wait_savepoint(trig, &s);
  assert_int_equal(s.state, FO_FLINK_OP_COMPLETED);
  assert_non_null(strstr(s.location, "file:/savepoints/savepoint-012345-"));
  char path[600];
  snprintf(path, sizeof path, "%s/data/%s/_metadata", dir, s.location + strlen("file:/"));
  struct stat sb;
  assert_int_equal(stat(path, &sb), 0); /* the simulator wrote it where Flink would */
  char *dt;
  assert_int_equal(fo_flink_dispose_savepoint(F, s.location, &dt), 0);
  assert_int_not_equal(stat(path, &sb), 0);
  free(dt);
  fo_flink_savepoint_status_free(&s);
  free(trig);
  /* a failing savepoint: FAILED with the cause */
  sim_post("/_sim/faults/ns/app", "{\"fail_next_savepoint\": true}");
  assert_int_equal(fo_flink_trigger_savepoint(F, JID, "file:///savepoints", false, NULL, &trig), 0);
  wait_savepoint(trig, &s);
  assert_int_equal(s.state, FO_FLINK_OP_FAILED);
  assert_non_null(strstr(s.failure_cause, "Savepoint failed"));
  fo_flink_savepoint_status_free(&s);
  free(trig);
  assert_string_equal(job_state(), "RUNNING");
}

static void test_error_classes(void **st) {
  (void)st;
  struct fo_flink_savepoint_status s;
  /* 404: unknown job and unknown trigger */
  assert_int_equal(fo_flink_cancel(F, "ffffffffffffffffffffffffffffffff"), -ENOENT);
  assert_non_null(strstr(fo_flink_last_error(F), "not found"));
  assert_int_equal(fo_flink_savepoint_status(F, JID, "ffffffffffffffffffffffffffffffff", &s),
                   -ENOENT);
  /* malformed ids never reach the wire */
  assert_int_equal(fo_flink_cancel(F, "../config"), -EINVAL);
  /* 5xx */
  sim_post("/_sim/faults/ns/app", "{\"rest_500\": 1}");
  struct fo_flink_jobs j;
  assert_int_equal(fo_flink_jobs_overview(F, &j), -EIO);
  assert_non_null(strstr(fo_flink_last_error(F), "HTTP 500"));
  assert_int_equal(fo_flink_jobs_overview(F, &j), 0);
  fo_flink_jobs_free(&j);
  /* garbage */
  sim_post("/_sim/faults/ns/app", "{\"garbage\": true}");
  assert_int_equal(fo_flink_jobs_overview(F, &j), -EBADMSG);
  sim_post("/_sim/faults/ns/app", "{\"garbage\": false}");
  /* timeout */
  struct fo_flink *quick = fo_flink_new(base, 300);
  sim_post("/_sim/faults/ns/app", "{\"rest_timeout\": 1}");
  assert_int_equal(fo_flink_jobs_overview(quick, &j), -ETIMEDOUT);
  sim_post("/_sim/faults/ns/app", "{\"rest_timeout\": 0}");
  fo_flink_free(quick);
  /* connection refused */
  struct fo_flink *nobody = fo_flink_new("http://127.0.0.1:1", 1000);
  assert_int_equal(fo_flink_jobs_overview(nobody, &j), -ECONNREFUSED);
  fo_flink_free(nobody);
}

static void test_stop_cancel_and_exceptions(void **st) {
  (void)st;
  char *trig;
  assert_int_equal(fo_flink_stop_with_savepoint(F, JID, "file:///savepoints", false, NULL, &trig),
                   0);
  struct fo_flink_savepoint_status s;
  wait_savepoint(trig, &s);
  assert_int_equal(s.state, FO_FLINK_OP_COMPLETED);
  fo_flink_savepoint_status_free(&s);
  free(trig);
  wait_state("FINISHED");
  /* 409: cancelling a job that already ended */
  assert_int_equal(fo_flink_cancel(F, JID), -EALREADY);
  /* a new JobManager: cancel a running job */
  sim_post("/_sim/restart/ns/app", "{}");
  wait_state("RUNNING");
  assert_int_equal(fo_flink_cancel(F, JID), 0);
  wait_state("CANCELED");
  /* a failing job and its exception */
  sim_post("/_sim/restart/ns/app", "{}");
  wait_state("RUNNING");
  char *ex;
  assert_int_equal(fo_flink_latest_exception(F, JID, &ex), 0);
  assert_null(ex);
  sim_post("/_sim/faults/ns/app", "{\"fail_job\": true}");
  wait_state("FAILED");
  assert_int_equal(fo_flink_latest_exception(F, JID, &ex), 0);
  assert_non_null(ex);
  assert_non_null(strstr(ex, "injected failure"));
  free(ex);
}

static void test_schema(void **st) {
  (void)st;
  sim_post("/_sim/restart/ns/app", "{}");
  wait_state("RUNNING");
  struct fo_flink_checkpoints c;
  for (int i = 0; i < 60; i++) {
    fo_flink_checkpoints(F, JID, &c);
    bool ok = c.completed.present;
    fo_flink_checkpoints_free(&c);
    if (ok) break;
    usleep(100000);
  }
  /* the health check's metrics: the restarts and the completed checkpoints */
  struct fo_flink_health_metrics hm;
  assert_int_equal(fo_flink_health_metrics(F, JID, &hm), 0);
  assert_true(hm.num_restarts >= 0);
  assert_true(hm.completed_checkpoints >= 1);
  char cmd[900];
  snprintf(cmd, sizeof cmd, "python3 %s/tests/flinksim/check_schema.py %s %s", FO_SOURCE_DIR, base,
           JID);
  assert_int_equal(system(cmd), 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_config_and_overview),        cmocka_unit_test(test_checkpoints),
      cmocka_unit_test(test_savepoint_and_disposal),     cmocka_unit_test(test_error_classes),
      cmocka_unit_test(test_stop_cancel_and_exceptions), cmocka_unit_test(test_schema),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}

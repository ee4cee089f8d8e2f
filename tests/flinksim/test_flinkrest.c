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

static char sdir[256];
static pid_t ssim;
static struct fo_flink *S; /* a session cluster's JobManager */

/* Starts the simulator in `d` (a new temporary directory) with `conf` as key ns/<name>: a session
 * cluster or an application cluster. Sets *ret_pid and ret_base (its REST base URL). */
static void start_sim(char *d, const char *name, const char *conf_text, bool session,
                      pid_t *ret_pid, char *ret_base, size_t base_n, char *ret_ctl, size_t ctl_n) {
  snprintf(d, 256, "/tmp/fo-flinkrest-XXXXXX");
  assert_non_null(mkdtemp(d));
  char conf[300], state[300], data[300], portf[300], script[600], key[64];
  snprintf(conf, sizeof conf, "%s/flink-conf.yaml", d);
  snprintf(state, sizeof state, "%s/state.jsonl", d);
  snprintf(data, sizeof data, "%s/data", d);
  snprintf(portf, sizeof portf, "%s/port", d);
  snprintf(key, sizeof key, "ns/%s", name);
  snprintf(script, sizeof script, "%s/tests/flinksim/flinksim.py", FO_SOURCE_DIR);
  FILE *f = fopen(conf, "w");
  fputs(conf_text, f);
  fclose(f);
  const char *argv[] = {"python3",
                        script,
                        "--standalone",
                        key,
                        "--config",
                        conf,
                        "--state-file",
                        state,
                        "--data-root",
                        data,
                        "--port-file",
                        portf,
                        "--savepoint-delay",
                        "0.2",
                        "--job-start-delay",
                        "0.1",
                        session ? "--session" : NULL,
                        NULL};
  pid_t pid = fork();
  if (pid == 0) {
    execvp("python3", (char *const *)argv);
    _exit(127);
  }
  *ret_pid = pid;
  int port = tu_wait_port_file(portf);
  if (ret_ctl) snprintf(ret_ctl, ctl_n, "http://127.0.0.1:%d", port);
  struct fo_buf u;
  fo_buf_init(&u, 256);
  assert_int_equal(fo_flink_url(&u, "http://127.0.0.1:{port}/{namespace}/{name}", name, "ns", port),
                   0);
  snprintf(ret_base, base_n, "%s", u.data);
  fo_buf_free(&u);
}

static int setup(void **st) {
  (void)st;
  curl_global_init(CURL_GLOBAL_DEFAULT);
  start_sim(dir, "app",
            "state.checkpoints.dir: file:///checkpoints\nstate.savepoints.dir: file:///savepoints\n"
            "execution.checkpointing.interval: 200ms\n$internal.pipeline.job-id: "
            "0123456789abcdef0123456789abcdef\n"
            "parallelism.default: 2\n",
            false, &sim, base, sizeof base, ctl, sizeof ctl);
  F = fo_flink_new(base, 3000);
  char sbase[128];
  start_sim(sdir, "session", "parallelism.default: 1\n", true, &ssim, sbase, sizeof sbase, NULL, 0);
  S = fo_flink_new(sbase, 3000);
  return 0;
}

static int teardown(void **st) {
  (void)st;
  fo_flink_free(F);
  fo_flink_free(S);
  kill(sim, SIGTERM);
  kill(ssim, SIGTERM);
  waitpid(sim, NULL, 0);
  waitpid(ssim, NULL, 0);
  char cmd[600];
  snprintf(cmd, sizeof cmd, "rm -rf '%s' '%s'", dir, sdir);
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

#define JID2 "fedcba9876543210fedcba9876543210"

static const char *session_job_state(const char *jid) {
  static char st[16];
  struct fo_flink_jobs j;
  st[0] = '\0';
  if (fo_flink_jobs_overview(S, &j) == 0) {
    for (size_t i = 0; i < j.n; i++)
      if (!strcmp(j.jobs[i].jid, jid)) snprintf(st, sizeof st, "%s", j.jobs[i].state);
    fo_flink_jobs_free(&j);
  }
  return st;
}

/* A session cluster's jars: upload (a binary file, streamed), run under the job id asked for with
 * the run's fields, duplicate runs and wrong files refused in Flink's words, delete; an
 * application cluster has no web submission. */
static void test_session_jars(void **st) {
  (void)st;
  char jar[300], txt[300];
  snprintf(jar, sizeof jar, "%s/job.jar", sdir);
  snprintf(txt, sizeof txt, "%s/job.txt", sdir);
  static const char bytes[] = "PK\003\004\000\000binary\000jar\r\n--not-a-boundary\r\n";
  tu_write_file(jar, bytes, sizeof bytes, 4096);
  tu_write_file(txt, "text", 4, 1);
  char *id = NULL;
  /* no web submission in an application cluster */
  assert_int_equal(fo_flink_jar_upload(F, jar, "job.jar", &id), -ENOENT);
  assert_null(id);
  assert_int_equal(fo_flink_jar_upload(S, txt, "job.txt", &id), -EINVAL);
  assert_non_null(strstr(fo_flink_last_error(S), "Only Jar files are allowed."));
  assert_int_equal(fo_flink_jar_upload(S, "/nonexistent/job.jar", "job.jar", &id), -EIO);
  assert_int_equal(fo_flink_jar_upload(S, jar, "job.jar", &id), 0);
  assert_non_null(id);
  size_t n = strlen(id);
  assert_true(n > 8 && !strcmp(id + n - 8, "_job.jar"));
  /* every byte arrived (the simulator records the upload's size) */
  char statef[300], want[64];
  snprintf(statef, sizeof statef, "%s/state.jsonl", sdir);
  snprintf(want, sizeof want, "\"size\": %zu", 4096 * sizeof bytes);
  char *rec = tu_read_file_abs(statef);
  assert_non_null(rec);
  assert_non_null(strstr(rec, want));
  free(rec);
  const char *args[] = {"--rate", "5"};
  json_object *conf = json_object_new_object();
  json_object_object_add(conf, "pipeline.name", json_object_new_string("sj"));
  struct fo_flink_jar_run run = {.entry_class = "org.example.Main",
                                 .args = args,
                                 .n_args = 2,
                                 .parallelism = 3,
                                 .job_id = JID2,
                                 .restore_mode_key = "claimMode",
                                 .flink_configuration = conf};
  assert_int_equal(fo_flink_jar_run(S, id, &run), 0);
  for (int i = 0; i < 100 && strcmp(session_job_state(JID2), "RUNNING"); i++) usleep(50000);
  assert_string_equal(session_job_state(JID2), "RUNNING");
  /* the same job id again while it runs: Flink refuses it */
  assert_int_equal(fo_flink_jar_run(S, id, &run), -EIO);
  assert_non_null(strstr(fo_flink_last_error(S), "DuplicateJobSubmissionException"));
  /* ids are checked before anything is sent */
  assert_int_equal(fo_flink_jar_run(S, "../x", &run), -EINVAL);
  run.job_id = "not-an-id";
  assert_int_equal(fo_flink_jar_run(S, id, &run), -EINVAL);
  assert_int_equal(fo_flink_jar_delete(S, id), 0);
  assert_int_equal(fo_flink_jar_delete(S, id), -EINVAL); /* Flink: 400, no such file */
  run.job_id = JID2;
  assert_int_equal(fo_flink_jar_run(S, id, &run), -EINVAL); /* the jar is gone */
  json_object_put(conf);
  free(id);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_config_and_overview),
      cmocka_unit_test(test_checkpoints),
      cmocka_unit_test(test_savepoint_and_disposal),
      cmocka_unit_test(test_error_classes),
      cmocka_unit_test(test_stop_cancel_and_exceptions),
      cmocka_unit_test(test_schema),
      cmocka_unit_test(test_session_jars),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}

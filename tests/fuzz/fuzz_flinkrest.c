/* libFuzzer target: the Flink REST response parsers. The first byte picks the HTTP code, the
 * rest is the answer every call of the client receives (through fo_flink_set_transport), so each
 * parser (config, jobs overview, savepoint and checkpoint triggers and status, checkpoints,
 * exceptions, dispose, a session cluster's jars) reads the same hostile body. Every result is
 * freed: leaks fail under ASan.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "flinkop/flinkrest.h"

struct answer {
  const char *data;
  size_t len;
  long code;
};

static long transport(void *ud, const char *method, const char *path, const char *body,
                      const char **data, size_t *len) {
  (void)method, (void)path, (void)body;
  struct answer *a = ud;
  *data = a->data;
  *len = a->len;
  return a->code;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static const long codes[] = {200, 202, 200, 404, 409, 500, 503, 0};
  if (size < 1) return 0;
  struct answer a = {(const char *)data + 1, size - 1, codes[data[0] % 8]};
  struct fo_flink *f = fo_flink_new("http://flink.invalid:8081", 1000);
  if (!f) return 0;
  fo_flink_set_transport(f, transport, &a);
  const char *jid = "0123456789abcdef0123456789abcdef";
  struct fo_flink_version v;
  if (fo_flink_config(f, &v) == 0) fo_flink_version_free(&v);
  struct fo_flink_jobs j;
  if (fo_flink_jobs_overview(f, &j) == 0) {
    for (size_t i = 0; i < j.n; i++) (void)fo_flink_job_effective_state(&j.jobs[i]);
    fo_flink_jobs_free(&j);
  }
  char *t = NULL;
  if (fo_flink_stop_with_savepoint(f, jid, "file:///sp", false, jid, &t) == 0) free(t);
  t = NULL;
  if (fo_flink_trigger_savepoint(f, jid, "file:///sp", false, NULL, &t) == 0) free(t);
  struct fo_flink_savepoint_status ss;
  if (fo_flink_savepoint_status(f, jid, jid, &ss) == 0) fo_flink_savepoint_status_free(&ss);
  t = NULL;
  if (fo_flink_trigger_checkpoint(f, jid, "FULL", jid, &t) == 0) free(t);
  struct fo_flink_checkpoint_status cs;
  if (fo_flink_checkpoint_status(f, jid, jid, &cs) == 0) fo_flink_checkpoint_status_free(&cs);
  struct fo_flink_checkpoints cp;
  if (fo_flink_checkpoints(f, jid, &cp) == 0) fo_flink_checkpoints_free(&cp);
  char *ex = NULL;
  if (fo_flink_latest_exception(f, jid, &ex) == 0) free(ex);
  struct fo_flink_health_metrics hm;
  (void)fo_flink_health_metrics(f, jid, &hm);
  struct fo_flink_requirements rq;
  if (fo_flink_resource_requirements(f, jid, &rq) == 0) {
    (void)fo_flink_set_resource_requirements(f, jid, &rq);
    fo_flink_requirements_free(&rq);
  }
  t = NULL;
  if (fo_flink_dispose_savepoint(f, "file:///sp/savepoint-1", &t) == 0) free(t);
  (void)fo_flink_cancel(f, jid);
  t = NULL; /* a session cluster's jars (the hook answers in place of the upload) */
  if (fo_flink_jar_upload(f, "/nonexistent/job.jar", "job.jar", &t) == 0) {
    const char *args[] = {"--x", "1"};
    struct fo_flink_jar_run run = {.args = args,
                                   .n_args = 2,
                                   .job_id = jid,
                                   .parallelism = 2,
                                   .restore_mode_key = "claimMode"};
    (void)fo_flink_jar_run(f, t, &run);
    (void)fo_flink_jar_delete(f, t);
    free(t);
  }
  (void)fo_flink_last_error(f);
  fo_flink_free(f);
  return 0;
}

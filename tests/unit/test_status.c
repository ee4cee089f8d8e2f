/* Status: JSON round trip (typed fields and unknown ones), edits, the reconciled-spec encoding in
 * both forms, and the lifecycle state derivation. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "flinkop/status.h"
#include "testutil.h"

static const char *FULL =
    "{\"jobStatus\":{\"jobName\":\"StateMachineExample\",\"jobId\":"
    "\"0123456789abcdef0123456789abcdef\","
    "\"state\":\"RUNNING\",\"startTime\":\"1700000000000\",\"updateTime\":\"1700000001000\","
    "\"upgradeSavepointPath\":\"file:///sp/savepoint-1\","
    "\"savepointInfo\":{\"lastSavepoint\":{\"timeStamp\":1700000000500,\"location\":\"file:///sp/"
    "savepoint-1\","
    "\"triggerType\":\"MANUAL\",\"formatType\":\"CANONICAL\",\"triggerNonce\":123},"
    "\"triggerId\":\"\",\"triggerTimestamp\":0,\"triggerType\":\"MANUAL\",\"formatType\":"
    "\"CANONICAL\","
    "\"savepointHistory\":[{\"timeStamp\":1700000000500,\"location\":\"file:///sp/"
    "savepoint-1\",\"triggerType\":\"MANUAL\","
    "\"formatType\":\"CANONICAL\",\"triggerNonce\":123,\"futureField\":true}],"
    "\"lastPeriodicSavepointTimestamp\":0},"
    "\"checkpointInfo\":{\"lastCheckpoint\":{\"timeStamp\":1700000000700,\"triggerType\":"
    "\"MANUAL\",\"formatType\":\"FULL\",\"triggerNonce\":4},\"triggerId\":\"\","
    "\"triggerTimestamp\":0,\"triggerType\":\"MANUAL\",\"formatType\":\"FULL\","
    "\"lastPeriodicCheckpointTimestamp\":1700000000900}},"
    "\"jobManagerDeploymentStatus\":\"READY\",\"lifecycleState\":\"STABLE\",\"error\":null,"
    "\"observedGeneration\":3,\"clusterInfo\":{\"flink-version\":\"1.20.0\",\"total-cpu\":\"2.0\"},"
    "\"reconciliationStatus\":{\"reconciliationTimestamp\":1700000000000,"
    "\"lastReconciledSpec\":\"{\\\"spec\\\":{\\\"job\\\":{\\\"state\\\":\\\"running\\\"}},"
    "\\\"resource_metadata\\\":{\\\"apiVersion\\\":\\\"flink.apache.org/"
    "v1beta1\\\",\\\"firstDeployment\\\":false}}\","
    "\"lastStableSpec\":\"{\\\"spec\\\":{\\\"job\\\":{\\\"state\\\":\\\"running\\\"}},\\\"resource_"
    "metadata\\\":{\\\"apiVersion\\\":\\\"flink.apache.org/"
    "v1beta1\\\",\\\"firstDeployment\\\":false}}\","
    "\"state\":\"DEPLOYED\"},"
    "\"conditions\":[{\"type\":\"Running\",\"status\":\"True\",\"reason\":\"Running\",\"message\":"
    "\"Job status RUNNING\"}],"
    "\"taskManager\":{\"labelSelector\":\"component=taskmanager,app=x\",\"replicas\":1},"
    "\"somethingNew\":{\"k\":[1,2]}}";

static void test_round_trip(void **st) {
  (void)st;
  json_object *in = tu_json(FULL);
  struct fo_status s;
  assert_int_equal(fo_status_read(in, &s), 0);
  assert_string_equal(s.job_status.job_id, "0123456789abcdef0123456789abcdef");
  assert_true(s.job_status.savepoint_info.has_last);
  assert_true(s.job_status.savepoint_info.last.trigger_nonce.set);
  assert_int_equal(s.job_status.savepoint_info.last.trigger_nonce.v, 123);
  assert_int_equal(s.job_status.savepoint_info.n_history, 1);
  assert_true(s.job_status.checkpoint_info.has_last);
  assert_int_equal(s.job_status.checkpoint_info.last.trigger_nonce.v, 4);
  assert_string_equal(s.job_status.checkpoint_info.last.format_type, "FULL");
  assert_int_equal(s.job_status.checkpoint_info.last_periodic_timestamp.v, 1700000000900);
  assert_int_equal(s.observed_generation.v, 3);
  assert_string_equal(s.reconciliation_status.state, "DEPLOYED");
  json_object *out = fo_status_to_json(&s);
  if (!json_object_equal(in, out))
    fail_msg("round trip differs:\n%s\n%s", FULL, json_object_to_json_string(out));
  /* byte-for-byte too: key order and spelling are kept */
  char *a = fo_json_dumps(in), *b = fo_json_dumps(out);
  assert_string_equal(a, b);
  free(a);
  free(b);
  json_object_put(out);
  fo_status_free(&s);
  json_object_put(in);
}

static void test_edit(void **st) {
  (void)st;
  json_object *in = tu_json(FULL);
  struct fo_status s;
  assert_int_equal(fo_status_read(in, &s), 0);
  assert_int_equal(fo_status_set_str(&s.job_status.state, "CANCELLING"), 0);
  assert_int_equal(fo_status_set_str(&s.job_status.upgrade_savepoint_path, NULL), 0);
  s.observed_generation.v = 4;
  s.has_job_status = true;
  json_object *out = fo_status_to_json(&s);
  json_object *js = fo_json_get_object(out, "jobStatus");
  assert_string_equal(fo_json_get_string(js, "state"), "CANCELLING");
  assert_null(fo_json_get(js, "upgradeSavepointPath"));
  assert_int_equal(json_object_get_int64(fo_json_get(out, "observedGeneration")), 4);
  assert_non_null(fo_json_get(out, "somethingNew")); /* unknown fields survive edits */
  json_object_put(out);
  fo_status_free(&s);
  json_object_put(in);

  /* a new status from nothing */
  fo_status_init(&s);
  s.has_reconciliation_status = true;
  fo_status_set_str(&s.reconciliation_status.state, "UPGRADING");
  s.reconciliation_status.reconciliation_timestamp = (struct fo_opt_int){true, 5};
  out = fo_status_to_json(&s);
  char *txt = fo_json_dumps(out);
  assert_string_equal(
      txt, "{\"reconciliationStatus\":{\"reconciliationTimestamp\":5,\"state\":\"UPGRADING\"}}");
  free(txt);
  json_object_put(out);
  fo_status_free(&s);
}

static void test_reconciled_spec(void **st) {
  (void)st;
  json_object *spec = tu_json(
      "{\"flinkVersion\":\"v1_20\",\"job\":{\"state\":\"suspended\",\"upgradeMode\":\"savepoint\"}"
      "}");
  char *enc = fo_reconciled_spec_encode(spec, true);
  assert_string_equal(enc,
                      "{\"spec\":{\"flinkVersion\":\"v1_20\",\"job\":{\"state\":\"suspended\","
                      "\"upgradeMode\":\"savepoint\"}},"
                      "\"resource_metadata\":{\"apiVersion\":\"flink.apache.org/"
                      "v1beta1\",\"firstDeployment\":true}}");
  json_object *dec;
  bool first = false;
  struct fo_parse_error e = {0};
  assert_int_equal(fo_reconciled_spec_decode(enc, &dec, &first, &e), 0);
  assert_true(first);
  assert_true(json_object_equal(dec, spec));
  json_object_put(dec);
  /* older form: the spec itself with apiVersion */
  assert_int_equal(
      fo_reconciled_spec_decode("{\"apiVersion\":\"flink.apache.org/"
                                "v1beta1\",\"flinkVersion\":\"v1_20\",\"job\":{\"state\":"
                                "\"suspended\",\"upgradeMode\":\"savepoint\"}}",
                                &dec, &first, &e),
      0);
  assert_false(first);
  assert_true(json_object_equal(dec, spec));
  json_object_put(dec);
  assert_int_equal(fo_reconciled_spec_decode("[1]", &dec, &first, &e), -EINVAL);
  fo_parse_error_clear(&e);
  free(enc);
  json_object_put(spec);
}

static const char *lifecycle_of(const char *status_json) {
  json_object *in = tu_json(status_json);
  struct fo_status s;
  assert_int_equal(fo_status_read(in, &s), 0);
  static char buf[32];
  snprintf(buf, sizeof buf, "%s", fo_status_lifecycle(&s));
  fo_status_free(&s);
  json_object_put(in);
  return buf;
}

#define RS(job)                       \
  "\"{\\\"spec\\\":{\\\"job\\\":" job \
  "},\\\"resource_metadata\\\":{\\\"firstDeployment\\\":false}}\""

static void test_lifecycle(void **st) {
  (void)st;
  assert_string_equal(lifecycle_of("{}"), "CREATED");
  assert_string_equal(lifecycle_of("{\"error\":\"bad\"}"), "FAILED");
  assert_string_equal(lifecycle_of("{\"lifecycleState\":\"DELETING\"}"), "DELETING");
  assert_string_equal(
      lifecycle_of("{\"reconciliationStatus\":{\"lastReconciledSpec\":" RS("{}") "}}"),
      "UPGRADING");
  assert_string_equal(
      lifecycle_of("{\"reconciliationStatus\":{\"state\":\"DEPLOYED\",\"lastReconciledSpec\":" RS(
          "{\\\"state\\\":\\\"suspended\\\"}") "}}"),
      "SUSPENDED");
  assert_string_equal(lifecycle_of("{\"jobStatus\":{\"state\":\"FAILED\"},\"reconciliationStatus\":"
                                   "{\"state\":\"DEPLOYED\",\"lastReconciledSpec\":" RS("{}") "}}"),
                      "FAILED");
  assert_string_equal(
      lifecycle_of(
          "{\"jobManagerDeploymentStatus\":\"MISSING\",\"error\":\"x. Manual restore "
          "required.\",\"reconciliationStatus\":{\"state\":\"DEPLOYED\",\"lastReconciledSpec\":" RS(
              "{}") "}}"),
      "FAILED");
  assert_string_equal(
      lifecycle_of("{\"reconciliationStatus\":{\"state\":\"DEPLOYED\",\"lastReconciledSpec\":" RS(
          "{}") ",\"lastStableSpec\":" RS("{}") "}}"),
      "STABLE");
  assert_string_equal(
      lifecycle_of("{\"reconciliationStatus\":{\"state\":\"DEPLOYED\",\"lastReconciledSpec\":" RS(
          "{}") ",\"lastStableSpec\":" RS("{\\\"x\\\":1}") "}}"),
      "DEPLOYED");
  assert_string_equal(
      lifecycle_of(
          "{\"reconciliationStatus\":{\"state\":\"ROLLED_BACK\",\"lastReconciledSpec\":" RS(
              "{}") "}}"),
      "ROLLED_BACK");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_round_trip),
      cmocka_unit_test(test_edit),
      cmocka_unit_test(test_reconciled_spec),
      cmocka_unit_test(test_lifecycle),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}

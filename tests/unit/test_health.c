/* The cluster health check's evaluation (controller/health.c) against cases worked out by hand:
 * restarts within the window against the threshold, checkpoint progress against the window the
 * configuration gives, and what makes a record worth writing. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "health.h"
#include "testutil.h"

#define MIN (60 * 1000LL)

static void test_conf(void **state) {
  (void)state;
  static const struct {
    const char *conf;
    int64_t window_ms;
  } cases[] = {
      /* no checkpointing, no window: no progress check */
      {"{}", 0},
      /* interval 10 s, timeout 10 min (default), no tolerated failure: max * 2 */
      {"{\"execution.checkpointing.interval\":\"10 s\"}", 20 * MIN},
      /* a window shorter than that is raised to it; a longer one is kept */
      {"{\"execution.checkpointing.interval\":\"10 s\",\"kubernetes.operator.cluster.health-check."
       "checkpoint-progress.window\":\"1 min\"}",
       20 * MIN},
      {"{\"execution.checkpointing.interval\":\"10 s\",\"kubernetes.operator.cluster.health-check."
       "checkpoint-progress.window\":\"30 min\"}",
       30 * MIN},
      /* interval 15 min, timeout 1 min, 1 failure tolerated: 15 min * 3 */
      {"{\"execution.checkpointing.interval\":\"15 min\",\"execution.checkpointing.timeout\":\"1 "
       "min\",\"execution.checkpointing.tolerable-failed-checkpoints\":\"1\"}",
       45 * MIN},
      /* a window without checkpointing: at least the timeout * 2 */
      {"{\"kubernetes.operator.cluster.health-check.checkpoint-progress.window\":\"5 min\"}",
       20 * MIN},
      /* progress check off */
      {"{\"execution.checkpointing.interval\":\"10 s\",\"kubernetes.operator.cluster.health-check."
       "checkpoint-progress.enabled\":\"false\"}",
       0},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    json_object *conf = tu_json(cases[i].conf);
    struct health_conf c;
    health_conf_read(conf, &c);
    if (c.checkpoint_window_ms != cases[i].window_ms)
      fail_msg("%s: window %lld, want %lld", cases[i].conf, (long long)c.checkpoint_window_ms,
               (long long)cases[i].window_ms);
    assert_false(c.enabled);
    assert_int_equal(c.restarts_window_ms, 2 * MIN);
    assert_int_equal(c.restarts_threshold, 64);
    json_object_put(conf);
  }
}

static void test_evaluate(void **state) {
  (void)state;
  const struct health_conf c = {.enabled = true,
                                .restarts_window_ms = 2 * MIN,
                                .restarts_threshold = 64,
                                .checkpoint_window_ms = 20 * MIN};
  const int64_t t0 = 1000000000000LL;
  /* the record: 10 restarts at t0, 5 checkpoints first seen at t0 */
  const struct health_info rec = {.ts = t0,
                                  .restarts = 10,
                                  .restarts_ts = t0,
                                  .checkpoints = 5,
                                  .checkpoints_ts = t0,
                                  .healthy = true};
  static const struct {
    const char *name;
    int64_t after_ms, restarts, checkpoints, last_cp_after_ms; /* -1: Flink gives no time */
    bool healthy, write;
    const char *error;
    int64_t want_restarts; /* the window's starting count in the new record */
  } cases[] = {
      {"nothing new", 1 * MIN, 10, 5, 1 * MIN, true, false, "", 10},
      {"restarts up to the threshold", 1 * MIN, 74, 6, 1 * MIN, true, false, "", 10},
      {"past the threshold within the window", 1 * MIN, 75, 6, 1 * MIN, false, true,
       "Restart count hit threshold: 64", 10},
      {"a new window starts where the count moved", 3 * MIN, 20, 6, 3 * MIN, true, true, "", 20},
      {"a window passed with no restart: nothing to write", 3 * MIN, 10, 6, 3 * MIN, true, false,
       "", 10},
      {"a count that went down (a new job) starts over", 1 * MIN, 0, 0, -1, true, true, "", 0},
      {"checkpoints stalled past the window", 25 * MIN, 10, 5, 4 * MIN, false, true,
       "Cluster is not able to complete checkpoints", 10},
      {"none completed since the first look, past the window", 21 * MIN, 10, 5, -1, false, true,
       "Cluster is not able to complete checkpoints", 10},
      {"Flink's latest checkpoint is recent", 25 * MIN, 10, 9, 24 * MIN, true, false, "", 10},
      {"more checkpoints, Flink cannot say when: recorded", 25 * MIN, 10, 9, -1, true, true, "",
       10},
      {"both at once", 25 * MIN, 100, 5, -1, false, true,
       "Restart count hit threshold: 64|Cluster is not able to complete checkpoints", 100},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    struct health_info got;
    int64_t cp = cases[i].last_cp_after_ms < 0 ? 0 : t0 + cases[i].last_cp_after_ms;
    bool w = health_evaluate(&c, true, &rec, cases[i].restarts, cases[i].checkpoints, cp,
                             t0 + cases[i].after_ms, &got);
    if (got.healthy != cases[i].healthy || w != cases[i].write ||
        strcmp(got.error, cases[i].error) || got.restarts != cases[i].want_restarts)
      fail_msg("%s: healthy %d write %d error \"%s\" restarts %lld", cases[i].name, got.healthy, w,
               got.error, (long long)got.restarts);
  }
  /* the first look records where things stand, healthy */
  struct health_info first;
  assert_true(health_evaluate(&c, false, NULL, 3, 2, 0, t0, &first));
  assert_true(first.healthy);
  assert_int_equal(first.restarts, 3);
  assert_int_equal(first.restarts_ts, t0);
  assert_int_equal(first.checkpoints_ts, t0);
}

static void test_format_parse(void **state) {
  (void)state;
  const struct health_info h = {.ts = 1700000000123LL,
                                .restarts = 70,
                                .restarts_ts = 1700000000000LL,
                                .checkpoints = 4,
                                .checkpoints_ts = 1699999999000LL,
                                .healthy = false,
                                .error = "Restart count hit threshold: 64"};
  char *text = health_format(&h);
  assert_non_null(text);
  /* the reference's form (ClusterHealthInfo as Jackson writes it) */
  assert_string_equal(text,
                      "{\"timeStamp\":1700000000123,\"numRestarts\":70,"
                      "\"numRestartsEvaluationTimeStamp\":1700000000000,"
                      "\"numCompletedCheckpoints\":4,"
                      "\"numCompletedCheckpointsIncreasedTimeStamp\":1699999999000,"
                      "\"healthResult\":{\"healthy\":false,\"error\":\"Restart count hit "
                      "threshold: 64\"}}");
  struct health_info back;
  assert_int_equal(health_parse(text, &back), 0);
  free(text);
  assert_int_equal(back.ts, h.ts);
  assert_int_equal(back.restarts, h.restarts);
  assert_int_equal(back.restarts_ts, h.restarts_ts);
  assert_int_equal(back.checkpoints, h.checkpoints);
  assert_int_equal(back.checkpoints_ts, h.checkpoints_ts);
  assert_false(back.healthy);
  assert_string_equal(back.error, h.error);
  static const char *const bad[] = {
      "",
      "[]",
      "{\"timeStamp\":1}",
      "not json",
      "{\"timeStamp\":-1,\"numRestarts\":0,\"numRestartsEvaluationTimeStamp\":0,"
      "\"numCompletedCheckpoints\":0,\"numCompletedCheckpointsIncreasedTimeStamp\":0,"
      "\"healthResult\":{\"healthy\":true}}",
      "{\"timeStamp\":1,\"numRestarts\":0,\"numRestartsEvaluationTimeStamp\":0,"
      "\"numCompletedCheckpoints\":0,\"numCompletedCheckpointsIncreasedTimeStamp\":0,"
      "\"healthResult\":{\"healthy\":\"yes\"}}"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
    if (health_parse(bad[i], &back) != -EINVAL) fail_msg("accepted: %s", bad[i]);
  assert_int_equal(health_parse(NULL, &back), -EINVAL);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_conf),
      cmocka_unit_test(test_evaluate),
      cmocka_unit_test(test_format_parse),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}

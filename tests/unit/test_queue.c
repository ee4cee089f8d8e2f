/* The controller's work queue: coalescing, never one key on two workers, re-queue after done,
 * delays and backoff. */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "flinkop/flinkconf.h"
#include "queue.h"
#include "testutil.h"

static double now_s(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* doubling from base, capped at max, never exhausted */
static struct queue *qnew(double base, double max) {
  struct retry_policy b = {
      .initial_s = base, .multiplier = 2, .max_s = max, .max_attempts = 1000, .exhausted_s = max};
  return queue_new(&b);
}

/* A flat configuration from "key: value" lines. */
static json_object *conf_of(const char *lines) {
  json_object *c = json_object_new_object();
  char buf[512];
  snprintf(buf, sizeof buf, "%s", lines);
  char *save = NULL;
  for (char *l = strtok_r(buf, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
    char *colon = strstr(l, ": ");
    assert_non_null(colon);
    *colon = '\0';
    json_object_object_add(c, l, json_object_new_string(colon + 2));
  }
  return c;
}

/* The delay of each attempt, for the reference's defaults and for settings read from a Flink
 * configuration (the keys the reference reads). */
static void test_backoff_schedule(void **st) {
  (void)st;
  static const struct {
    const char *conf; /* flat YAML; NULL: no configuration */
    int attempt;
    double delay;
  } cases[] = {
      {NULL, 1, 5},
      {NULL, 2, 7.5},
      {NULL, 3, 11.25},
      {NULL, 15, 5 * 291.92926025390625}, /* 5 * 1.5^14: no cap by default */
      {NULL, 16, 60},                     /* exhausted: every reconcile interval */
      {NULL, 1000, 60},
      {"kubernetes.operator.retry.initial.interval: 500 ms\n"
       "kubernetes.operator.retry.interval.multiplier: 2\n"
       "kubernetes.operator.retry.max.interval: 4 s\n",
       4, 4},
      {"kubernetes.operator.retry.initial.interval: 500 ms\n"
       "kubernetes.operator.retry.interval.multiplier: 2\n",
       3, 2},
      {"kubernetes.operator.retry.max.attempts: 2\n"
       "kubernetes.operator.reconcile.interval: 30 s\n",
       3, 30},
      {"kubernetes.operator.retry.max.attempts: 0\n", 1, 60},
      {"kubernetes.operator.retry.initial.interval: 1 min\n", 2, 90},
  };
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    json_object *conf = cases[i].conf ? conf_of(cases[i].conf) : NULL;
    struct retry_policy b;
    const char *bad = "unset";
    assert_int_equal(retry_from_conf(conf, &b, &bad), 0);
    assert_null(bad);
    double d = retry_delay(&b, cases[i].attempt);
    if (d < cases[i].delay - 1e-6 || d > cases[i].delay + 1e-6)
      fail_msg("case %zu: attempt %d waits %g s, want %g", i, cases[i].attempt, d, cases[i].delay);
    json_object_put(conf);
  }
  /* a value the controller cannot use names its key */
  static const struct {
    const char *conf, *key;
  } bad[] = {
      {"kubernetes.operator.retry.initial.interval: soon\n",
       "kubernetes.operator.retry.initial.interval"},
      {"kubernetes.operator.retry.initial.interval: 0 s\n",
       "kubernetes.operator.retry.initial.interval"},
      {"kubernetes.operator.retry.interval.multiplier: 0.5\n",
       "kubernetes.operator.retry.interval.multiplier"},
      {"kubernetes.operator.retry.interval.multiplier: 2x\n",
       "kubernetes.operator.retry.interval.multiplier"},
      {"kubernetes.operator.retry.max.interval: 2 d\n", "kubernetes.operator.retry.max.interval"},
      {"kubernetes.operator.retry.max.attempts: -1\n", "kubernetes.operator.retry.max.attempts"},
      {"kubernetes.operator.retry.max.attempts: many\n", "kubernetes.operator.retry.max.attempts"},
      {"kubernetes.operator.reconcile.interval: 0 ms\n", "kubernetes.operator.reconcile.interval"},
  };
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    json_object *conf = conf_of(bad[i].conf);
    struct retry_policy b;
    const char *key = NULL;
    assert_int_equal(retry_from_conf(conf, &b, &key), -EINVAL);
    assert_non_null(key);
    assert_string_equal(key, bad[i].key);
    json_object_put(conf);
  }
}

/* A key backing off is not woken by a change that leaves its object as it failed (the status its
 * failure report wrote, coming back on the watch): the backoff holds. A change of the object
 * (another stamp), or one without a stamp, wakes it at once. */
static void test_backoff_holds_against_own_writes(void **st) {
  (void)st;
  struct queue *q = qnew(0.6, 10);
  queue_add_rate_limited(q, "ns/x", "7|||", NULL); /* failed: retried in 0.6 s */
  double t0 = now_s();
  queue_add_change(q, "ns/x", "7|||"); /* its own status write */
  char *k = queue_get(q);
  assert_string_equal(k, "ns/x");
  assert_true(now_s() - t0 >= 0.55); /* only the backoff's retry */
  queue_done(q, k);
  free(k);
  queue_add_rate_limited(q, "ns/x", "7|||", NULL); /* failed again: 1.2 s */
  t0 = now_s();
  queue_add_change(q, "ns/x", "8|||"); /* the user changed the spec */
  k = queue_get(q);
  assert_true(now_s() - t0 < 0.3);
  queue_done(q, k);
  free(k);
  queue_forget(q, "ns/x"); /* succeeded: every change counts again */
  t0 = now_s();
  queue_add_change(q, "ns/x", "7|||");
  k = queue_get(q);
  assert_true(now_s() - t0 < 0.3);
  queue_done(q, k);
  free(k);
  queue_free(q);
}

static void test_coalesce_and_order(void **st) {
  (void)st;
  struct queue *q = qnew(0.01, 1);
  queue_add(q, "ns/a");
  queue_add(q, "ns/b");
  queue_add(q, "ns/a");
  assert_int_equal(queue_depth(q), 2);
  char *k1 = queue_get(q), *k2 = queue_get(q);
  assert_string_equal(k1, "ns/a");
  assert_string_equal(k2, "ns/b");
  /* added while processing: not handed out again until done */
  queue_add(q, "ns/a");
  assert_int_equal(queue_depth(q), 0);
  queue_done(q, "ns/a");
  assert_int_equal(queue_depth(q), 1);
  char *k3 = queue_get(q);
  assert_string_equal(k3, "ns/a");
  queue_done(q, "ns/a");
  queue_done(q, "ns/b");
  assert_int_equal(queue_depth(q), 0);
  free(k1);
  free(k2);
  free(k3);
  queue_free(q);
}

static void test_delay_and_backoff(void **st) {
  (void)st;
  struct queue *q = qnew(0.05, 0.2);
  double t0 = now_s();
  queue_add_after(q, "ns/x", 0.2);
  char *k = queue_get(q);
  double took = now_s() - t0;
  assert_string_equal(k, "ns/x");
  assert_true(took >= 0.19 && took < 1.0);
  queue_done(q, k);
  /* backoff doubles: 0.05, 0.1, 0.2 (capped) */
  double want[] = {0.05, 0.1, 0.2, 0.2};
  for (int i = 0; i < 4; i++) {
    t0 = now_s();
    queue_add_rate_limited(q, "ns/x", NULL, NULL);
    char *kk = queue_get(q);
    took = now_s() - t0;
    assert_true(took >= want[i] * 0.95 && took < want[i] + 0.5);
    queue_done(q, kk);
    free(kk);
  }
  queue_forget(q, "ns/x");
  t0 = now_s();
  queue_add_rate_limited(q, "ns/x", NULL, NULL);
  char *kk = queue_get(q);
  assert_true(now_s() - t0 < 0.2);
  queue_done(q, kk);
  free(kk);
  free(k);
  queue_free(q);
}

/* Many workers, many adds: a key is never processed by two workers at once, and every add made
 * before a key's processing starts is covered by some later processing. */
static struct queue *gq;
static atomic_int busy[8];
static atomic_int violations, processed;

static void *worker(void *arg) {
  (void)arg;
  char *k;
  while ((k = queue_get(gq))) {
    int idx = k[0] - 'a';
    if (atomic_fetch_add(&busy[idx], 1) != 0) atomic_fetch_add(&violations, 1);
    usleep(200);
    atomic_fetch_sub(&busy[idx], 1);
    atomic_fetch_add(&processed, 1);
    queue_done(gq, k);
    free(k);
  }
  return NULL;
}

/* A change goes before the background work queued earlier; each key is handed out once. */
static void test_changes_first(void **st) {
  (void)st;
  struct queue *q = qnew(0.01, 1);
  queue_add_background(q, "ns/poll-1");
  queue_add_background(q, "ns/poll-2");
  queue_add_background(q, "ns/changed");
  queue_add(q, "ns/changed"); /* now urgent as well */
  queue_add(q, "ns/new");
  const char *want[] = {"ns/changed", "ns/new", "ns/poll-1", "ns/poll-2"};
  for (int i = 0; i < 4; i++) {
    char *k = queue_get(q);
    assert_string_equal(k, want[i]);
    queue_done(q, k);
    free(k);
  }
  assert_int_equal(queue_depth(q), 1); /* the stale copy of ns/changed, skipped on the next get */
  queue_add(q, "ns/last");
  char *k = queue_get(q);
  assert_string_equal(k, "ns/last");
  queue_done(q, k);
  free(k);
  queue_shutdown(q);
  assert_null(queue_get(q));
  queue_free(q);
}

static void test_no_concurrent_processing(void **st) {
  (void)st;
  gq = qnew(0.01, 1);
  pthread_t th[6];
  for (int i = 0; i < 6; i++) pthread_create(&th[i], NULL, worker, NULL);
  for (int i = 0; i < 20000; i++) {
    char key[2] = {(char)('a' + i % 8), 0};
    queue_add(gq, key);
  }
  while (queue_depth(gq) > 0) usleep(1000);
  usleep(20000);
  queue_shutdown(gq);
  for (int i = 0; i < 6; i++) pthread_join(th[i], NULL);
  assert_int_equal(atomic_load(&violations), 0);
  assert_true(atomic_load(&processed) >= 8);
  assert_true(atomic_load(&processed) < 20000); /* coalesced */
  queue_free(gq);
}

int main(void) {
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_backoff_schedule),
                                     cmocka_unit_test(test_backoff_holds_against_own_writes),
                                     cmocka_unit_test(test_coalesce_and_order),
                                     cmocka_unit_test(test_delay_and_backoff),
                                     cmocka_unit_test(test_no_concurrent_processing),
                                     cmocka_unit_test(test_changes_first)};
  return cmocka_run_group_tests(tests, NULL, NULL);
}

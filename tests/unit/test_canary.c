/* Canary resources (controller/canary.c): healthy while every generation the watch showed was
 * taken by a worker within the timeout; a script of events per case, against a clock of its
 * own. */
#include <stdio.h>
#include <string.h>

#include "canary.h"
#include "testutil.h"

struct ev {
  char what; /* s: seen, r: reconciled, f: forgotten, h: healthy?, u: unhealthy? */
  const char *key;
  int64_t gen;
  double at;
};

static const struct {
  const char *name;
  struct ev evs[8];
} cases[] = {
    {"a new canary, not yet taken, within the timeout", {{'s', "ns/a", 1, 0}, {'h', 0, 0, 59}}},
    {"a new canary, never taken: unhealthy after the timeout",
     {{'s', "ns/a", 1, 0}, {'u', 0, 0, 61}}},
    {"taken in time: healthy for good",
     {{'s', "ns/a", 1, 0}, {'r', "ns/a", 1, 1}, {'h', 0, 0, 500}}},
    {"a newer generation not taken",
     {{'s', "ns/a", 1, 0},
      {'r', "ns/a", 1, 1},
      {'s', "ns/a", 2, 100},
      {'h', 0, 0, 150},
      {'u', 0, 0, 161}}},
    {"an older generation seen again does not reset the wait",
     {{'s', "ns/a", 2, 0}, {'s', "ns/a", 1, 50}, {'u', 0, 0, 61}}},
    {"a deleted canary is forgotten", {{'s', "ns/a", 1, 0}, {'f', "ns/a", 0, 1}, {'h', 0, 0, 500}}},
    {"one stuck canary among others",
     {{'s', "ns/a", 1, 0}, {'s', "ns/b", 1, 0}, {'r', "ns/a", 1, 1}, {'u', 0, 0, 61}}},
};

static void test_script(void **state) {
  (void)state;
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    canary_reset();
    for (const struct ev *e = cases[i].evs; e->what; e++) {
      char why[512] = "";
      switch (e->what) {
      case 's': canary_seen(e->key, e->gen, e->at); break;
      case 'r': canary_reconciled(e->key, e->gen); break;
      case 'f': canary_forget(e->key); break;
      case 'h':
        if (!canary_healthy(e->at, 60, why, sizeof why)) fail_msg("%s: %s", cases[i].name, why);
        break;
      case 'u':
        if (canary_healthy(e->at, 60, why, sizeof why)) fail_msg("%s: healthy", cases[i].name);
        if (!strstr(why, "not reconciled within 60 s")) fail_msg("%s: why: %s", cases[i].name, why);
        break;
      }
    }
  }
}

/* At most CANARY_MAX are followed; more are not (never a crash, never an unbounded table). */
static void test_bounded(void **state) {
  (void)state;
  canary_reset();
  char key[32];
  for (int i = 0; i < CANARY_MAX + 10; i++) {
    snprintf(key, sizeof key, "ns/c%d", i);
    canary_seen(key, 1, 0);
  }
  assert_false(canary_healthy(61, 60, NULL, 0));
  for (int i = 0; i < CANARY_MAX + 10; i++) {
    snprintf(key, sizeof key, "ns/c%d", i);
    canary_reconciled(key, 1);
  }
  assert_true(canary_healthy(61, 60, NULL, 0));
}

int main(void) {
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_script), cmocka_unit_test(test_bounded)};
  return cmocka_run_group_tests(tests, NULL, NULL);
}

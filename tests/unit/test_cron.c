/* Quartz cron expressions (common/src/cron.c): what they accept and refuse, and when they fire
 * next, against times worked out by hand (UTC). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "flinkop/cron.h"
#include "testutil.h"

static int64_t at(int y, int mo, int d, int h, int mi, int s) {
  struct tm tm = {
      .tm_year = y - 1900, .tm_mon = mo - 1, .tm_mday = d, .tm_hour = h, .tm_min = mi, .tm_sec = s};
  return (int64_t)timegm(&tm) * 1000;
}

static void test_next(void **state) {
  (void)state;
  /* 2026-12-06 is a Sunday */
  int64_t from = at(2026, 12, 6, 10, 17, 30);
  static const struct {
    const char *expr;
    int y, mo, d, h, mi, s;
  } cases[] = {
      {"0 0 * * * ?", 2026, 12, 6, 11, 0, 0},
      {"0 */15 * * * ?", 2026, 12, 6, 10, 30, 0},
      {"30 17 10 * * ?", 2026, 12, 7, 10, 17, 30}, /* strictly after: tomorrow */
      {"0 0 12 ? * MON-FRI", 2026, 12, 7, 12, 0, 0},
      {"0 0 2 ? * 1", 2026, 12, 13, 2, 0, 0}, /* 1 = Sunday */
      {"0 0 0 1 JAN,jul ?", 2027, 1, 1, 0, 0, 0},
      {"0 0 0 29 2 ? *", 2028, 2, 29, 0, 0, 0},
      {"15/20 * * * * ?", 2026, 12, 6, 10, 17, 35},
      {"0 30 9 31 * ? 2027", 2027, 1, 31, 9, 30, 0},
      {"0 0 6 ? * WED", 2026, 12, 9, 6, 0, 0},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    struct fo_cron c;
    char why[256];
    if (fo_cron_parse(cases[i].expr, &c, why, sizeof why) < 0)
      fail_msg("%s: refused: %s", cases[i].expr, why);
    int64_t want = at(cases[i].y, cases[i].mo, cases[i].d, cases[i].h, cases[i].mi, cases[i].s);
    int64_t got = fo_cron_next(&c, from);
    if (got != want)
      fail_msg("%s: next %lld, want %lld", cases[i].expr, (long long)got, (long long)want);
  }
  /* a year already past: never */
  struct fo_cron c;
  char why[256];
  assert_int_equal(fo_cron_parse("0 0 0 1 1 ? 2020", &c, why, sizeof why), 0);
  assert_int_equal(fo_cron_next(&c, from), -1);
}

static void test_refused(void **state) {
  (void)state;
  static const struct {
    const char *expr, *why;
  } cases[] = {
      {"0 0 * * *",
       "6 or 7 fields (seconds minutes hours day-of-month month day-of-week [year]) are needed, "
       "not 5"},
      {"0 0 * * * * * *",
       "6 or 7 fields (seconds minutes hours day-of-month month day-of-week [year]) are needed, "
       "not 8"},
      {"0 0 * * * *", "exactly one of day-of-month and day-of-week must be '?'"},
      {"0 0 * ? * ?", "exactly one of day-of-month and day-of-week must be '?'"},
      {"60 0 * * * ?", "seconds value 60 is outside 0-59"},
      {"0 0 25 * * ?", "hours value 25 is outside 0-23"},
      {"0 0 0 L * ?",
       "day-of-month: 'L' uses Quartz's L, W or #, which this operator does not support"},
      {"0 0 0 15W * ?",
       "day-of-month: '15W' uses Quartz's L, W or #, which this operator does not support"},
      {"0 0 0 ? * 6#3",
       "day-of-week: '6#3' uses Quartz's L, W or #, which this operator does not support"},
      {"0 0 10-2 * * ?", "hours: the range 10-2 runs backwards"},
      {"0 */0 * * * ?", "minutes: the step must be from 1 to 59"},
      {"? 0 * * * *", "'?' can only be specified for day-of-month or day-of-week"},
      {"0 0 0 ? FOO *", "month: 'FOO' is not a value"},
      {"1h",
       "6 or 7 fields (seconds minutes hours day-of-month month day-of-week [year]) are needed, "
       "not 1"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    struct fo_cron c;
    char why[256];
    int r = fo_cron_parse(cases[i].expr, &c, why, sizeof why);
    if (r != -EINVAL || strcmp(why, cases[i].why))
      fail_msg("%s: %d '%s', want '%s'", cases[i].expr, r, why, cases[i].why);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_next), cmocka_unit_test(test_refused)};
  return cmocka_run_group_tests(tests, NULL, NULL);
}

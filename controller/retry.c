/* The retry policy: the reference operator's kubernetes.operator.retry.* settings. */
#include "retry.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>

#include "flinkop/flinkconf.h"

const struct retry_policy retry_default = {
    .initial_s = 5, .multiplier = 1.5, .max_s = 0, .max_attempts = 15, .exhausted_s = 60};

double retry_delay(const struct retry_policy *b, int attempt) {
  if (attempt < 1) attempt = 1;
  if (attempt > b->max_attempts) return b->exhausted_s;
  double d = b->initial_s * pow(b->multiplier, attempt - 1);
  if (b->max_s > 0 && d > b->max_s) d = b->max_s;
  return d > 86400 ? 86400 : d; /* (a day: never a wait that overflows a timespec) */
}

static int conf_seconds(json_object *conf, const char *key, double *ret) {
  const char *v = fo_conf_get(conf, key);
  int64_t ms = 0;
  if (!v) return 0;
  if (fo_duration_parse(v, &ms) < 0 || ms > 86400000LL) return -EINVAL;
  *ret = (double)ms / 1000.0;
  return 0;
}

int retry_from_conf(json_object *conf, struct retry_policy *ret, const char **ret_key) {
  static const char *const keys[] = {
      "kubernetes.operator.retry.initial.interval", "kubernetes.operator.retry.interval.multiplier",
      "kubernetes.operator.retry.max.interval", "kubernetes.operator.retry.max.attempts",
      "kubernetes.operator.reconcile.interval"};
  struct retry_policy b = retry_default;
  *ret_key = NULL;
  if (conf) {
    if (conf_seconds(conf, keys[0], &b.initial_s) < 0 || b.initial_s <= 0) {
      *ret_key = keys[0];
      return -EINVAL;
    }
    const char *m = fo_conf_get(conf, keys[1]);
    if (m) {
      char *end = NULL;
      errno = 0;
      b.multiplier = strtod(m, &end);
      if (errno || end == m || *end || !(b.multiplier >= 1 && b.multiplier <= 100)) {
        *ret_key = keys[1];
        return -EINVAL;
      }
    }
    if (conf_seconds(conf, keys[2], &b.max_s) < 0) {
      *ret_key = keys[2];
      return -EINVAL;
    }
    const char *a = fo_conf_get(conf, keys[3]);
    if (a) {
      char *end = NULL;
      errno = 0;
      long n = strtol(a, &end, 10);
      if (errno || end == a || *end || n < 0 || n > 1000000) {
        *ret_key = keys[3];
        return -EINVAL;
      }
      b.max_attempts = (int)n;
    }
    if (conf_seconds(conf, keys[4], &b.exhausted_s) < 0 || b.exhausted_s <= 0) {
      *ret_key = keys[4];
      return -EINVAL;
    }
  }
  *ret = b;
  return 0;
}

#include "flinkop/clock.h"

#include <errno.h>
#include <stdio.h>
#include <time.h>

double fo_clock_mono(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

int64_t fo_clock_ms(void) {
  struct timespec t;
  clock_gettime(CLOCK_REALTIME, &t);
  return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

char *fo_clock_rfc3339(char *out, size_t n, int digits) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  struct tm tm;
  gmtime_r(&ts.tv_sec, &tm);
  char base[24];
  strftime(base, sizeof base, "%Y-%m-%dT%H:%M:%S", &tm);
  if (digits == 6) snprintf(out, n, "%s.%06ldZ", base, ts.tv_nsec / 1000);
  else if (digits == 3) snprintf(out, n, "%s.%03ldZ", base, ts.tv_nsec / 1000000);
  else snprintf(out, n, "%sZ", base);
  return out;
}

char *fo_clock_rfc3339_in(char *out, size_t n, double seconds) {
  time_t t = time(NULL) + (time_t)(seconds + 0.5);
  struct tm tm;
  gmtime_r(&t, &tm);
  strftime(out, n, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return out;
}

int fo_clock_parse_rfc3339(const char *s, int64_t *ret_ms) {
  struct tm tm = {0};
  const char *end = s ? strptime(s, "%Y-%m-%dT%H:%M:%S", &tm) : NULL;
  if (!end) return -EINVAL;
  if (*end == '.')
    for (end++; *end >= '0' && *end <= '9'; end++) {}
  if (end[0] != 'Z' || end[1]) return -EINVAL;
  *ret_ms = (int64_t)timegm(&tm) * 1000;
  return 0;
}

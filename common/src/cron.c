#include "flinkop/cron.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

enum { F_SEC, F_MIN, F_HOUR, F_DOM, F_MON, F_DOW, F_YEAR, F_COUNT };

static const struct field {
  const char *name;
  int lo, hi;
  const char *const *names; /* names for lo, lo+1, ... or NULL */
} fields[F_COUNT] = {
    {"seconds", 0, 59, NULL},
    {"minutes", 0, 59, NULL},
    {"hours", 0, 23, NULL},
    {"day-of-month", 1, 31, NULL},
    {"month", 1, 12,
     (const char *const[]){"JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT",
                           "NOV", "DEC"}},
    {"day-of-week", 1, 7, (const char *const[]){"SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"}},
    {"year", 1970, 2161, NULL},
};

/* One value of field f at *p: a number or (month, day of week) a name; advances *p. */
static int value(int f, const char **p, int *ret, char *why, size_t n) {
  const char *s = *p;
  if (isdigit((unsigned char)*s)) {
    long v = 0;
    while (isdigit((unsigned char)*s) && v < 100000) v = v * 10 + (*s++ - '0');
    if (v < fields[f].lo || v > fields[f].hi) {
      snprintf(why, n, "%s value %ld is outside %d-%d", fields[f].name, v, fields[f].lo,
               fields[f].hi);
      return -EINVAL;
    }
    *ret = (int)v;
    *p = s;
    return 0;
  }
  for (int i = 0; fields[f].names && i <= fields[f].hi - fields[f].lo; i++) {
    if (!strncasecmp(s, fields[f].names[i], 3)) {
      *ret = fields[f].lo + i;
      *p = s + 3;
      return 0;
    }
  }
  if (*s == 'L' || *s == 'W' || *s == '#')
    snprintf(why, n, "%s: '%.20s' uses Quartz's L, W or #, which this operator does not support",
             fields[f].name, s);
  else snprintf(why, n, "%s: '%.20s' is not a value", fields[f].name, s);
  return -EINVAL;
}

static void set_bit(struct fo_cron *c, int f, int v) {
  if (f < 0 || f >= F_COUNT || v < fields[f].lo || v > fields[f].hi) return; /* (parsed in range) */
  switch (f) {
  case F_SEC: c->second |= 1ULL << v; break;
  case F_MIN: c->minute |= 1ULL << v; break;
  case F_HOUR: c->hour |= 1U << v; break;
  case F_DOM: c->dom |= 1U << v; break;
  case F_MON: c->month |= (uint16_t)(1U << v); break;
  case F_DOW: c->dow |= (uint8_t)(1U << v); break;
  case F_YEAR: {
    unsigned y = (unsigned)(v - 1970);
    c->year[y / 64] |= 1ULL << (y % 64);
    break;
  }
  default: break;
  }
}

/* One field's text [s, s+len). */
static int parse_field(struct fo_cron *c, int f, const char *s, size_t len, char *why, size_t n) {
  char buf[FO_CRON_MAX + 1];
  snprintf(buf, sizeof buf, "%.*s", (int)len, s);
  if (!strcmp(buf, "?")) {
    if (f != F_DOM && f != F_DOW) {
      snprintf(why, n, "'?' can only be specified for day-of-month or day-of-week");
      return -EINVAL;
    }
    if (f == F_DOM) c->dom_any = true;
    else c->dow_any = true;
    return 0;
  }
  for (char *item = buf, *next; item; item = next) {
    next = strchr(item, ',');
    if (next) *next++ = '\0';
    const char *p = item;
    int a = fields[f].lo, b = fields[f].hi, step = 1;
    if (*p == '*') {
      p++;
    } else {
      if (value(f, &p, &a, why, n) < 0) return -EINVAL;
      b = a;
      if (*p == '-') {
        p++;
        if (value(f, &p, &b, why, n) < 0) return -EINVAL;
        if (b < a) {
          snprintf(why, n, "%s: the range %d-%d runs backwards", fields[f].name, a, b);
          return -EINVAL;
        }
      }
    }
    if (*p == '/') {
      p++;
      long st = 0;
      while (isdigit((unsigned char)*p) && st < 100000) st = st * 10 + (*p++ - '0');
      if (st < 1 || st > fields[f].hi) {
        snprintf(why, n, "%s: the step must be from 1 to %d", fields[f].name, fields[f].hi);
        return -EINVAL;
      }
      step = (int)st;
      if (item[0] != '*' && !strchr(item, '-')) b = fields[f].hi; /* a/n: from a on */
    }
    if (*p == 'L' || *p == 'W' || *p == '#') {
      snprintf(why, n, "%s: '%.20s' uses Quartz's L, W or #, which this operator does not support",
               fields[f].name, item);
      return -EINVAL;
    }
    if (*p) {
      snprintf(why, n, "%s: unexpected '%.20s'", fields[f].name, p);
      return -EINVAL;
    }
    for (int v = a; v <= b; v += step) set_bit(c, f, v);
  }
  return 0;
}

int fo_cron_parse(const char *s, struct fo_cron *out, char *why, size_t why_len) {
  memset(out, 0, sizeof *out);
  why[0] = '\0';
  if (strlen(s) > FO_CRON_MAX) {
    snprintf(why, why_len, "longer than %d bytes", FO_CRON_MAX);
    return -EINVAL;
  }
  int count = 0;
  for (const char *q = s; *q;) {
    while (*q == ' ' || *q == '\t') q++;
    if (!*q) break;
    count++;
    q += strcspn(q, " \t");
  }
  if (count < 6 || count > 7) {
    snprintf(why, why_len,
             "6 or 7 fields (seconds minutes hours day-of-month month day-of-week [year]) are "
             "needed, not %d",
             count);
    return -EINVAL;
  }
  int nf = 0;
  const char *p = s;
  while (*p) {
    while (*p == ' ' || *p == '\t') p++;
    if (!*p) break;
    size_t len = strcspn(p, " \t");
    if (parse_field(out, nf, p, len, why, why_len) < 0) return -EINVAL;
    nf++;
    p += len;
  }
  if (nf == 6)
    for (int y = 1970; y <= 2161; y++) set_bit(out, F_YEAR, y);
  if (out->dom_any == out->dow_any) {
    snprintf(why, why_len, "exactly one of day-of-month and day-of-week must be '?'");
    return -EINVAL;
  }
  return 0;
}

static bool has_year(const struct fo_cron *c, int y) {
  if (y < 1970 || y > 2161) return false;
  unsigned i = (unsigned)(y - 1970);
  return c->year[i / 64] >> (i % 64) & 1;
}

int64_t fo_cron_next(const struct fo_cron *c, int64_t after_ms) {
  time_t t = (time_t)(after_ms / 1000) + 1;
  time_t end = t + (time_t)FO_CRON_HORIZON_YEARS * 366 * 86400;
  struct tm tm;
  while (t < end) {
    if (!gmtime_r(&t, &tm)) return -1;
    int y = tm.tm_year + 1900;
    if (!has_year(c, y)) {
      tm = (struct tm){.tm_year = tm.tm_year + 1, .tm_mday = 1};
    } else if (!(c->month >> (tm.tm_mon + 1) & 1)) {
      tm = (struct tm){.tm_year = tm.tm_year, .tm_mon = tm.tm_mon + 1, .tm_mday = 1};
    } else if (c->dow_any ? !(c->dom >> tm.tm_mday & 1) : !(c->dow >> (tm.tm_wday + 1) & 1)) {
      tm = (struct tm){.tm_year = tm.tm_year, .tm_mon = tm.tm_mon, .tm_mday = tm.tm_mday + 1};
    } else if (!(c->hour >> tm.tm_hour & 1)) {
      tm.tm_hour++;
      tm.tm_min = tm.tm_sec = 0;
    } else if (!(c->minute >> tm.tm_min & 1)) {
      tm.tm_min++;
      tm.tm_sec = 0;
    } else if (!(c->second >> tm.tm_sec & 1)) {
      tm.tm_sec++;
    } else {
      return (int64_t)t * 1000;
    }
    time_t nt = timegm(&tm); /* normalises the carried field */
    if (nt <= t) return -1;
    t = nt;
  }
  return -1;
}

/* cron.h - Quartz cron expressions, the schedule form of the reference's
 * kubernetes.operator.periodic.savepoint.interval and .periodic.checkpoint.interval:
 *   seconds minutes hours day-of-month month day-of-week [year]
 * each field `*`, a value, a range `a-b`, a step `*`/`a`/`a-b` `/n`, or a list of those (`,`);
 * months JAN-DEC, days of the week SUN-SAT (1 = Sunday, as Quartz counts); exactly one of the two
 * day fields is `?`. Quartz's L, W and # are refused with a message, not misread. Times are UTC.
 *
 * Limits: an expression longer than FO_CRON_MAX bytes is refused; fo_cron_next looks at most
 * FO_CRON_HORIZON_YEARS ahead.
 * Ownership: no allocation; inputs borrowed. Thread-safe: no shared state. */
#ifndef FLINKOP_CRON_H
#define FLINKOP_CRON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define FO_CRON_MAX 256
#define FO_CRON_HORIZON_YEARS 10

struct fo_cron {
  uint64_t second, minute; /* bit n: n allowed */
  uint32_t hour, dom;      /* dom: bits 1..31 */
  uint16_t month;          /* bits 1..12 */
  uint8_t dow;             /* bits 1..7, 1 = Sunday */
  bool dom_any, dow_any;   /* `?` */
  uint64_t year[3];        /* bits: years 1970..2161 (1970 + index); all set when not given */
};

/* Parses `s`. Returns 0, or -EINVAL with the reason in `why` (NUL-terminated, why_len > 0). */
int fo_cron_parse(const char *s, struct fo_cron *out, char *why, size_t why_len);
/* The first time (epoch ms, whole seconds) strictly after `after_ms` the expression fires; -1
 * when none within the horizon. */
int64_t fo_cron_next(const struct fo_cron *c, int64_t after_ms);

#endif

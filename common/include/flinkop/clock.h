/* clock.h - the one clock helper: monotonic seconds for intervals and deadlines, wall-clock
 * milliseconds and RFC 3339 text for what is written (status, Events, Leases, logs).
 * Thread-safe; no state. */
#ifndef FLINKOP_CLOCK_H
#define FLINKOP_CLOCK_H

#include <stddef.h>
#include <stdint.h>

/* Seconds on the monotonic clock (never jumps; for intervals only). */
double fo_clock_mono(void);
/* Milliseconds since the Unix epoch. */
int64_t fo_clock_ms(void);
/* The time now as RFC 3339 in UTC with `digits` fractional digits (0, 3 or 6):
 * 2026-12-01T21:43:50Z, ...50.936Z, ...50.936529Z. `out` needs 32 bytes. Returns out. */
char *fo_clock_rfc3339(char *out, size_t n, int digits);
/* A time `seconds` from now (may be negative) as RFC 3339 in UTC, whole seconds. Returns out. */
char *fo_clock_rfc3339_in(char *out, size_t n, double seconds);
/* Reads an RFC 3339 time in UTC as Kubernetes writes it (2026-12-01T21:43:50Z, fractional seconds
 * ignored) into milliseconds since the epoch. Returns 0, or -EINVAL (NULL or another form). */
int fo_clock_parse_rfc3339(const char *s, int64_t *ret_ms);

#endif

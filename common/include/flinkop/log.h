/* log.h - the daemons' log (not used by the library itself): one JSON object per line on
 * stderr. Never the object body at info level, never key material. Thread-safe (one fputs per
 * line, stderr is line-locked). */
#ifndef FLINKOP_LOG_H
#define FLINKOP_LOG_H

#include <stdbool.h>

extern bool fo_log_debug_enabled;

/* `fields` is a printf format for extra JSON members (without braces), already escaped by the
 * caller for values that come from outside (use fo_log_escape). */
void fo_log(const char *level, const char *msg, const char *fields, ...)
    __attribute__((format(printf, 3, 4)));

/* Escapes `s` for use inside a JSON string into `out` (truncating at `outsz`). Returns out. */
const char *fo_log_escape(const char *s, char *out, unsigned outsz);

/* The one rule for values from outside (names, paths, messages, anything a user or a server
 * wrote) in a log line: pass them as fo_log_str(s) to a "%s" inside quotes. Returns `s` escaped
 * (NULL as "") and cut at 512 bytes, in one of 8 buffers of the calling thread: valid until the
 * 8th next call on that thread, so one fo_log() line can carry up to 8. */
const char *fo_log_str(const char *s);

#endif

/* watchparse.h - incremental parser of a Kubernetes watch stream: newline-delimited JSON
 * objects {"type": ADDED|MODIFIED|DELETED|BOOKMARK|ERROR, "object": {...}}, arriving in chunks
 * cut anywhere. Lines are bounded (`max_line`); a line over it, a line that is not JSON or not an
 * event, stops the stream with an error (the caller re-lists: nothing is silently skipped).
 *
 * Ownership: the callback borrows `object` for the duration of the call (json_object_get() it
 * to keep it). Not thread-safe: one parser per stream. */
#ifndef FLINKOP_WATCHPARSE_H
#define FLINKOP_WATCHPARSE_H

#include "flinkop/buf.h"
#include "flinkop/json.h"

/* Returns 0 to go on, < 0 to stop (returned from fo_watch_parser_feed). */
typedef int (*fo_watch_event_fn)(void *ud, const char *type, json_object *object);

struct fo_watch_parser {
  struct fo_buf line;
  fo_watch_event_fn fn;
  void *ud;
  struct fo_limits limits;
  size_t events;
  char *error; /* owned: why the stream was refused */
};

void fo_watch_parser_init(struct fo_watch_parser *p, size_t max_line, fo_watch_event_fn fn,
                          void *ud);
void fo_watch_parser_free(struct fo_watch_parser *p);
/* Feeds bytes. Returns 0, -E2BIG (line too long), -EINVAL (bad line; p->error says why),
 * -ENOMEM, or the callback's negative value. */
int fo_watch_parser_feed(struct fo_watch_parser *p, const char *data, size_t n);

#endif

#include "flinkop/watchparse.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void fo_watch_parser_init(struct fo_watch_parser *p, size_t max_line, fo_watch_event_fn fn,
                          void *ud) {
  memset(p, 0, sizeof *p);
  fo_buf_init(&p->line, max_line);
  p->fn = fn;
  p->ud = ud;
  p->limits = *fo_limits_default();
  p->limits.doc_bytes = max_line;
}

void fo_watch_parser_free(struct fo_watch_parser *p) {
  fo_buf_free(&p->line);
  free(p->error);
  p->error = NULL;
}

/* Records why the stream was refused: `what` followed by `detail` (may be NULL). */
static int fail(struct fo_watch_parser *p, int rc, const char *what, const char *detail) {
  free(p->error);
  struct fo_buf b;
  fo_buf_init(&b, 4096);
  int r = fo_buf_puts(&b, what);
  if (r == 0 && detail) r = fo_buf_puts(&b, detail);
  if (r < 0) { /* a shortened reason would mislead: no reason, and the error is the memory */
    fo_buf_free(&b);
    p->error = NULL;
    return -ENOMEM;
  }
  p->error = fo_buf_steal(&b);
  return rc;
}

static int one_line(struct fo_watch_parser *p, const char *s, size_t n) {
  while (n && (s[n - 1] == '\r' || s[n - 1] == ' ')) n--;
  if (n == 0) return 0; /* blank keep-alive line */
  json_object *ev;
  struct fo_parse_error pe = {0};
  int r = fo_json_parse(s, n, &p->limits, &ev, &pe);
  if (r < 0) {
    r = fail(p, r == -ENOMEM ? -ENOMEM : -EINVAL, "watch event is not valid JSON: ", pe.message);
    fo_parse_error_clear(&pe);
    return r;
  }
  const char *type = fo_json_get_string(ev, "type");
  json_object *obj = fo_json_get_object(ev, "object");
  if (!type || !obj) {
    json_object_put(ev);
    return fail(p, -EINVAL, "watch event without type or object", NULL);
  }
  p->events++;
  r = p->fn(p->ud, type, obj);
  json_object_put(ev);
  return r;
}

int fo_watch_parser_feed(struct fo_watch_parser *p, const char *data, size_t n) {
  while (n) {
    const char *nl = memchr(data, '\n', n);
    size_t take = nl ? (size_t)(nl - data) : n;
    if (p->line.len == 0 && nl) { /* whole line in this chunk: no copy */
      int r = one_line(p, data, take);
      if (r < 0) return r;
    } else {
      int r = fo_buf_append(&p->line, data, take);
      if (r == -E2BIG) return fail(p, -E2BIG, "watch event longer than the line limit", NULL);
      if (r < 0) return r;
      if (nl) {
        r = one_line(p, p->line.data, p->line.len);
        fo_buf_reset(&p->line);
        if (r < 0) return r;
      }
    }
    if (!nl) break;
    data += take + 1;
    n -= take + 1;
  }
  return 0;
}

#include "flinkop/findings.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "flinkop/buf.h"

void fo_findings_init(struct fo_findings *f) { memset(f, 0, sizeof *f); }

void fo_findings_free(struct fo_findings *f) {
  if (!f) return;
  for (size_t i = 0; i < f->n; i++) {
    free(f->items[i].path);
    free(f->items[i].message);
  }
  free(f->items);
  memset(f, 0, sizeof *f);
}

bool fo_findings_has(const struct fo_findings *f, const char *message) {
  for (size_t i = 0; i < f->n; i++)
    if (strcmp(f->items[i].message, message) == 0) return true;
  return false;
}

int fo_findings_add(struct fo_findings *f, const char *path, const char *fmt, ...) {
  struct fo_buf b;
  fo_buf_init(&b, 64 * 1024);
  va_list ap;
  va_start(ap, fmt);
  int r = fo_buf_vprintf(&b, fmt, ap);
  va_end(ap);
  if (r == -E2BIG) {
    fo_buf_reset(&b);
    r = fo_buf_puts(&b, "(message too long)");
  }
  if (r < 0 || !b.data) goto oom;
  if (fo_findings_has(f, b.data)) {
    fo_buf_free(&b);
    return 0;
  }
  if (f->n == f->cap) {
    size_t nc = f->cap ? f->cap * 2 : 8;
    struct fo_finding *ni = realloc(f->items, nc * sizeof *ni);
    if (!ni) goto oom;
    f->items = ni;
    f->cap = nc;
  }
  char *p = strdup(path ? path : "");
  if (!p) goto oom;
  f->items[f->n].path = p;
  f->items[f->n].message = fo_buf_steal(&b);
  f->n++;
  return 0;
oom:
  fo_buf_free(&b);
  f->oom = 1;
  return -ENOMEM;
}

char *fo_findings_join(const struct fo_findings *f, const char *sep) {
  struct fo_buf b;
  fo_buf_init(&b, SIZE_MAX / 2);
  int r = fo_buf_append(&b, "", 0);
  for (size_t i = 0; r == 0 && i < f->n; i++) {
    if (i) r = fo_buf_puts(&b, sep);
    if (r == 0) r = fo_buf_puts(&b, f->items[i].message);
  }
  if (r < 0) {
    fo_buf_free(&b);
    return NULL;
  }
  return fo_buf_steal(&b);
}

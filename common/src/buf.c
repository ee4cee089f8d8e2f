#include "flinkop/buf.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void fo_buf_init(struct fo_buf *b, size_t max) {
  b->data = NULL;
  b->len = 0;
  b->cap = 0;
  b->max = max;
}

static int buf_reserve(struct fo_buf *b, size_t extra) {
  if (extra > b->max || b->len > b->max - extra) return -E2BIG;
  size_t need = b->len + extra + 1;
  if (need <= b->cap) return 0;
  size_t cap = b->cap ? b->cap : 256;
  while (cap < need) cap = cap > SIZE_MAX / 2 ? need : cap * 2;
  char *p = realloc(b->data, cap);
  if (!p) return -ENOMEM;
  b->data = p;
  b->cap = cap;
  return 0;
}

int fo_buf_reserve(struct fo_buf *b, size_t extra) {
  int r = buf_reserve(b, extra);
  if (r == 0 && b->data) b->data[b->len] = '\0';
  return r;
}

int fo_buf_append(struct fo_buf *b, const void *p, size_t n) {
  int r = buf_reserve(b, n);
  if (r < 0) return r;
  if (n) memcpy(b->data + b->len, p, n);
  b->len += n;
  b->data[b->len] = '\0';
  return 0;
}

int fo_buf_puts(struct fo_buf *b, const char *s) { return fo_buf_append(b, s, strlen(s)); }

int fo_buf_putc(struct fo_buf *b, char c) { return fo_buf_append(b, &c, 1); }

int fo_buf_vprintf(struct fo_buf *b, const char *fmt, va_list ap) {
  /* most texts fit the room there is (or a first 256 bytes): then one formatting pass */
  if (!b->data && b->max >= 255 && buf_reserve(b, 255) < 0) return -ENOMEM;
  va_list ap2;
  va_copy(ap2, ap);
  size_t room = b->data && b->cap > b->len ? b->cap - b->len : 0;
  int n = vsnprintf(room ? b->data + b->len : NULL, room, fmt, ap2);
  va_end(ap2);
  if (n >= 0 && (size_t)n < room) {
    if ((size_t)n > b->max - b->len) {
      b->data[b->len] = '\0';
      return -E2BIG;
    }
    b->len += (size_t)n;
    return 0;
  }
  if (room) b->data[b->len] = '\0';
  if (n < 0) return -EINVAL;
  int r = buf_reserve(b, (size_t)n);
  if (r < 0) return r;
  vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
  b->len += (size_t)n;
  return 0;
}

int fo_buf_printf(struct fo_buf *b, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int r = fo_buf_vprintf(b, fmt, ap);
  va_end(ap);
  return r;
}

int fo_buf_json_string(struct fo_buf *b, const char *s, size_t n) {
  static const char hex[] = "0123456789abcdef";
  int r = fo_buf_putc(b, '"');
  for (size_t i = 0; r == 0 && i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    switch (c) {
    case '"': r = fo_buf_append(b, "\\\"", 2); break;
    case '\\': r = fo_buf_append(b, "\\\\", 2); break;
    case '\n': r = fo_buf_append(b, "\\n", 2); break;
    case '\r': r = fo_buf_append(b, "\\r", 2); break;
    case '\t': r = fo_buf_append(b, "\\t", 2); break;
    case '\b': r = fo_buf_append(b, "\\b", 2); break;
    case '\f': r = fo_buf_append(b, "\\f", 2); break;
    default:
      if (c < 0x20) {
        char e[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
        r = fo_buf_append(b, e, 6);
      } else {
        r = fo_buf_putc(b, (char)c);
      }
    }
  }
  if (r == 0) r = fo_buf_putc(b, '"');
  return r;
}

void fo_buf_reset(struct fo_buf *b) {
  b->len = 0;
  if (b->data) b->data[0] = '\0';
}

char *fo_buf_steal(struct fo_buf *b) {
  char *p = b->data;
  b->data = NULL;
  b->len = b->cap = 0;
  return p;
}

void fo_buf_free(struct fo_buf *b) {
  free(b->data);
  b->data = NULL;
  b->len = b->cap = 0;
}

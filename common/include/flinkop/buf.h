/* buf.h - a growable byte buffer with a mandatory maximum size.
 *
 * Ownership: the buffer owns `data`; fo_buf_free() releases it. fo_buf_steal() hands the bytes
 * to the caller (free() them) and leaves the buffer empty. `data` is always NUL-terminated when
 * non-NULL, so a text buffer can be used as a C string. Not thread-safe: one owner at a time.
 */
#ifndef FLINKOP_BUF_H
#define FLINKOP_BUF_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

struct fo_buf {
  char *data;
  size_t len;
  size_t cap;
  size_t max; /* appends that would exceed it fail with -E2BIG */
};

/* Initialises an empty buffer that may grow to `max` bytes (excluding the NUL). */
void fo_buf_init(struct fo_buf *b, size_t max);
/* Appends; 0, -E2BIG when over max, -ENOMEM. On failure the buffer is unchanged. */
int fo_buf_append(struct fo_buf *b, const void *p, size_t n);
/* Makes room for `extra` more bytes (and the NUL) without changing the content: 0, -E2BIG over
 * `max`, -ENOMEM. data is then non-NULL and NUL-terminated. */
int fo_buf_reserve(struct fo_buf *b, size_t extra);
int fo_buf_puts(struct fo_buf *b, const char *s);
int fo_buf_putc(struct fo_buf *b, char c);
int fo_buf_printf(struct fo_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int fo_buf_vprintf(struct fo_buf *b, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));
/* Appends `s` as a JSON string literal (quotes included). */
int fo_buf_json_string(struct fo_buf *b, const char *s, size_t n);
void fo_buf_reset(struct fo_buf *b);
/* Returns the bytes (NUL-terminated, caller frees) or NULL when empty; the buffer is reset. */
char *fo_buf_steal(struct fo_buf *b);
void fo_buf_free(struct fo_buf *b);

#endif

#include "flinkop/log.h"

#include <stdarg.h>
#include <stdio.h>

#include "flinkop/buf.h"
#include "flinkop/clock.h"

bool fo_log_debug_enabled = false;

void fo_log(const char *level, const char *msg, const char *fields, ...) {
  struct fo_buf b;
  fo_buf_init(&b, 16384);
  char when[32];
  fo_clock_rfc3339(when, sizeof when, 3);
  fo_buf_printf(&b, "{\"ts\":\"%s\",\"level\":\"%s\",\"msg\":\"%s\"", when, level, msg);
  if (fields && *fields) {
    fo_buf_putc(&b, ',');
    va_list ap;
    va_start(ap, fields);
    fo_buf_vprintf(&b, fields, ap);
    va_end(ap);
  }
  fo_buf_puts(&b, "}\n");
  if (b.data) fputs(b.data, stderr);
  fo_buf_free(&b);
}

const char *fo_log_escape(const char *s, char *out, unsigned outsz) {
  unsigned k = 0;
  if (!s) s = "";
  for (; *s && k + 7 < outsz; s++) {
    unsigned char c = (unsigned char)*s;
    if (c == '"' || c == '\\') {
      out[k++] = '\\';
      out[k++] = (char)c;
    } else if (c < 0x20) {
      k += (unsigned)snprintf(out + k, outsz - k, "\\u%04x", c);
    } else {
      out[k++] = (char)c;
    }
  }
  out[k] = '\0';
  return out;
}

const char *fo_log_str(const char *s) {
  static _Thread_local char ring[8][520];
  static _Thread_local unsigned next;
  char *out = ring[next++ % 8];
  return fo_log_escape(s, out, sizeof ring[0]);
}

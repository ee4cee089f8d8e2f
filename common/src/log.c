#include "flinkop/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <time.h>

#include "flinkop/buf.h"

bool fo_log_debug_enabled = false;

void fo_log(const char *level, const char *msg, const char *fields, ...) {
  struct fo_buf b;
  fo_buf_init(&b, 16384);
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  struct tm tm;
  gmtime_r(&ts.tv_sec, &tm);
  char when[32];
  strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%S", &tm);
  fo_buf_printf(&b, "{\"ts\":\"%s.%03ldZ\",\"level\":\"%s\",\"msg\":\"%s\"", when, ts.tv_nsec / 1000000, level, msg);
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

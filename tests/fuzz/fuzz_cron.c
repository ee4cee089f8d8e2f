/* libFuzzer target: the Quartz cron reader (fo_cron_parse) and the next firing (fo_cron_next).
 * An accepted expression's next firing is after the time asked about, on a whole second, and
 * the firing after it is later still; a refusal says why. */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "flinkop/cron.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char *s = malloc(size + 1);
  if (!s) return 0;
  memcpy(s, data, size);
  s[size] = '\0';
  struct fo_cron c;
  char why[256];
  int r = fo_cron_parse(s, &c, why, sizeof why);
  if (r == 0) {
    int64_t from = 1796500000123LL; /* a fixed time: runs repeat */
    int64_t next = fo_cron_next(&c, from);
    if (next != -1 && (next <= from || next % 1000)) abort();
    if (next != -1) {
      int64_t after = fo_cron_next(&c, next);
      if (after != -1 && after <= next) abort();
    }
  } else if (r != -EINVAL || !why[0]) {
    abort();
  }
  free(s);
  return 0;
}

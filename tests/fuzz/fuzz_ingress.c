/* libFuzzer target: the ingress template reader (fo_ingress_render). The input, up to its first
 * NUL, is the template; what follows is the name its {{name}} stands for. A result must be a
 * host and a path that are parts of the rendered URL, and an error must say why. */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "flinkop/ingress.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char *in = malloc(size + 1);
  if (!in) return 0;
  memcpy(in, data, size);
  in[size] = '\0';
  size_t tl = strlen(in);
  const char *name = tl < size ? in + tl + 1 : "job";
  struct fo_ingress_url u;
  char why[256];
  int r = fo_ingress_render(in, name, "ns", &u, why, sizeof why);
  if (r == 0) {
    if ((u.host && !*u.host) || (u.path && !*u.path)) abort(); /* blank ones are left out */
    fo_ingress_url_free(&u);
  } else if (r != -ENOMEM && (!why[0] || (r != -EINVAL && r != -E2BIG))) {
    abort();
  }
  free(in);
  return 0;
}

/* libFuzzer target: the YAML reader, then the rulebook on every document it yields; and the
 * readers of single configuration values (Durations, limit factors, memory sizes, map and list
 * options, RFC 3339 times) on the input as one string. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "flinkop/admission.h"
#include "flinkop/clock.h"
#include "flinkop/flinkconf.h"
#include "flinkop/yaml.h"

static void values(const uint8_t *data, size_t size) {
  if (size > 8192) return;
  char *s = malloc(size + 1);
  if (!s) return;
  memcpy(s, data, size);
  s[size] = '\0';
  int64_t ms;
  double f, q;
  uint64_t bytes;
  const char *why;
  fo_duration_parse(s, &ms);
  fo_limit_factor_parse(s, &f);
  fo_memory_parse(s, &bytes, &why);
  fo_quantity_parse(s, &q, &why);
  fo_clock_parse_rfc3339(s, &ms);
  for (int list = 0; list < 2; list++) {
    json_object *m = NULL;
    fo_conf_map_parse(s, list, &m, &why);
    json_object_put(m);
  }
  free(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  values(data, size);
  struct fo_limits lim = *fo_limits_default();
  lim.nodes = 20000;
  struct fo_yaml_doc *docs;
  size_t n;
  struct fo_parse_error err = {0};
  if (fo_yaml_parse((const char *)data, size, &lim, &docs, &n, &err) == 0) {
    for (size_t i = 0; i < n; i++) {
      struct fo_findings e, w;
      fo_findings_init(&e);
      fo_findings_init(&w);
      fo_admission_review_object(docs[i].root, i ? docs[i - 1].root : NULL, NULL, NULL, &e, &w);
      fo_findings_free(&e);
      fo_findings_free(&w);
    }
    fo_yaml_docs_free(docs, n);
  }
  fo_parse_error_clear(&err);
  return 0;
}

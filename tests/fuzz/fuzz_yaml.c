/* libFuzzer target: the YAML reader, then the rulebook on every document it yields. */
#include <stddef.h>
#include <stdint.h>

#include "flinkop/admission.h"
#include "flinkop/yaml.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
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

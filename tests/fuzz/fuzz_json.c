/* libFuzzer target: the JSON reader, the writer (output must parse back equal), the filtered
 * reader (must agree with the full one), the status model round trip and the rulebook. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "flinkop/admission.h"
#include "flinkop/status.h"
#include "json_filter_check.h"

/* Shaped like the admission filter: kept, skipped, filtered and "*" members at several levels. */
static const struct fo_json_filter f_status[] = {
    {"reconciliationStatus", NULL, false}, {"*", NULL, true}, {NULL, NULL, false}};
static const struct fo_json_filter f_object[] = {
    {"status", f_status, false}, {"managedFields", NULL, true}, {"*", NULL, false}, {NULL, NULL, false}};
static const struct fo_json_filter f_top[] = {{"object", f_object, false},
                                              {"request", f_object, false},
                                              {"a", NULL, false},
                                              {"spec", NULL, false},
                                              {NULL, NULL, false}};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char why[512];
  if (jfc_check((const char *)data, size, NULL, f_top, why, sizeof why) < 0) abort();
  json_object *o;
  struct fo_parse_error err = {0};
  if (fo_json_parse((const char *)data, size, NULL, &o, &err) == 0) {
    char *s = fo_json_dumps(o);
    if (s) {
      json_object *back;
      struct fo_parse_error e2 = {0};
      if (fo_json_parse(s, strlen(s), NULL, &back, &e2) != 0 || !json_object_equal(o, back)) abort();
      json_object_put(back);
      fo_parse_error_clear(&e2);
      free(s);
    }
    struct fo_status st;
    if (fo_status_read(fo_json_get_object(o, "status"), &st) == 0) {
      json_object *w = fo_status_to_json(&st);
      json_object *orig = fo_json_get_object(o, "status");
      if (w && orig && !json_object_equal(w, orig)) abort();
      json_object_put(w);
      fo_status_lifecycle(&st);
      fo_status_free(&st);
    }
    struct fo_findings e, w;
    fo_findings_init(&e);
    fo_findings_init(&w);
    fo_admission_review_object(o, NULL, NULL, NULL, &e, &w);
    fo_findings_free(&e);
    fo_findings_free(&w);
    json_object_put(o);
  }
  fo_parse_error_clear(&err);
  return 0;
}

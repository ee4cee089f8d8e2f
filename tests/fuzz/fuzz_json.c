/* libFuzzer target: the JSON reader, the writer (output must parse back equal), the filtered
 * reader (must agree with the full one), the arena document (its json-c conversion must equal
 * json-c's reading, and back), the configuration view (must read what fo_conf_effective_new
 * builds, for every key it builds and their prefixes), the status model round trip and the
 * rulebook. */
#include <stddef.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "flinkop/admission.h"
#include "flinkop/flinkconf.h"
#include "flinkop/status.h"
#include "json_filter_check.h"

/* Shaped like the admission filter: kept, skipped, filtered and "*" members at several levels. */
static const struct fo_json_filter f_status[] = {
    {"reconciliationStatus", NULL, false}, {"*", NULL, true}, {NULL, NULL, false}};
static const struct fo_json_filter f_object[] = {{"status", f_status, false},
                                                 {"managedFields", NULL, true},
                                                 {"*", NULL, false},
                                                 {NULL, NULL, false}};
static const struct fo_json_filter f_top[] = {{"object", f_object, false},
                                              {"request", f_object, false},
                                              {"a", NULL, false},
                                              {"spec", NULL, false},
                                              {NULL, NULL, false}};

static bool same_text(const char *a, const char *b) {
  return (a == NULL) == (b == NULL) && (!a || strcmp(a, b) == 0);
}

/* The document read into an arena agrees with json-c's tree `o`, and so does the configuration
 * view over it (taken as a spec.flinkConfiguration). */
static void check_arena_document(const uint8_t *data, size_t size, json_object *o) {
  struct fo_arena a;
  fo_arena_init(&a, SIZE_MAX);
  const struct fo_jv *v, *back;
  struct fo_parse_error err = {0};
  if (fo_jv_parse((const char *)data, size, NULL, NULL, &a, &v, &err) != 0) abort();
  json_object *conv;
  if (fo_jv_to_json(v, &conv) == 0 && !json_object_equal(conv, o)) abort();
  json_object_put(conv);
  if (fo_jv_from_json(&a, o, &back) == 0 && !fo_jv_equal(back, v)) abort();
  if (v->type == FO_JOBJECT) {
    json_object *eff = fo_conf_effective_new(NULL, o);
    struct fo_conf_view cv = {.spec = v, .arena = &a};
    if (eff) {
      json_object_object_foreach(eff, k, val) {
        (void)val;
        char key[256];
        size_t n = strlen(k);
        if (!same_text(fo_conf_view_get(&cv, k), fo_conf_get(eff, k)) && !cv.oom) abort();
        /* every prefix of a flattened name, and the name with a suffix */
        for (size_t cut = 0; cut < n && cut < sizeof key - 1; cut++) {
          memcpy(key, k, cut);
          key[cut] = '\0';
          if (!same_text(fo_conf_view_get(&cv, key), fo_conf_get(eff, key)) && !cv.oom) abort();
        }
        if (n < sizeof key - 3) {
          snprintf(key, sizeof key, "%s.x", k);
          if (!same_text(fo_conf_view_get(&cv, key), fo_conf_get(eff, key)) && !cv.oom) abort();
        }
      }
      json_object_put(eff);
    }
  }
  fo_parse_error_clear(&err);
  fo_arena_free(&a);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char why[512];
  if (jfc_check((const char *)data, size, NULL, f_top, why, sizeof why) < 0) abort();
  json_object *o;
  struct fo_parse_error err = {0};
  if (fo_json_parse((const char *)data, size, NULL, &o, &err) == 0) {
    check_arena_document(data, size, o);
    char *s = fo_json_dumps(o);
    if (s) {
      json_object *back;
      struct fo_parse_error e2 = {0};
      if (fo_json_parse(s, strlen(s), NULL, &back, &e2) != 0 || !json_object_equal(o, back))
        abort();
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

/* json_filter_check.h - checks that a filtered parse (fo_json_parse_filtered) agrees with a full
 * one: the same verdict and error, and the same tree once the skipped members are removed from the
 * full tree. Used by the unit tests and by the fuzz target. Header-only (static functions). */
#ifndef FO_TESTS_JSON_FILTER_CHECK_H
#define FO_TESTS_JSON_FILTER_CHECK_H

#include <stdio.h>
#include <string.h>

#include "flinkop/json.h"

static const struct fo_json_filter *jfc_find(const struct fo_json_filter *f, const char *key) {
  const struct fo_json_filter *star = NULL;
  for (; f->key; f++) {
    if (strcmp(f->key, key) == 0) return f;
    if (strcmp(f->key, "*") == 0) star = f;
  }
  return star;
}

/* Removes from `o` (in place) what the filter skips. */
static void jfc_prune(json_object *o, const struct fo_json_filter *f) {
  if (!f || !json_object_is_type(o, json_type_object)) return;
  size_t n = (size_t)json_object_object_length(o), k = 0;
  const char **drop = n ? (const char **)calloc(n, sizeof *drop) : NULL;
  json_object_object_foreach(o, key, val) {
    const struct fo_json_filter *e = jfc_find(f, key);
    if (!e || e->skip) drop[k++] = key;
    else if (e->inner) jfc_prune(val, e->inner);
  }
  for (size_t i = 0; i < k; i++) json_object_object_del(o, drop[i]);
  free((void *)drop);
}

/* 0 when both parses agree; otherwise -1 and a description in `why`. */
static int jfc_check(const char *text, size_t len, const struct fo_limits *lim,
                     const struct fo_json_filter *f, char *why, size_t whylen) {
  json_object *full = NULL, *part = NULL;
  struct fo_parse_error e1 = {0}, e2 = {0};
  int r1 = fo_json_parse(text, len, lim, &full, &e1);
  int r2 = fo_json_parse_filtered(text, len, lim, f, &part, &e2);
  int bad = 0;
  if (r1 != r2) {
    snprintf(why, whylen, "full parse %d (%s), filtered %d (%s)", r1, e1.message ? e1.message : "",
             r2, e2.message ? e2.message : "");
    bad = -1;
  } else if (r1 < 0 && (e1.line != e2.line || e1.column != e2.column || !e1.message ||
                        !e2.message || strcmp(e1.message, e2.message) != 0)) {
    snprintf(why, whylen, "errors differ: %u:%u %s / %u:%u %s", e1.line, e1.column,
             e1.message ? e1.message : "", e2.line, e2.column, e2.message ? e2.message : "");
    bad = -1;
  } else if (r1 == 0) {
    jfc_prune(full, f);
    if (!json_object_equal(full, part)) {
      snprintf(why, whylen, "trees differ: %s / %s", json_object_to_json_string(full),
               json_object_to_json_string(part));
      bad = -1;
    }
  }
  json_object_put(full);
  json_object_put(part);
  fo_parse_error_clear(&e1);
  fo_parse_error_clear(&e2);
  return bad;
}

#endif

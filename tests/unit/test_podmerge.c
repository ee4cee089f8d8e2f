/* Pod template merging (common/src/podmerge.c) against the cases under tests/cases/podmerge (README
 * there): every case's merged template exactly, member order included, with both inputs left as
 * they were. Also: the depth limit, and inputs that are not templates. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "flinkop/limits.h"
#include "flinkop/podmerge.h"
#include "flinkop/yaml.h"
#include "testutil.h"

/* Compact text of a value ("null" for NULL), malloc'd. */
static char *text(json_object *o) {
  char *s = o ? fo_json_dumps(o) : strdup("null");
  assert_non_null(s);
  return s;
}

/* Runs one case document; `where` names it in failures. */
static void run_case(json_object *c, const char *where) {
  const char *name = fo_json_get_string(c, "case");
  json_object *by_name = fo_json_get(c, "by_name"), *want = fo_json_get(c, "merged");
  if (!name || !json_object_is_type(by_name, json_type_boolean) || !want)
    fail_msg("%s: a case needs `case`, `by_name` (true or false) and `merged`", where);
  json_object *base = fo_json_get(c, "base"), *overlay = fo_json_get(c, "overlay");
  char *base_before = text(base), *overlay_before = text(overlay);
  json_object *got = NULL;
  int r = fo_podmerge(base, overlay, json_object_get_boolean(by_name), &got);
  if (r) fail_msg("%s (%s): fo_podmerge returned %d", where, name, r);
  char *g = text(got), *w = text(want);
  if (strcmp(g, w)) fail_msg("%s (%s):\n got  %s\n want %s", where, name, g, w);
  json_object_put(got); /* the result shares nothing: the inputs read the same after it is gone */
  char *base_after = text(base), *overlay_after = text(overlay);
  if (strcmp(base_before, base_after) || strcmp(overlay_before, overlay_after))
    fail_msg("%s (%s): an input was modified", where, name);
  free(g), free(w), free(base_before), free(base_after), free(overlay_before), free(overlay_after);
}

static int run_file(const char *file) {
  char rel[1200];
  snprintf(rel, sizeof rel, "tests/cases/podmerge/%s", file);
  size_t len;
  char *t = tu_read_file(rel, &len);
  struct fo_yaml_doc *docs;
  size_t n;
  struct fo_parse_error e = {0};
  if (fo_yaml_parse(t, len, NULL, &docs, &n, &e))
    fail_msg("%s:%u:%u: %s", rel, e.line, e.column, e.message);
  for (size_t i = 0; i < n; i++) {
    char where[1300];
    snprintf(where, sizeof where, "%s:%u", rel, docs[i].line);
    run_case(docs[i].root, where);
  }
  fo_yaml_docs_free(docs, n);
  free(t);
  return (int)n;
}

static int by_name_cmp(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

static void test_cases(void **state) {
  (void)state;
  char dir[1024];
  snprintf(dir, sizeof dir, "%s/tests/cases/podmerge", FO_SOURCE_DIR);
  DIR *d = opendir(dir);
  assert_non_null(d);
  char *files[64];
  size_t nf = 0;
  for (struct dirent *e; (e = readdir(d));) {
    size_t len = strlen(e->d_name);
    if (len < 5 || strcmp(e->d_name + len - 5, ".yaml")) continue;
    assert_true(nf < sizeof files / sizeof files[0]);
    files[nf++] = strdup(e->d_name);
  }
  closedir(d);
  qsort(files, nf, sizeof files[0], by_name_cmp);
  int n = 0;
  for (size_t i = 0; i < nf; i++) {
    int k = run_file(files[i]);
    printf("  %-24s %2d cases\n", files[i], k);
    n += k;
    free(files[i]);
  }
  assert_true(nf >= 7);
  assert_true(n >= 40);
}

/* {"a": {"a": ...}} (or [[...]] with arrays): `levels` containers, a string at the bottom. */
static json_object *nested(unsigned levels, bool arrays) {
  json_object *v = json_object_new_string("x");
  for (unsigned i = 0; i < levels; i++) {
    json_object *c = arrays && i + 1 < levels ? json_object_new_array() : json_object_new_object();
    if (json_object_is_type(c, json_type_array)) json_object_array_add(c, v);
    else json_object_object_add(c, "a", v);
    v = c;
  }
  return v;
}

static void expect(json_object *base, json_object *overlay, bool by_name, int want) {
  json_object *got = NULL;
  assert_int_equal(fo_podmerge(base, overlay, by_name, &got), want);
  if (want) assert_null(got); /* written only on success */
  json_object_put(got);
}

/* As deep as the JSON reader allows is merged, one level more is refused, on either side and
 * whichever path (copied, merged, by name) reaches it. */
static void test_depth(void **state) {
  (void)state;
  unsigned lim = fo_limits_default()->depth;
  for (int arrays = 0; arrays <= 1; arrays++) {
    json_object *ok = nested(lim, arrays), *deep = nested(lim + 1, arrays);
    expect(ok, NULL, false, 0);
    expect(NULL, ok, true, 0);
    expect(ok, ok, false, 0);
    expect(ok, ok, true, 0);
    expect(deep, NULL, false, -E2BIG);
    expect(NULL, deep, false, -E2BIG);
    expect(deep, deep, true, -E2BIG);
    /* the overlay's deeper part replaces the base's string; in an array the base's element stays */
    expect(ok, deep, false, arrays ? 0 : -E2BIG);
    json_object_put(ok);
    json_object_put(deep);
  }
  /* under named array elements, merged by name */
  json_object *b = tu_json("{\"v\":[{\"name\":\"n\"}]}"),
              *o = tu_json("{\"v\":[{\"name\":\"n\"}]}");
  json_object_object_add(json_object_array_get_idx(fo_json_get(o, "v"), 0), "a",
                         nested(lim - 2, false));
  expect(b, o, true, -E2BIG);
  expect(b, o, false, -E2BIG);
  json_object_put(b);
  json_object_put(o);
}

/* A template is an object: anything else is refused, and nothing written. */
static void test_not_templates(void **state) {
  (void)state;
  json_object *arr = tu_json("[1]"), *str = json_object_new_string("s"), *obj = tu_json("{}");
  expect(arr, obj, false, -EINVAL);
  expect(obj, str, true, -EINVAL);
  expect(NULL, arr, false, -EINVAL);
  json_object_put(arr);
  json_object_put(str);
  json_object_put(obj);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_cases),
      cmocka_unit_test(test_depth),
      cmocka_unit_test(test_not_templates),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}

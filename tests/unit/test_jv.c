/* The arena document (jv.h) and its reader: the arena, the accessors, equality and conversions
 * checked against json-c, duplicates past the linear scan, the string scanner at every position
 * of a word, and the in-place configuration view against the configuration json-c builds. */
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "flinkop/buf.h"
#include "flinkop/flinkconf.h"
#include "flinkop/json.h"
#include "flinkop/jv.h"
#include "testutil.h"

static const struct fo_jv *jv(struct fo_arena *a, const char *text) {
  const struct fo_jv *v;
  struct fo_parse_error e = {0};
  int r = fo_jv_parse(text, strlen(text), NULL, NULL, a, &v, &e);
  if (r != 0) fail_msg("parse %s: %s", text, e.message);
  return v;
}

static void test_arena(void **st) {
  (void)st;
  struct fo_arena a;
  fo_arena_init(&a, 1 << 20);
  void *first = NULL;
  for (size_t i = 1; i < 3000; i++) {
    char *p = fo_arena_alloc(&a, i % 97);
    assert_non_null(p);
    assert_int_equal((uintptr_t)p % 16, 0);
    memset(p, 0xab, i % 97);
    if (i == 1) first = p;
  }
  assert_true(a.total <= 1 << 20);
  char *s = fo_arena_strndup(&a, "hello world", 5);
  assert_string_equal(s, "hello");
  /* over the maximum: refused, and the arena still works */
  assert_null(fo_arena_alloc(&a, 2 << 20));
  assert_non_null(fo_arena_alloc(&a, 10));
  /* reset keeps the newest chunk when small enough, and hands its memory out again */
  size_t newest = a.total;
  fo_arena_reset(&a, SIZE_MAX);
  assert_true(a.total > 0 && a.total < newest);
  void *again = fo_arena_alloc(&a, 8);
  assert_non_null(again);
  (void)first;
  fo_arena_reset(&a, 0);
  assert_int_equal(a.total, 0);
  assert_null(a.chunks);
  fo_arena_free(&a);
}

static void test_accessors(void **st) {
  (void)st;
  struct fo_arena a;
  fo_arena_init(&a, SIZE_MAX);
  const struct fo_jv *v = jv(&a,
                             "{\"s\":\"x\",\"n\":null,\"i\":-42,\"d\":2.0,\"f\":2.5,\"b\":true,"
                             "\"o\":{\"p\":{\"q\":\"deep\"}},\"a\":[1,\"two\",null]}");
  assert_string_equal(fo_jv_get_string(v, "s"), "x");
  assert_null(fo_jv_get(v, "n")); /* a member holding null reads as absent */
  assert_null(fo_jv_get(v, "missing"));
  assert_null(fo_jv_get_object(v, "s"));
  assert_null(fo_jv_get_string(v, "i"));
  int64_t x;
  assert_true(fo_jv_as_int64(fo_jv_get(v, "i"), &x));
  assert_int_equal(x, -42);
  assert_true(fo_jv_as_int64(fo_jv_get(v, "d"), &x));
  assert_int_equal(x, 2);
  assert_false(fo_jv_as_int64(fo_jv_get(v, "f"), &x));
  assert_true(fo_jv_number(fo_jv_get(v, "f")) == 2.5);
  assert_true(fo_jv_get(v, "b")->u.b);
  assert_string_equal(fo_jv_get_string(fo_jv_path(v, "o", "p", (const char *)NULL), "q"), "deep");
  assert_null(fo_jv_path(v, "o", "x", "q", (const char *)NULL));
  const struct fo_jv *arr = fo_jv_get_array(v, "a");
  assert_non_null(arr);
  assert_int_equal(arr->n, 3);
  assert_int_equal(arr->u.items[2].type, FO_JNULL);
  assert_null(fo_jv_get(arr, "s")); /* not an object */
  assert_null(fo_jv_get(NULL, "s"));
  fo_arena_free(&a);
}

/* Pairs judged by fo_jv_equal and by json_object_equal: the two must agree with the expectation. */
static void test_equal(void **st) {
  (void)st;
  static const struct {
    const char *a, *b;
    bool equal;
  } cases[] = {
      {"{\"x\":1,\"y\":[true,null,\"s\"]}", "{\"y\":[true,null,\"s\"],\"x\":1}", true},
      {"{\"x\":1}", "{\"x\":1,\"y\":2}", false},
      {"{\"x\":1,\"y\":2}", "{\"x\":1,\"z\":2}", false},
      {"[1,2]", "[2,1]", false},
      {"1", "1.0", false},
      {"2.5", "2.50", true},
      {"\"a\"", "\"a\"", true},
      {"\"a\"", "\"ab\"", false},
      {"null", "null", true},
      {"{}", "[]", false},
      {"{\"o\":{\"a\":{\"b\":[{}]}}}", "{\"o\":{\"a\":{\"b\":[{}]}}}", true},
      {"{\"o\":{\"a\":{\"b\":[{}]}}}", "{\"o\":{\"a\":{\"b\":[[]]}}}", false},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    struct fo_arena a;
    fo_arena_init(&a, SIZE_MAX);
    bool ours = fo_jv_equal(jv(&a, cases[i].a), jv(&a, cases[i].b));
    json_object *ja = tu_json(cases[i].a), *jb = tu_json(cases[i].b);
    bool theirs = json_object_equal(ja, jb);
    if (ours != cases[i].equal || theirs != cases[i].equal)
      fail_msg("case %zu: %s vs %s: ours %d, json-c %d, expected %d", i, cases[i].a, cases[i].b,
               ours, theirs, cases[i].equal);
    json_object_put(ja);
    json_object_put(jb);
    fo_arena_free(&a);
  }
}

/* Every JSON file of the admission catalogue: the document read into the arena, converted to
 * json-c, equals json-c's own reading; and json-c converted back equals the arena's reading. */
static void test_conversions_on_catalogue(void **st) {
  (void)st;
  char dir[4096];
  snprintf(dir, sizeof dir, "%s/tests/admission", FO_SOURCE_DIR);
  DIR *d = opendir(dir);
  assert_non_null(d);
  struct dirent *de;
  size_t files = 0;
  while ((de = readdir(d))) {
    size_t n = strlen(de->d_name);
    if (n < 5 || strcmp(de->d_name + n - 5, ".json") != 0) continue;
    char rel[1024];
    snprintf(rel, sizeof rel, "tests/admission/%s", de->d_name);
    size_t len;
    char *text = tu_read_file(rel, &len);
    assert_non_null(text);
    struct fo_arena a;
    fo_arena_init(&a, SIZE_MAX);
    const struct fo_jv *v, *back;
    struct fo_parse_error e = {0};
    assert_int_equal(fo_jv_parse(text, len, NULL, NULL, &a, &v, &e), 0);
    json_object *ours, *theirs = json_tokener_parse(text);
    assert_non_null(theirs);
    assert_int_equal(fo_jv_to_json(v, &ours), 0);
    if (!json_object_equal(ours, theirs)) fail_msg("%s: converted document differs", rel);
    assert_int_equal(fo_jv_from_json(&a, theirs, &back), 0);
    if (!fo_jv_equal(back, v)) fail_msg("%s: document converted back differs", rel);
    json_object_put(ours);
    json_object_put(theirs);
    fo_arena_free(&a);
    free(text);
    files++;
  }
  closedir(d);
  assert_true(files >= 20);
}

/* Objects past the linear scan (32 keys) find duplicates through the hash table, kept or skipped.
 */
static void test_duplicates_in_large_objects(void **st) {
  (void)st;
  static const struct fo_json_filter keep_a[] = {{"a", NULL, false}, {NULL, NULL, false}};
  for (int members = 1; members <= 80; members += 7) {
    for (int dup_at = -1; dup_at < members; dup_at += members / 3 + 1) {
      for (int filtered = 0; filtered < 2; filtered++) {
        struct fo_buf b;
        fo_buf_init(&b, SIZE_MAX / 2);
        fo_buf_puts(&b, "{\"a\":1,\"o\":{");
        for (int i = 0; i < members; i++) fo_buf_printf(&b, "%s\"k%d\":%d", i ? "," : "", i, i);
        /* a duplicate of key dup_at, written with an escape half the time */
        if (dup_at >= 0) fo_buf_printf(&b, dup_at % 2 ? ",\"k%d\":0" : ",\"\\u006b%d\":0", dup_at);
        fo_buf_puts(&b, "}}");
        struct fo_arena a;
        fo_arena_init(&a, SIZE_MAX);
        const struct fo_jv *v;
        struct fo_parse_error e = {0};
        int r = fo_jv_parse(b.data, b.len, NULL, filtered ? keep_a : NULL, &a, &v, &e);
        if (dup_at < 0) {
          if (r != 0) fail_msg("%d members: %s", members, e.message);
          const struct fo_jv *o = fo_jv_get_object(v, "o");
          if (filtered) assert_null(o);
          else assert_int_equal(o->n, members);
        } else {
          char want[64];
          snprintf(want, sizeof want, "duplicate key \"k%d\"", dup_at);
          if (r != -EINVAL || !e.message || strcmp(e.message, want) != 0)
            fail_msg("%d members, duplicate of %d, filtered %d: got %d %s", members, dup_at,
                     filtered, r, e.message);
        }
        fo_parse_error_clear(&e);
        fo_arena_free(&a);
        fo_buf_free(&b);
      }
    }
  }
}

/* A special byte at every position of a 40-byte string (the scanner reads 16 and 8 bytes at a
 * time): decoded text, or the error and its column, as one byte at a time would find them. */
static void test_string_scanner_positions(void **st) {
  (void)st;
  const char *base = "abcdefghijklmnopqrstuvwxyz0123456789ABCD";
  static const struct {
    const char *raw, *decoded, *error;
  } specials[] = {
      {"\\n", "\n", NULL},
      {"\\\"", "\"", NULL},
      {"\\\\", "\\", NULL},
      {"\\u00e9", "\xc3\xa9", NULL},
      {"\xc3\xa9", "\xc3\xa9", NULL},
      {"\xf0\x9f\x98\x80", "\xf0\x9f\x98\x80", NULL},
      {"\x7f", "\x7f", NULL},
      {"\x01", NULL, "control character in string"},
      {"\x1f", NULL, "control character in string"},
      {"\xff", NULL, "invalid UTF-8 in string"},
      {"\x80", NULL, "invalid UTF-8 in string"},
  };
  for (size_t k = 0; k <= strlen(base); k++) {
    for (size_t s = 0; s < sizeof specials / sizeof specials[0]; s++) {
      char text[128], want[128];
      snprintf(text, sizeof text, "\"%.*s%s%s\"", (int)k, base, specials[s].raw, base + k);
      struct fo_arena a;
      fo_arena_init(&a, SIZE_MAX);
      const struct fo_jv *v;
      struct fo_parse_error e = {0};
      int r = fo_jv_parse(text, strlen(text), NULL, NULL, &a, &v, &e);
      if (specials[s].decoded) {
        snprintf(want, sizeof want, "%.*s%s%s", (int)k, base, specials[s].decoded, base + k);
        if (r != 0 || v->type != FO_JSTRING || strcmp(v->u.s, want) != 0 || v->n != strlen(want))
          fail_msg("special %zu at %zu: got %d %s", s, k, r, r == 0 ? v->u.s : e.message);
      } else if (r != -EINVAL || !e.message || strcmp(e.message, specials[s].error) != 0 ||
                 e.column != k + 2) {
        fail_msg("special %zu at %zu: got %d %u %s", s, k, r, e.column, e.message);
      }
      fo_parse_error_clear(&e);
      fo_arena_free(&a);
    }
  }
}

/* The configuration view reads what fo_conf_effective_new builds, key by key. */
static void test_conf_view_matches_effective(void **st) {
  (void)st;
  static const char *const confs[] = {
      "{}",
      "{\"high-availability.type\":\"kubernetes\",\"state.checkpoints.dir\":\"s3://c\"}",
      "{\"high-availability\":{\"type\":\"kubernetes\"},\"state\":{\"checkpoints\":{\"dir\":\"s3://"
      "n\"}}}",
      "{\"state.checkpoints\":{\"dir\":\"a\"},\"state\":{\"checkpoints.dir\":\"b\"}}",
      "{\"state\":{\"checkpoints.dir\":\"b\"},\"state.checkpoints\":{\"dir\":\"a\"}}",
      "{\"execution.checkpointing.interval\":10,\"state.savepoints.dir\":true,"
      "\"high-availability\":1.50}",
      "{\"state.savepoints.dir\":[\"a\",1,{\"x\":[2]}],\"high-availability.type\":null}",
      "{\"state.checkpoints.dir\":\"\",\"execution.checkpointing.dir\":\" \"}",
      "{\"kubernetes\":{\"namespace\":\"x\",\"cluster-id\":{}},\"high-availability.cluster-id\":"
      "\"y\"}",
      "{\"\":{\"state.savepoints.dir\":\"under an empty key\"},\"state.\":{\"x\":1}}",
      "{\"a\":{\"b\":{\"c\":{\"d\":\"deep\"}}},\"a.b\":{\"c.d\":\"later\"}}",
  };
  static const char *const keys[] = {
      "high-availability.type",
      "high-availability",
      "state.checkpoints.dir",
      "execution.checkpointing.dir",
      "state.savepoints.dir",
      "execution.checkpointing.savepoint-dir",
      "execution.checkpointing.interval",
      "kubernetes.namespace",
      "kubernetes.cluster-id",
      "high-availability.cluster-id",
      "a.b.c.d",
      "a.b",
      "state.",
      "state..x",
      "state",
      "",
  };
  json_object *defaults = tu_json(
      "{\"high-availability.type\":\"NONE\",\"state.savepoints.dir\":\"/default\","
      "\"execution.checkpointing.interval\":\"0\"}");
  for (size_t c = 0; c < sizeof confs / sizeof confs[0]; c++) {
    for (int with_defaults = 0; with_defaults < 2; with_defaults++) {
      json_object *spec = tu_json(confs[c]);
      json_object *eff = fo_conf_effective_new(with_defaults ? defaults : NULL, spec);
      assert_non_null(eff);
      struct fo_arena a;
      fo_arena_init(&a, SIZE_MAX);
      struct fo_conf_view cv = {
          .spec = jv(&a, confs[c]), .defaults = with_defaults ? defaults : NULL, .arena = &a};
      for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++) {
        const char *want = fo_conf_get(eff, keys[k]), *got = fo_conf_view_get(&cv, keys[k]);
        if ((want == NULL) != (got == NULL) || (want && strcmp(want, got) != 0))
          fail_msg("conf %zu (defaults %d), key '%s': effective '%s', view '%s'", c, with_defaults,
                   keys[k], want ? want : "(absent)", got ? got : "(absent)");
      }
      assert_int_equal(fo_conf_view_ha_enabled(&cv), fo_conf_ha_enabled(eff));
      const char *d1 = fo_conf_view_savepoint_dir(&cv), *d2 = fo_conf_savepoint_dir(eff);
      assert_true((d1 == NULL) == (d2 == NULL) && (!d1 || strcmp(d1, d2) == 0));
      d1 = fo_conf_view_checkpoint_dir(&cv), d2 = fo_conf_checkpoint_dir(eff);
      assert_true((d1 == NULL) == (d2 == NULL) && (!d1 || strcmp(d1, d2) == 0));
      assert_int_equal(fo_conf_view_checkpoint_interval_set(&cv),
                       fo_conf_checkpoint_interval_set(eff));
      assert_false(cv.oom);
      json_object_put(eff);
      json_object_put(spec);
      fo_arena_free(&a);
    }
  }
  json_object_put(defaults);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_arena),
      cmocka_unit_test(test_accessors),
      cmocka_unit_test(test_equal),
      cmocka_unit_test(test_conversions_on_catalogue),
      cmocka_unit_test(test_duplicates_in_large_objects),
      cmocka_unit_test(test_string_scanner_positions),
      cmocka_unit_test(test_conf_view_matches_effective),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}

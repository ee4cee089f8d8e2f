/* The JSON reader: valid input, every kind of bad input, limits, error positions. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "flinkop/json.h"
#include "json_filter_check.h"
#include "testutil.h"

static int parse(const char *s, json_object **o, struct fo_parse_error *e,
                 const struct fo_limits *lim) {
  return fo_json_parse(s, strlen(s), lim, o, e);
}

static void test_valid(void **st) {
  (void)st;
  json_object *o;
  struct fo_parse_error e = {0};
  assert_int_equal(
      parse(" {\"a\": [1, -2.5e3, true, false, null, \"x\\u00e9\\ud83d\\ude00\"], \"b\": {}} ", &o,
            &e, NULL),
      0);
  json_object *a = fo_json_get_array(o, "a");
  assert_non_null(a);
  assert_int_equal(json_object_array_length(a), 6);
  assert_int_equal(json_object_get_int64(json_object_array_get_idx(a, 0)), 1);
  assert_true(json_object_get_double(json_object_array_get_idx(a, 1)) == -2500.0);
  assert_null(json_object_array_get_idx(a, 4));
  assert_string_equal(json_object_get_string(json_object_array_get_idx(a, 5)),
                      "x\xc3\xa9\xf0\x9f\x98\x80");
  char *s = fo_json_dumps(o);
  assert_string_equal(s,
                      "{\"a\":[1,-2.5e3,true,false,null,\"x\xc3\xa9\xf0\x9f\x98\x80\"],\"b\":{}}");
  free(s);
  json_object_put(o);
}

static void test_big_integer_becomes_double(void **st) {
  (void)st;
  json_object *o;
  struct fo_parse_error e = {0};
  assert_int_equal(parse("99999999999999999999", &o, &e, NULL), 0);
  assert_true(json_object_is_type(o, json_type_double));
  int64_t v;
  assert_false(fo_json_as_int64(o, &v));
  json_object_put(o);
}

struct bad {
  const char *text;
  int rc;
  unsigned line, col;
  const char *msg;
};

static void test_bad_inputs(void **st) {
  (void)st;
  static const struct bad cases[] = {
      {"", -EINVAL, 1, 1, "unexpected end of input"},
      {"{\"a\": 1", -EINVAL, 1, 8, "unexpected end of input in object"},
      {"{\"a\": 1,\n \"a\": 2}", -EINVAL, 2, 2, "duplicate key \"a\""},
      {"[1, 2,]", -EINVAL, 1, 7, "unexpected character ']'"},
      {"{'a': 1}", -EINVAL, 1, 2, "expected a string key"},
      {"\"abc", -EINVAL, 1, 5, "unterminated string"},
      {"\"a\xff\"", -EINVAL, 1, 3, "invalid UTF-8 in string"},
      {"\"\xc0\xaf\"", -EINVAL, 1, 2, "invalid UTF-8 in string"},
      {"\"\\ud800\"", -EINVAL, 1, 8, "unpaired UTF-16 surrogate in \\u escape"},
      {"\"a\\u0000b\"", -EINVAL, 1, 9, "NUL character in string is not supported"},
      {"\"tab\there\"", -EINVAL, 1, 5, "control character in string"},
      {"1e999", -EINVAL, 1, 1, "number out of range: 1e999"},
      {"01", -EINVAL, 1, 2, "unexpected data after the JSON value"},
      {"{} {}", -EINVAL, 1, 4, "unexpected data after the JSON value"},
      {"nul", -EINVAL, 1, 1, "unexpected character 'n'"},
      {"\"\\x\"", -EINVAL, 1, 2, "invalid escape '\\x' in string"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    json_object *o = (json_object *)1;
    struct fo_parse_error e = {0};
    int r = parse(cases[i].text, &o, &e, NULL);
    if (r != cases[i].rc || !e.message || strcmp(e.message, cases[i].msg) != 0 ||
        e.line != cases[i].line || e.column != cases[i].col)
      fail_msg("case %zu (%s): got %d %u:%u %s", i, cases[i].text, r, e.line, e.column, e.message);
    assert_null(o);
    fo_parse_error_clear(&e);
  }
}

static void test_limits(void **st) {
  (void)st;
  struct fo_limits lim = *fo_limits_default();
  json_object *o;
  struct fo_parse_error e = {0};
  /* too deep */
  char deep[300];
  memset(deep, '[', 200);
  deep[200] = '\0';
  lim.depth = 64;
  assert_int_equal(parse(deep, &o, &e, &lim), -E2BIG);
  assert_string_equal(e.message, "nesting deeper than 64 levels");
  fo_parse_error_clear(&e);
  /* huge document */
  lim = *fo_limits_default();
  lim.doc_bytes = 10;
  assert_int_equal(parse("[1,2,3,4,5,6,7]", &o, &e, &lim), -E2BIG);
  fo_parse_error_clear(&e);
  /* long string */
  lim = *fo_limits_default();
  lim.string_bytes = 4;
  assert_int_equal(parse("\"abcde\"", &o, &e, &lim), -E2BIG);
  assert_string_equal(e.message, "string longer than 4 bytes");
  fo_parse_error_clear(&e);
  /* long list */
  lim = *fo_limits_default();
  lim.list_items = 3;
  assert_int_equal(parse("[1,2,3,4]", &o, &e, &lim), -E2BIG);
  fo_parse_error_clear(&e);
  assert_int_equal(parse("[1,2,3]", &o, &e, &lim), 0);
  json_object_put(o);
  /* node count */
  lim = *fo_limits_default();
  lim.nodes = 5;
  assert_int_equal(parse("[[1],[2],[3]]", &o, &e, &lim), -E2BIG);
  fo_parse_error_clear(&e);
}

/* A filtered parse accepts and rejects exactly what a full parse does, with the same error, and
 * keeps exactly the members the filter names. */
static const struct fo_json_filter part_filter[] = {
    {"a", NULL, false}, {"*", NULL, true}, {NULL, NULL, false}};
static const struct fo_json_filter test_filter[] = {
    {"keep", NULL, false}, {"part", part_filter, false}, {"gone", NULL, true}, {NULL, NULL, false}};

static void test_filtered(void **st) {
  (void)st;
  static const char *docs[] = {
      "{\"keep\":{\"x\":[1,2,{\"y\":null}]},\"part\":{\"a\":1,\"b\":{\"c\":2}},\"gone\":{\"y\":"
      "\"z\"},"
      "\"other\":3}",
      "{\"part\":[1,2],\"keep\":\"s\"}", /* a filter meets a non-object */
      "{\"gone\":{\"y\":1,\n\"y\":2}}",  /* duplicate inside a skipped object */
      "{\"gone\":1,\"gone\":2}",         /* duplicate skipped key */
      "{\"keep\":1,\"keep\":2}",         /* duplicate kept key */
      "{\"part\":{\"b\":1,\"b\":2}}",    /* duplicate in a filtered object */
      "{\"gone\":{\"k\":1},\"other\":{\"k\":2},\"x\":{\"k\":3}}", /* same key, other objects */
      "{\"gone\":[{\"k\":1},{\"k\":1}]}",                         /* same key in two array items */
      "{\"gone\":\"a\xff\"}",
      "{\"gone\":\"\\ud800\"}",
      "{\"gone\":\"\\u0000\"}",
      "{\"gone\":\"\\x\"}",
      "{\"gone\":\"tab\there\"}",
      "{\"gone\":1e999}",
      "{\"gone\":99999999999999999999,\"keep\":-0.5e-3}",
      "{\"gone\":[1,2,]}",
      "{\"gone\":1,\"gone\":tru}", /* the value's error comes first */
      "{\"gone\":{\"k\":[1,{\"\":\"\\u00e9\\ud83d\\ude00\"}]}}",
      "{\"gone\":\"abcde\",\"keep\":\"ab\"}",
      "{\"gone\":[[[[[[[[[[1]]]]]]]]]]}",
      "{\"gone\":[1,2,3,4,5,6]}",
      "{\"gone\":{\"a\":1,\"b\":2,\"c\":3,\"d\":4,\"e\":5}}",
      "{\"gone\":\"unterminated",
      "{\"gone\" 1}",
      "[{\"gone\":1}]",
  };
  struct fo_limits lims[3] = {*fo_limits_default(), *fo_limits_default(), *fo_limits_default()};
  lims[1].string_bytes = 4;
  lims[1].depth = 6;
  lims[1].list_items = 4;
  lims[2].nodes = 12;
  char why[2048];
  for (size_t l = 0; l < 3; l++)
    for (size_t i = 0; i < sizeof docs / sizeof docs[0]; i++)
      if (jfc_check(docs[i], strlen(docs[i]), &lims[l], test_filter, why, sizeof why) < 0)
        fail_msg("limits %zu, doc %zu (%s): %s", l, i, docs[i], why);
  /* the skipped parts really are not built */
  json_object *o;
  struct fo_parse_error e = {0};
  assert_int_equal(fo_json_parse_filtered(docs[0], strlen(docs[0]), NULL, test_filter, &o, &e), 0);
  char *s = fo_json_dumps(o);
  assert_string_equal(s, "{\"keep\":{\"x\":[1,2,{\"y\":null}]},\"part\":{\"a\":1}}");
  free(s);
  json_object_put(o);
}

static void test_accessors(void **st) {
  (void)st;
  json_object *o = tu_json("{\"a\":{\"b\":{\"c\":\"d\"}},\"n\":3,\"x\":2.0,\"y\":2.5}");
  assert_string_equal(json_object_get_string(fo_json_path(o, "a", "b", "c", NULL)), "d");
  assert_null(fo_json_path(o, "a", "zz", "c", NULL));
  assert_null(fo_json_get_string(o, "n"));
  int64_t v;
  assert_true(fo_json_as_int64(fo_json_get(o, "n"), &v) && v == 3);
  assert_true(fo_json_as_int64(fo_json_get(o, "x"), &v) && v == 2);
  assert_false(fo_json_as_int64(fo_json_get(o, "y"), &v));
  json_object *m = fo_json_ensure_object(o, "new");
  assert_non_null(m);
  assert_ptr_equal(m, fo_json_get_object(o, "new"));
  json_object_put(o);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_valid),      cmocka_unit_test(test_big_integer_becomes_double),
      cmocka_unit_test(test_bad_inputs), cmocka_unit_test(test_limits),
      cmocka_unit_test(test_accessors),  cmocka_unit_test(test_filtered),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}

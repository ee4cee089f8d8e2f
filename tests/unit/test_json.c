/* The JSON reader: valid input, every kind of bad input, limits, error positions. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "flinkop/json.h"
#include "testutil.h"

static int parse(const char *s, json_object **o, struct fo_parse_error *e, const struct fo_limits *lim) {
  return fo_json_parse(s, strlen(s), lim, o, e);
}

static void test_valid(void **st) {
  (void)st;
  json_object *o;
  struct fo_parse_error e = {0};
  assert_int_equal(parse(" {\"a\": [1, -2.5e3, true, false, null, \"x\\u00e9\\ud83d\\ude00\"], \"b\": {}} ", &o, &e, NULL), 0);
  json_object *a = fo_json_get_array(o, "a");
  assert_non_null(a);
  assert_int_equal(json_object_array_length(a), 6);
  assert_int_equal(json_object_get_int64(json_object_array_get_idx(a, 0)), 1);
  assert_true(json_object_get_double(json_object_array_get_idx(a, 1)) == -2500.0);
  assert_null(json_object_array_get_idx(a, 4));
  assert_string_equal(json_object_get_string(json_object_array_get_idx(a, 5)), "x\xc3\xa9\xf0\x9f\x98\x80");
  char *s = fo_json_dumps(o);
  assert_string_equal(s, "{\"a\":[1,-2.5e3,true,false,null,\"x\xc3\xa9\xf0\x9f\x98\x80\"],\"b\":{}}");
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
      cmocka_unit_test(test_accessors),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}

/* The YAML reader: kubectl's scalar resolution, multi-document streams, bad input, limits. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "flinkop/flinkconf.h"
#include "flinkop/yaml.h"
#include "testutil.h"

struct scalar {
  const char *in;
  const char *json; /* expected JSON of the resolved value */
};

static void test_plain_scalars(void **st) {
  (void)st;
  static const struct scalar cases[] = {
      {"y", "true"},
      {"Yes", "true"},
      {"ON", "true"},
      {"true", "true"},
      {"n", "false"},
      {"off", "false"},
      {"FALSE", "false"},
      {"~", "null"},
      {"null", "null"},
      {"", "null"},
      {"42", "42"},
      {"-7", "-7"},
      {"0x1F", "31"},
      {"0777", "511"},
      {"0o17", "15"},
      {"0b101", "5"},
      {"1_000", "1000"},
      {"08", "8"},
      {"1.5", "1.5"},
      {"1e3", "1000"},
      {".5", "0.5"},
      {"+12", "12"},
      {"yess", "\"yess\""},
      {"v1_20", "\"v1_20\""},
      {"2048m", "\"2048m\""},
      {"1.5Gi", "\"1.5Gi\""},
      {"TRUE", "true"},
      {"True", "true"},
      {"tRue", "\"tRue\""},
      {"0.1", "0.1"},
      {"-0", "0"},
      {"9223372036854775807", "9223372036854775807"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    json_object *o;
    assert_int_equal(fo_yaml_resolve_plain(cases[i].in, strlen(cases[i].in), &o), 0);
    const char *got = o ? json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN) : "null";
    if (strcmp(got, cases[i].json) != 0)
      fail_msg("%s: expected %s, got %s", cases[i].in, cases[i].json, got);
    json_object_put(o);
  }
  json_object *o;
  assert_int_equal(fo_yaml_resolve_plain(".inf", 4, &o), -EINVAL);
  assert_int_equal(fo_yaml_resolve_plain("-.Inf", 5, &o), -EINVAL);
  assert_int_equal(fo_yaml_resolve_plain(".nan", 4, &o), -EINVAL);
}

static void test_quoted_stay_strings(void **st) {
  (void)st;
  json_object *o =
      tu_yaml("a: 'yes'\nb: \"2\"\nc: !!str 3\nd: |\n  text\ne: yes\n\"on\": 1\non: 2\n");
  char *s = fo_json_dumps(o);
  assert_string_equal(
      s,
      "{\"a\":\"yes\",\"b\":\"2\",\"c\":\"3\",\"d\":\"text\\n\",\"e\":true,\"on\":1,\"true\":2}");
  free(s);
  json_object_put(o);
}

static void test_multi_document(void **st) {
  (void)st;
  const char *text =
      "---\na: 1\n---\n# only a comment\n---\n\n---\nb: [x, {c: d}]\n...\n---\n- 1\n";
  struct fo_yaml_doc *d;
  size_t n;
  struct fo_parse_error e = {0};
  assert_int_equal(fo_yaml_parse(text, strlen(text), NULL, &d, &n, &e), 0);
  assert_int_equal(n, 3); /* empty documents are skipped */
  assert_int_equal(d[0].line, 1);
  char *s = fo_json_dumps(d[1].root);
  assert_string_equal(s, "{\"b\":[\"x\",{\"c\":\"d\"}]}");
  free(s);
  assert_true(json_object_is_type(d[2].root, json_type_array));
  fo_yaml_docs_free(d, n);
}

struct bad {
  const char *text;
  int rc;
  unsigned line, col;
  const char *msg_prefix;
};

static void test_bad_inputs(void **st) {
  (void)st;
  static const struct bad cases[] = {
      {"a: 1\nb: [1, 2\n", -EINVAL, 3, 1, "did not find expected ',' or ']'"},
      {"a: 1\na: 2\n", -EINVAL, 2, 1, "duplicate key: a"},
      {"x:\n  k: 1\n  'k': 2\n", -EINVAL, 3, 3, "duplicate key: k"},
      {"x:\n  on: 1\n  true: 2\n", -EINVAL, 3, 3, "duplicate key: true"},
      {"a: &anchor 1\nb: *anchor\n", -EINVAL, 2, 4, "YAML aliases are not supported"},
      {"a: .inf\n", -EINVAL, 1, 4, "value not representable in JSON"},
      {"? [a]\n: 1\n", -EINVAL, 1, 3, "mapping keys must be scalars"},
      {"a: \"unterminated\n", -EINVAL, 2, 1, "found unexpected end of stream"},
      {"\tkey: 1\n", -EINVAL, 1, 1, "found character that cannot start any token"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    struct fo_yaml_doc *d = (void *)1;
    size_t n = 99;
    struct fo_parse_error e = {0};
    int r = fo_yaml_parse(cases[i].text, strlen(cases[i].text), NULL, &d, &n, &e);
    if (r != cases[i].rc || !e.message ||
        strncmp(e.message, cases[i].msg_prefix, strlen(cases[i].msg_prefix)) != 0 ||
        e.line != cases[i].line || e.column != cases[i].col)
      fail_msg("case %zu: got %d %u:%u %s", i, r, e.line, e.column, e.message);
    assert_null(d);
    assert_int_equal(n, 0);
    fo_parse_error_clear(&e);
  }
}

static void test_limits(void **st) {
  (void)st;
  struct fo_limits lim = *fo_limits_default();
  struct fo_yaml_doc *d;
  size_t n;
  struct fo_parse_error e = {0};
  char deep[400];
  size_t k = 0;
  for (int i = 0; i < 100; i++) deep[k++] = '[';
  deep[k] = '\0';
  lim.depth = 10;
  assert_int_equal(fo_yaml_parse(deep, strlen(deep), &lim, &d, &n, &e), -E2BIG);
  assert_string_equal(e.message, "nesting too deep: more than 10 levels");
  fo_parse_error_clear(&e);
  lim = *fo_limits_default();
  lim.string_bytes = 3;
  assert_int_equal(fo_yaml_parse("a: abcd\n", 8, &lim, &d, &n, &e), -E2BIG);
  fo_parse_error_clear(&e);
  lim = *fo_limits_default();
  lim.list_items = 2;
  assert_int_equal(fo_yaml_parse("[1, 2, 3]", 9, &lim, &d, &n, &e), -E2BIG);
  fo_parse_error_clear(&e);
  lim = *fo_limits_default();
  lim.documents = 2;
  assert_int_equal(fo_yaml_parse("a: 1\n---\nb: 1\n---\nc: 1\n", 23, &lim, &d, &n, &e), -E2BIG);
  fo_parse_error_clear(&e);
  lim = *fo_limits_default();
  lim.doc_bytes = 4;
  assert_int_equal(fo_yaml_parse("a: 12345", 8, &lim, &d, &n, &e), -E2BIG);
  fo_parse_error_clear(&e);
  /* truncated in the middle of a flow mapping */
  assert_int_equal(fo_yaml_parse("a: {b: 1, c:", 12, NULL, &d, &n, &e), -EINVAL);
  assert_true(e.line >= 1);
  fo_parse_error_clear(&e);
}

static void test_flink_configuration_flattening(void **st) {
  (void)st;
  json_object *spec = tu_yaml(
      "flinkConfiguration:\n"
      "  taskmanager.numberOfTaskSlots: 2\n"
      "  state:\n    checkpoints:\n      dir: s3://b/cp\n"
      "  execution.checkpointing.unaligned: yes\n"
      "  ratio: 0.5\n"
      "  list: [a, b]\n"
      "  gone: null\n");
  json_object *defaults =
      tu_json("{\"parallelism.default\":\"1\",\"taskmanager.numberOfTaskSlots\":\"1\"}");
  json_object *conf = fo_conf_effective_new(defaults, fo_json_get(spec, "flinkConfiguration"));
  json_object_put(defaults);
  char *s = fo_json_dumps(conf);
  assert_string_equal(
      s,
      "{\"parallelism.default\":\"1\",\"taskmanager.numberOfTaskSlots\":\"2\","
      "\"state.checkpoints.dir\":\"s3://b/cp\",\"execution.checkpointing.unaligned\":\"true\","
      "\"ratio\":\"0.5\",\"list\":\"a;b\"}");
  free(s);
  json_object_put(conf);
  json_object_put(spec);
}

/* Flink Durations and limit factors, as Flink reads them (TimeUtils.parseDuration). */
static void test_durations_and_factors(void **state) {
  (void)state;
  static const struct {
    const char *in;
    int r;
    int64_t ms;
  } d[] = {
      {"5 min", 0, 300000},
      {"300s", 0, 300000},
      {"10", 0, 10},
      {"1h", 0, 3600000},
      {"2 d", 0, 172800000},
      {"250 ms", 0, 250},
      {" 3 MIN ", 0, 180000},
      {"1500us", 0, 1},
      {"999999ns", 0, 0},
      {"7 seconds", 0, 7000},
      {"1 minute", 0, 60000},
      {"0", 0, 0},
      {"", -EINVAL, 0},
      {"min", -EINVAL, 0},
      {"5 fortnights", -EINVAL, 0},
      {"-5s", -EINVAL, 0},
      {"1.5s", -EINVAL, 0},
      {"400 d", -EINVAL, 0},
      {"99999999999999999999", -EINVAL, 0},
      {"5s5", -EINVAL, 0},
  };
  for (size_t i = 0; i < sizeof d / sizeof d[0]; i++) {
    int64_t ms = -1;
    int r = fo_duration_parse(d[i].in, &ms);
    if (r != d[i].r || (r == 0 && ms != d[i].ms))
      fail_msg("\"%s\": want %d/%lld, got %d/%lld", d[i].in, d[i].r, (long long)d[i].ms, r,
               (long long)ms);
  }
  assert_int_equal(fo_duration_parse(NULL, &(int64_t){0}), -EINVAL);
  /* the checkpoint statistics cache: its own key, else web.refresh-interval, else 3 s */
  static const struct {
    const char *conf;
    int64_t ms;
  } sc[] = {{"{}", 3000},
            {"{\"web.refresh-interval\":\"10000\"}", 10000},
            {"{\"web.refresh-interval\":\"1 s\",\"rest.cache.checkpoint-statistics.timeout\":"
             "\"5 s\"}",
             5000},
            {"{\"rest.cache.checkpoint-statistics.timeout\":\"soon\"}", 3000}};
  for (size_t i = 0; i < sizeof sc / sizeof sc[0]; i++) {
    json_object *c = json_tokener_parse(sc[i].conf);
    assert_non_null(c);
    if (fo_conf_stats_cache_ms(c) != sc[i].ms)
      fail_msg("%s: want %lld ms, got %lld", sc[i].conf, (long long)sc[i].ms,
               (long long)fo_conf_stats_cache_ms(c));
    json_object_put(c);
  }
  assert_int_equal(fo_conf_stats_cache_ms(NULL), 3000);
  static const struct {
    const char *in;
    int r;
    double f;
  } f[] = {{NULL, 0, 1},        {"1", 0, 1},         {"2.5", 0, 2.5},
           {"1000", 0, 1000},   {"0.5", -EINVAL, 1}, {"1001", -EINVAL, 1},
           {"nan", -EINVAL, 1}, {"2x", -EINVAL, 1},  {"", -EINVAL, 1}};
  for (size_t i = 0; i < sizeof f / sizeof f[0]; i++) {
    double v = -1;
    int r = fo_limit_factor_parse(f[i].in, &v);
    if (r != f[i].r || v != f[i].f)
      fail_msg("factor \"%s\": want %d/%g, got %d/%g", f[i].in ? f[i].in : "(null)", f[i].r, f[i].f,
               r, v);
  }
}

/* Flink's map and list-of-maps options, as kubernetes.jobmanager.labels and .tolerations are
 * written: the parsed JSON, or the error. */
static void test_conf_maps(void **state) {
  (void)state;
  static const struct {
    const char *in;
    bool list;
    const char *want; /* JSON, or NULL for -EINVAL */
  } d[] = {
      {"version:alphav1,deploy:test", false, "{\"version\":\"alphav1\",\"deploy\":\"test\"}"},
      {" a : b , c:d ", false, "{\"a\":\"b\",\"c\":\"d\"}"},
      {"", false, "{}"},
      {NULL, false, "{}"},
      {"k:'v,with:commas'", false, "{\"k\":\"v,with:commas\"}"},
      {"\"it\"\"s\":x", false, "{\"it\\\"s\":\"x\"}"},
      {"k:", false, "{\"k\":\"\"}"},
      {"a:b:c", false, NULL},
      {"novalue", false, NULL},
      {":v", false, NULL},
      {"k:'open", false, NULL},
      {"k:'q'x", false, NULL},
      {"a:b;c:d", false, NULL},
      {"key:k1,operator:Equal,value:v1,effect:NoSchedule;key:k2,operator:Exists", true,
       "[{\"key\":\"k1\",\"operator\":\"Equal\",\"value\":\"v1\",\"effect\":\"NoSchedule\"},"
       "{\"key\":\"k2\",\"operator\":\"Exists\"}]"},
      {"key:k1;", true, "[{\"key\":\"k1\"}]"},
      {"", true, "[]"},
      {"key:k1;;key:k2", true, NULL},
  };
  for (size_t i = 0; i < sizeof d / sizeof d[0]; i++) {
    json_object *o = NULL;
    const char *why = NULL;
    int r = fo_conf_map_parse(d[i].in, d[i].list, &o, &why);
    if (!d[i].want) {
      if (r != -EINVAL || o || !why) fail_msg("\"%s\": want -EINVAL, got %d", d[i].in, r);
      continue;
    }
    json_object *want = json_tokener_parse(d[i].want);
    if (r || !json_object_equal(o, want))
      fail_msg("\"%s\": want %s, got %d %s", d[i].in ? d[i].in : "(null)", d[i].want, r,
               o ? json_object_to_json_string(o) : "-");
    json_object_put(want);
    json_object_put(o);
  }
  /* bounded: 65 entries, or over 4 KiB of text */
  char many[65 * 4 + 1] = "", *w = many;
  for (int i = 0; i < 65; i++) w += snprintf(w, 5, "%c:x,", 'A' + i % 26);
  json_object *o = NULL;
  const char *why = NULL;
  assert_int_equal(fo_conf_map_parse(many, false, &o, &why), -EINVAL);
  char *big = malloc(5000);
  memset(big, 'a', 4999);
  big[0] = 'k';
  big[1] = ':';
  big[4999] = 0;
  assert_int_equal(fo_conf_map_parse(big, false, &o, &why), -EINVAL);
  free(big);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_plain_scalars),
      cmocka_unit_test(test_quoted_stay_strings),
      cmocka_unit_test(test_multi_document),
      cmocka_unit_test(test_bad_inputs),
      cmocka_unit_test(test_limits),
      cmocka_unit_test(test_flink_configuration_flattening),
      cmocka_unit_test(test_durations_and_factors),
      cmocka_unit_test(test_conf_maps),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}

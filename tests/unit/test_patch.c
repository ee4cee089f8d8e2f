/* JSON Patch: pointer escaping, apply (RFC 6902 operations and failures), merge patch, and the
 * defaults patch applied and compared with the expected object. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "flinkop/defaults.h"
#include "flinkop/jsonpatch.h"
#include "testutil.h"

static void assert_json_eq(json_object *got, const char *want_text) {
  json_object *want = tu_json(want_text);
  if (!json_object_equal(got, want)) {
    fail_msg("JSON differs:\n  got:  %s\n  want: %s",
             got ? json_object_to_json_string(got) : "null", want_text);
  }
  json_object_put(want);
}

static void test_pointer_escaping(void **st) {
  (void)st;
  struct fo_buf b;
  fo_buf_init(&b, 1024);
  assert_int_equal(fo_pointer_append(&b, "metadata"), 0);
  assert_int_equal(fo_pointer_append(&b, "app.kubernetes.io/managed-by"), 0);
  assert_int_equal(fo_pointer_append(&b, "a~b/c"), 0);
  assert_string_equal(b.data, "/metadata/app.kubernetes.io~1managed-by/a~0b~1c");
  fo_buf_free(&b);
}

struct apply_case {
  const char *doc, *patch, *want; /* want NULL: must fail */
};

static void test_apply(void **st) {
  (void)st;
  static const struct apply_case cases[] = {
      {"{\"a\":1}", "[{\"op\":\"add\",\"path\":\"/b\",\"value\":2}]", "{\"a\":1,\"b\":2}"},
      {"{\"a\":1}", "[{\"op\":\"add\",\"path\":\"/a\",\"value\":2}]", "{\"a\":2}"},
      {"{\"a\":[1,3]}", "[{\"op\":\"add\",\"path\":\"/a/1\",\"value\":2}]", "{\"a\":[1,2,3]}"},
      {"{\"a\":[1]}", "[{\"op\":\"add\",\"path\":\"/a/-\",\"value\":2}]", "{\"a\":[1,2]}"},
      {"{\"a\":[1]}", "[{\"op\":\"add\",\"path\":\"/a/5\",\"value\":2}]", NULL},
      {"{\"a\":1}", "[{\"op\":\"remove\",\"path\":\"/a\"}]", "{}"},
      {"{\"a\":1}", "[{\"op\":\"remove\",\"path\":\"/b\"}]", NULL},
      {"{\"a\":1}", "[{\"op\":\"replace\",\"path\":\"/a\",\"value\":[1]}]", "{\"a\":[1]}"},
      {"{\"a\":1}", "[{\"op\":\"replace\",\"path\":\"/b\",\"value\":1}]", NULL},
      {"{\"a\":{\"x\":1}}", "[{\"op\":\"move\",\"from\":\"/a/x\",\"path\":\"/y\"}]",
       "{\"a\":{},\"y\":1}"},
      {"{\"a\":{\"x\":1}}", "[{\"op\":\"move\",\"from\":\"/a\",\"path\":\"/a/b\"}]", NULL},
      {"{\"a\":{\"x\":1}}", "[{\"op\":\"copy\",\"from\":\"/a\",\"path\":\"/b\"}]",
       "{\"a\":{\"x\":1},\"b\":{\"x\":1}}"},
      {"{\"a\":1}", "[{\"op\":\"test\",\"path\":\"/a\",\"value\":1}]", "{\"a\":1}"},
      {"{\"a\":1}", "[{\"op\":\"test\",\"path\":\"/a\",\"value\":2}]", NULL},
      {"{\"a/b\":{\"~\":1}}", "[{\"op\":\"replace\",\"path\":\"/a~1b/~0\",\"value\":2}]",
       "{\"a/b\":{\"~\":2}}"},
      {"{}", "[{\"op\":\"add\",\"path\":\"/x/y\",\"value\":1}]", NULL},
      {"{}", "[{\"op\":\"frob\",\"path\":\"/x\"}]", NULL},
      {"{}", "[{\"op\":\"add\",\"path\":\"x\",\"value\":1}]", NULL},
      {"{}", "[{\"op\":\"add\",\"path\":\"/x~2\",\"value\":1}]", NULL},
      {"{\"a\":1}",
       "[{\"op\":\"add\",\"path\":\"/b\",\"value\":2},{\"op\":\"test\",\"path\":\"/"
       "a\",\"value\":9}]",
       NULL},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    json_object *doc = tu_json(cases[i].doc), *patch = tu_json(cases[i].patch), *out;
    const char *why;
    int r = fo_patch_apply(doc, patch, 100, &out, &why);
    if (cases[i].want) {
      if (r != 0) fail_msg("case %zu: failed: %s", i, why);
      assert_json_eq(out, cases[i].want);
      json_object_put(out);
    } else {
      if (r != -EINVAL) fail_msg("case %zu: expected failure, got %d", i, r);
      assert_non_null(why);
      assert_null(out);
    }
    /* the input document is never modified */
    assert_json_eq(doc, cases[i].doc);
    json_object_put(doc);
    json_object_put(patch);
  }
  json_object *doc = tu_json("{}"),
              *patch = tu_json(
                  "[{\"op\":\"test\",\"path\":\"\",\"value\":{}},{\"op\":\"test\",\"path\":\"\","
                  "\"value\":{}}]"),
              *out;
  const char *why;
  assert_int_equal(fo_patch_apply(doc, patch, 1, &out, &why), -E2BIG);
  json_object_put(doc);
  json_object_put(patch);
}

static void test_merge_patch(void **st) {
  (void)st;
  json_object *doc = tu_json("{\"a\":{\"b\":1,\"c\":2},\"d\":[1]}");
  json_object *p = tu_json("{\"a\":{\"b\":null,\"e\":3},\"d\":{\"x\":1}}");
  json_object *out = fo_merge_patch_new(doc, p);
  assert_json_eq(out, "{\"a\":{\"c\":2,\"e\":3},\"d\":{\"x\":1}}");
  json_object_put(out);
  json_object_put(doc);
  json_object_put(p);
}

struct defaults_case {
  const char *in, *patch, *out;
};

static void test_defaults(void **st) {
  (void)st;
  static const struct defaults_case cases[] = {
      /* everything missing */
      {"{\"metadata\":{\"name\":\"a\"},\"spec\":{\"job\":{\"jarURI\":\"x\"}}}",
       "[{\"op\":\"add\",\"path\":\"/metadata/labels\",\"value\":{\"app.kubernetes.io/"
       "managed-by\":\"flink-operator\"}},"
       "{\"op\":\"add\",\"path\":\"/spec/job/state\",\"value\":\"running\"},"
       "{\"op\":\"add\",\"path\":\"/spec/job/upgradeMode\",\"value\":\"stateless\"},"
       "{\"op\":\"add\",\"path\":\"/spec/mode\",\"value\":\"native\"},"
       "{\"op\":\"add\",\"path\":\"/spec/jobManager\",\"value\":{\"replicas\":1}}]",
       "{\"metadata\":{\"name\":\"a\",\"labels\":{\"app.kubernetes.io/"
       "managed-by\":\"flink-operator\"}},"
       "\"spec\":{\"job\":{\"jarURI\":\"x\",\"state\":\"running\",\"upgradeMode\":\"stateless\"},"
       "\"mode\":\"native\",\"jobManager\":{\"replicas\":1}}}"},
      /* labels exist: the key needs ~1 escaping; user values are kept */
      {"{\"metadata\":{\"labels\":{\"team\":\"x\"}},\"spec\":{\"job\":{\"state\":\"suspended\","
       "\"upgradeMode\":\"savepoint\"},\"jobManager\":{\"resource\":{}}}}",
       "[{\"op\":\"add\",\"path\":\"/metadata/labels/"
       "app.kubernetes.io~1managed-by\",\"value\":\"flink-operator\"},"
       "{\"op\":\"add\",\"path\":\"/spec/mode\",\"value\":\"native\"},"
       "{\"op\":\"add\",\"path\":\"/spec/jobManager/replicas\",\"value\":1}]",
       "{\"metadata\":{\"labels\":{\"team\":\"x\",\"app.kubernetes.io/"
       "managed-by\":\"flink-operator\"}},"
       "\"spec\":{\"job\":{\"state\":\"suspended\",\"upgradeMode\":\"savepoint\"},\"jobManager\":{"
       "\"resource\":{},\"replicas\":1},\"mode\":\"native\"}}"},
      /* nothing to do: empty patch; a user's own managed-by value is not touched */
      {"{\"metadata\":{\"labels\":{\"app.kubernetes.io/"
       "managed-by\":\"argocd\"}},\"spec\":{\"mode\":\"standalone\",\"jobManager\":{\"replicas\":2}"
       "}}",
       "[]",
       "{\"metadata\":{\"labels\":{\"app.kubernetes.io/"
       "managed-by\":\"argocd\"}},\"spec\":{\"mode\":\"standalone\",\"jobManager\":{\"replicas\":2}"
       "}}"},
      /* explicit nulls count as unset */
      {"{\"metadata\":{\"labels\":{\"app.kubernetes.io/"
       "managed-by\":\"x\"}},\"spec\":{\"mode\":null,\"jobManager\":{\"replicas\":1},\"job\":{"
       "\"state\":null,\"upgradeMode\":\"last-state\"}}}",
       "[{\"op\":\"add\",\"path\":\"/spec/job/"
       "state\",\"value\":\"running\"},{\"op\":\"add\",\"path\":\"/spec/"
       "mode\",\"value\":\"native\"}]",
       "{\"metadata\":{\"labels\":{\"app.kubernetes.io/"
       "managed-by\":\"x\"}},\"spec\":{\"mode\":\"native\",\"jobManager\":{\"replicas\":1},\"job\":"
       "{\"state\":\"running\",\"upgradeMode\":\"last-state\"}}}"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    json_object *in = tu_json(cases[i].in), *patch, *out;
    assert_int_equal(fo_defaults_patch_json(in, NULL, &patch), 0);
    assert_json_eq(patch, cases[i].patch);
    const char *why;
    assert_int_equal(fo_patch_apply(in, patch, 100, &out, &why), 0);
    assert_json_eq(out, cases[i].out);
    /* idempotent: the mutated object needs nothing more */
    json_object *again;
    assert_int_equal(fo_defaults_patch_json(out, NULL, &again), 0);
    assert_int_equal(json_object_array_length(again), 0);
    json_object_put(again);
    json_object_put(out);
    json_object_put(patch);
    json_object_put(in);
  }
}

/* The default service account: filled in when the spec names none and no pod template does;
 * a spec's own, or a template's, is kept. */
static void test_default_service_account(void **state) {
  (void)state;
  static const struct {
    const char *spec, *want; /* want: spec.serviceAccount after the patch, "" = none */
  } cases[] = {
      {"{\"mode\":\"native\",\"jobManager\":{\"replicas\":1}}", "flink"},
      {"{\"mode\":\"native\",\"jobManager\":{\"replicas\":1},\"serviceAccount\":\"mine\"}", "mine"},
      {"{\"mode\":\"native\",\"jobManager\":{\"replicas\":1},\"serviceAccount\":null}", "flink"},
      {"{\"mode\":\"native\",\"jobManager\":{\"replicas\":1},\"podTemplate\":{\"spec\":{"
       "\"serviceAccount\":\"seed\"}}}",
       ""},
      {"{\"mode\":\"native\",\"jobManager\":{\"replicas\":1},\"taskManager\":{\"podTemplate\":{"
       "\"spec\":{\"serviceAccountName\":\"tm\"}}}}",
       ""},
      {"{\"mode\":\"native\",\"jobManager\":{\"replicas\":1,\"podTemplate\":{\"spec\":{"
       "\"serviceAccountName\":\"\"}}}}",
       "flink"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    char text[1024];
    snprintf(text, sizeof text,
             "{\"metadata\":{\"labels\":{\"app.kubernetes.io/managed-by\":\"x\"}},\"spec\":%s}",
             cases[i].spec);
    json_object *in = tu_json(text), *patch, *out;
    assert_int_equal(fo_defaults_patch_json(in, "flink", &patch), 0);
    const char *why;
    assert_int_equal(fo_patch_apply(in, patch, 100, &out, &why), 0);
    const char *got = fo_json_get_string(fo_json_get_object(out, "spec"), "serviceAccount");
    if (strcmp(got ? got : "", cases[i].want))
      fail_msg("%s: serviceAccount '%s', want '%s'", cases[i].spec, got ? got : "", cases[i].want);
    json_object_put(out);
    json_object_put(patch);
    json_object_put(in);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_pointer_escaping),
      cmocka_unit_test(test_default_service_account),
      cmocka_unit_test(test_apply),
      cmocka_unit_test(test_merge_patch),
      cmocka_unit_test(test_defaults),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}

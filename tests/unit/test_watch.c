/* The watch-stream parser: events split at every possible byte, blank lines, bad lines, the
 * line limit. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "flinkop/watchparse.h"
#include "testutil.h"

struct got {
  char types[16][16];
  char names[16][32];
  int n;
};

static int on_event(void *ud, const char *type, json_object *obj) {
  struct got *g = ud;
  if (g->n < 16) {
    snprintf(g->types[g->n], sizeof g->types[0], "%s", type);
    const char *name = fo_json_get_string(fo_json_get_object(obj, "metadata"), "name");
    snprintf(g->names[g->n], sizeof g->names[0], "%s", name ? name : "");
  }
  g->n++;
  return 0;
}

static const char *STREAM =
    "{\"type\":\"ADDED\",\"object\":{\"metadata\":{\"name\":\"a\",\"resourceVersion\":\"1\"}}}\n"
    "\n"
    "{\"type\":\"MODIFIED\",\"object\":{\"metadata\":{\"name\":\"b\",\"resourceVersion\":\"2\"}}}"
    "\r\n"
    "{\"type\":\"BOOKMARK\",\"object\":{\"metadata\":{\"resourceVersion\":\"3\"}}}\n"
    "{\"type\":\"DELETED\",\"object\":{\"metadata\":{\"name\":\"a\",\"resourceVersion\":\"4\"}}}\n";

static void test_split_anywhere(void **st) {
  (void)st;
  size_t len = strlen(STREAM);
  for (size_t cut = 0; cut <= len; cut++) {
    struct got g = {0};
    struct fo_watch_parser p;
    fo_watch_parser_init(&p, 4096, on_event, &g);
    assert_int_equal(fo_watch_parser_feed(&p, STREAM, cut), 0);
    assert_int_equal(fo_watch_parser_feed(&p, STREAM + cut, len - cut), 0);
    assert_int_equal(g.n, 4);
    assert_string_equal(g.types[0], "ADDED");
    assert_string_equal(g.names[1], "b");
    assert_string_equal(g.types[2], "BOOKMARK");
    assert_string_equal(g.types[3], "DELETED");
    fo_watch_parser_free(&p);
  }
  /* one byte at a time */
  struct got g = {0};
  struct fo_watch_parser p;
  fo_watch_parser_init(&p, 4096, on_event, &g);
  for (size_t i = 0; i < len; i++) assert_int_equal(fo_watch_parser_feed(&p, STREAM + i, 1), 0);
  assert_int_equal(g.n, 4);
  fo_watch_parser_free(&p);
}

static void test_bad_lines(void **st) {
  (void)st;
  struct {
    const char *in;
    int rc;
    const char *why;
  } cases[] = {
      {"{\"type\":\"ADDED\"}\n", -EINVAL, "watch event without type or object"},
      {"{\"type\":\"ADDED\",\"object\":\"x\"}\n", -EINVAL, "watch event without type or object"},
      {"not json\n", -EINVAL, "watch event is not valid JSON: unexpected character 'n'"},
      {"{\"kind\":\"Status\",\"code\":403}\n", -EINVAL, "watch event without type or object"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    struct got g = {0};
    struct fo_watch_parser p;
    fo_watch_parser_init(&p, 4096, on_event, &g);
    assert_int_equal(fo_watch_parser_feed(&p, cases[i].in, strlen(cases[i].in)), cases[i].rc);
    assert_string_equal(p.error, cases[i].why);
    assert_int_equal(g.n, 0);
    fo_watch_parser_free(&p);
  }
  /* a line over the limit, even without a newline yet */
  struct got g = {0};
  struct fo_watch_parser p;
  fo_watch_parser_init(&p, 64, on_event, &g);
  char big[200];
  memset(big, 'x', sizeof big);
  assert_int_equal(fo_watch_parser_feed(&p, big, 40), 0);
  assert_int_equal(fo_watch_parser_feed(&p, big, 40), -E2BIG);
  fo_watch_parser_free(&p);
}

static int stop_after_one(void *ud, const char *type, json_object *obj) {
  (void)type, (void)obj;
  return ++*(int *)ud >= 1 ? -ECANCELED : 0;
}

static void test_callback_stops(void **st) {
  (void)st;
  int n = 0;
  struct fo_watch_parser p;
  fo_watch_parser_init(&p, 4096, stop_after_one, &n);
  assert_int_equal(fo_watch_parser_feed(&p, STREAM, strlen(STREAM)), -ECANCELED);
  assert_int_equal(n, 1);
  fo_watch_parser_free(&p);
}

int main(void) {
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_split_anywhere),
                                     cmocka_unit_test(test_bad_lines),
                                     cmocka_unit_test(test_callback_stops)};
  return cmocka_run_group_tests(tests, NULL, NULL);
}

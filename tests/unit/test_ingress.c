/* The ingress template reader (common/src/ingress.c): templates as the reference's users write
 * them, read as Java's URL reads them, into the Ingress rule's host and path; and the templates
 * Java refuses, with its words. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "flinkop/ingress.h"
#include "testutil.h"

static void test_render(void **state) {
  (void)state;
  static const struct {
    const char *tmpl, *host, *path; /* NULL: none in the rule */
  } cases[] = {
      {"{{name}}.example.com", "web.example.com", NULL},
      {"{{NAME}}.{{Namespace}}.example.com", "web.jobs.example.com", NULL},
      {"example.com/{{namespace}}/{{name}}(/|$)(.*)", "example.com", "/jobs/web(/|$)(.*)"},
      {"/{{name}}", NULL, "/web"},
      {"https://flink.example.com:8443/ui", "flink.example.com", "/ui"},
      {"HTTP://flink.example.com/", "flink.example.com", "/"},
      {"flink.example.com/ui?x=1#top", "flink.example.com", "/ui"},
      {"user:pw@flink.example.com:80/ui", "flink.example.com", "/ui"},
      {"a@b@flink.example.com/ui", NULL, "/ui"}, /* two '@': Java keeps no host */
      {"[::1]:8081/ui", "[::1]", "/ui"},
      {"flink.example.com:", "flink.example.com", NULL},         /* an empty port is none */
      {"ftp://flink.example.com", "ftp", "//flink.example.com"}, /* http:// put in front */
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    struct fo_ingress_url u;
    char why[256];
    int r = fo_ingress_render(cases[i].tmpl, "web", "jobs", &u, why, sizeof why);
    if (r != 0) fail_msg("%s: %d %s", cases[i].tmpl, r, why);
    if ((cases[i].host == NULL) != (u.host == NULL) || (u.host && strcmp(u.host, cases[i].host)) ||
        (cases[i].path == NULL) != (u.path == NULL) || (u.path && strcmp(u.path, cases[i].path)))
      fail_msg("%s: host '%s' path '%s', want '%s' '%s'", cases[i].tmpl, u.host ? u.host : "(none)",
               u.path ? u.path : "(none)", cases[i].host ? cases[i].host : "(none)",
               cases[i].path ? cases[i].path : "(none)");
    fo_ingress_url_free(&u);
  }
}

static void test_refused(void **state) {
  (void)state;
  static const struct {
    const char *tmpl, *why;
  } cases[] = {
      {"example.com:port", "Error at index 0 in: \"port\""},
      {"example.com:80x/ui", "Error at index 2 in: \"80x\""},
      {"example.com:2147483648", "Error at index 9 in: \"2147483648\""},
      {"example.com:-5", "Invalid port number :-5"},
      {"example.com:-", "For input string: \"-\""},
      {"http://[flink]/ui", "Invalid host: [flink]"},
      {"http://[::1]x/ui", "Invalid authority field: [::1]x"},
      {"http://[]/ui", "Invalid authority field: []"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    struct fo_ingress_url u;
    char why[256];
    int r = fo_ingress_render(cases[i].tmpl, "web", "jobs", &u, why, sizeof why);
    if (r != -EINVAL || strcmp(why, cases[i].why))
      fail_msg("%s: %d '%s', want '%s'", cases[i].tmpl, r, why, cases[i].why);
    assert_null(u.host);
    assert_null(u.path);
  }
  /* the limits */
  char *big = malloc(FO_INGRESS_TEMPLATE_MAX + 2);
  assert_non_null(big);
  memset(big, 'a', FO_INGRESS_TEMPLATE_MAX + 1);
  big[FO_INGRESS_TEMPLATE_MAX + 1] = '\0';
  struct fo_ingress_url u;
  char why[256];
  assert_int_equal(fo_ingress_render(big, "web", "jobs", &u, why, sizeof why), -E2BIG);
  /* within the template's limit, past the rendered one: every {{name}} a long name */
  for (size_t i = 0; i + 8 <= FO_INGRESS_TEMPLATE_MAX; i += 8) memcpy(big + i, "{{name}}", 8);
  big[FO_INGRESS_TEMPLATE_MAX - FO_INGRESS_TEMPLATE_MAX % 8] = '\0';
  assert_int_equal(fo_ingress_render(big, "a-name-of-some-length", "jobs", &u, why, sizeof why),
                   -E2BIG);
  assert_non_null(strstr(why, "longer than"));
  free(big);
}

int main(void) {
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_render), cmocka_unit_test(test_refused)};
  return cmocka_run_group_tests(tests, NULL, NULL);
}
